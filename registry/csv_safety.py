"""Formula-injection protection for every spreadsheet-like file the registry writes.

OWASP's CSV-injection rule: a spreadsheet runs a cell as a formula when it begins with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return. Spreadsheets also accept the full-width forms
(``＝ ＋ － ＠``) and skip leading white space, so a cell whose first character after any white
space is one of those (or NUL) is written with a single quote in front (``'=1+1``), which
spreadsheets show as text. The only exception is a value that is genuinely a finite number
(``-3.5``, ``+2``, ``1e-3``): it is not a formula, and must stay numeric for R, Stata and SPSS.

Reading back is one rule (``unguard``): a cell that begins with ``'`` loses it when the rest
would have been neutralised. A value that itself begins with ``'`` before a formula character
gets one more ``'``, so every value survives the round trip exactly.

Every CSV writer of the project comes from here: ``writer`` (every cell neutralised) or
``round_trip_writer`` (the data-dictionary round trip, which must stay what REDCap reads).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable
from typing import IO, Any

TRIGGERS = "=+@\t\r\x00\uff1d\uff0b\uff0d\uff20-"  # "-" last: literal in a character class
# Characters spreadsheets skip before looking for a formula (ASCII and Unicode spaces, BOM).
LEADING_SPACE = (
    " \t\r\n\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
)
FORMULA_START = f"[{LEADING_SPACE}]*[{TRIGGERS}]"
PLAIN_NUMBER = r"[-+]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)([eE][-+]?[0-9]+)?"

_FORMULA_START = re.compile(FORMULA_START)
_PLAIN_NUMBER = re.compile(PLAIN_NUMBER)
# The first characters that send a cell to the slow check (the rest are left as they are).
_FIRST_CLASS = re.compile(f"['{LEADING_SPACE}{TRIGGERS}]")
_CHECK_FIRST = frozenset(
    c for c in map(chr, [*range(0x3001), *range(0xFEFF, 0xFF21)]) if _FIRST_CLASS.match(c)
)
_SEPARATOR = "\x01"
_CELL_TO_CHECK = re.compile(f"{_SEPARATOR}['{LEADING_SPACE}{TRIGGERS}]")
# A cell to check after the first, in a row joined by commas with no comma inside a cell.
_NEXT_CELL_TO_CHECK = re.compile(f",['{LEADING_SPACE}{TRIGGERS}]")


def _is_finite_number(text: str) -> bool:
    if not _PLAIN_NUMBER.fullmatch(text):
        return False
    return math.isfinite(float(text.replace(",", ".")))


def is_formula(text: str) -> bool:
    """Whether a spreadsheet would run this cell text as a formula."""
    return bool(_FORMULA_START.match(text)) and not _is_finite_number(text)


def _needs_quote(text: str) -> bool:
    return is_formula(text.lstrip("'"))


def safe_cell(value: object) -> str:
    """The cell text, with a leading ``'`` if a spreadsheet would run it as a formula."""
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    if text and text[0] in _CHECK_FIRST and _needs_quote(text):
        return "'" + text
    return text


def unguard(text: str) -> str:
    """The value a neutralised cell stood for (the inverse of safe_cell)."""
    if text.startswith("'") and _needs_quote(text[1:]):
        return text[1:]
    return text


class _SafeWriter:
    """A csv.writer whose every cell goes through safe_cell."""

    def __init__(self, file: IO[str], **kwargs: Any) -> None:
        self._writer = csv.writer(file, **kwargs)
        # The default dialect with no more than its line end changed: a row of text cells with
        # no comma, quote or line break in them is its cells joined by commas.
        self._plain = set(kwargs) <= {"lineterminator"}
        self._write = file.write
        self._end = kwargs.get("lineterminator", "\r\n")

    def writerow(self, row: Iterable[object]) -> Any:
        row = row if type(row) is list else list(row)
        if self._plain and len(row) > 1:  # csv.writer quotes a row's only cell when empty
            try:
                line = ",".join(row)
            except TypeError:  # a cell that is not text: None, a number, a list
                line = None
            # No comma inside a cell (each one a cell boundary) and nothing csv.writer quotes:
            # the row is its cells joined by commas, and the cells to check are the first and
            # those after a comma followed by a character of the class above (one search).
            if (
                line is not None
                and line.count(",") == len(row) - 1
                and '"' not in line
                and "\n" not in line
                and "\r" not in line
            ):
                if row[0][:1] in _CHECK_FIRST or _NEXT_CELL_TO_CHECK.search(line):
                    row = row.copy()
                    row[0] = safe_cell(row[0])
                    for found in _NEXT_CELL_TO_CHECK.finditer(line):
                        i = line.count(",", 0, found.start()) + 1
                        row[i] = safe_cell(row[i])
                    line = ",".join(row)  # safe_cell only puts a "'" in front
                return self._write(line + self._end)
        return self._checked_cells(row)

    def _checked_cells(self, row: list) -> Any:
        check = _CHECK_FIRST  # most cells are decided by their first character alone
        # The usual row, all text with no cell to check, is decided in C: its cells joined by
        # a character of no class above (which fails on a cell that is not text: None, a
        # number, a list), searched for a cell start of the class. A cell holding the separator
        # before such a character is a false hit, which only costs the check cell by cell.
        try:
            joined = _SEPARATOR.join(row)
        except TypeError:
            joined = None
        if (
            joined is not None
            and not (row and row[0][:1] in check)
            and not _CELL_TO_CHECK.search(joined)
        ):
            return self._writer.writerow(row)
        return self._writer.writerow(
            [
                v  # None is an empty cell to csv.writer, as to safe_cell
                if v is None or (v.__class__ is str and (not v or v[0] not in check))
                else safe_cell(v)
                for v in row
            ]
        )

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(file: IO[str], **kwargs: Any) -> _SafeWriter:
    """Like csv.writer(file), but formula cells are neutralised (see safe_cell)."""
    return _SafeWriter(file, **kwargs)


def round_trip_writer(file: IO[str], **kwargs: Any) -> Any:
    """A plain csv.writer, for the one exempt file: the data dictionary, which must round-trip
    to REDCap byte for byte (its calculations and branching logic are not spreadsheet cells)."""
    return csv.writer(file, **kwargs)


def r_unguard_function() -> str:
    """The same reading rule as unguard, as base-R code (for the export's R script)."""
    trigger = _r_regex(FORMULA_START)
    number = _r_regex(PLAIN_NUMBER)
    return (
        "unguard <- function(x) {\n"
        "  rest <- substring(x, 2)\n"
        '  core <- sub("^\'+", "", rest)\n'
        f'  number <- grepl("^{number}$", core, perl = TRUE) &\n'
        '    is.finite(suppressWarnings(as.numeric(sub(",", ".", core, fixed = TRUE))))\n'
        f'  hit <- startsWith(x, "\'") & grepl("^{trigger}", core, perl = TRUE) & !number\n'
        "  ifelse(!is.na(x) & hit, rest, x)\n"
        "}"
    )


def _r_regex(pattern: str) -> str:
    """A Python character-class regex as the body of an R string literal (ASCII only)."""
    out = []
    for ch in pattern:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\x00":
            out.append("\\\\x00")  # R strings cannot hold NUL; PCRE reads \x00
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\\\x{{{ord(ch):x}}}")
        elif ord(ch) > 0x7F:  # R's own escape: the pattern becomes UTF-8, so PCRE runs in UTF mode
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)
