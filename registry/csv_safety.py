"""Formula-injection protection for every CSV the registry writes.

A spreadsheet treats a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula. Such a cell is written with a single quote in front (``'=1+1``), which
spreadsheets show as text and which a statistician's reader strips with one rule: a leading
``'`` followed by one of those characters is the neutralising prefix. Plain numbers (``-3.5``,
``+2``) are left as they are: they are not formulas and must stay numeric for R, Stata and SPSS.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?")


def safe_cell(value: object) -> str:
    """The cell text, with a leading ``'`` if a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(DANGEROUS_FIRST) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class _SafeWriter:
    """A csv.writer whose every cell goes through safe_cell."""

    def __init__(self, file: IO[str], **kwargs: Any) -> None:
        self._writer = csv.writer(file, **kwargs)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(file: IO[str], **kwargs: Any) -> _SafeWriter:
    """Like csv.writer(file), but formula cells are neutralised (see safe_cell)."""
    return _SafeWriter(file, **kwargs)
