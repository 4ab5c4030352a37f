"""SPSS .sav, Stata .dta (pyreadstat) and an R script, from the raw flat CSV.

Choice fields become numeric variables with value labels, checkboxes 0/1 with Unchecked/
Checked, numbers numeric, dates real dates; every variable carries its field label.
Missing-data codes (UNK, NA, ...) cannot live in a numeric variable: they become system-missing
in .sav/.dta (the CSV and the R script keep them). The neutralising ``'`` that the CSV puts
before formula-like text is removed here (these formats are not read by spreadsheets).
The files carry no creation time: the header timestamps are fixed so that the same data give
the same bytes.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from registry.csv_safety import r_unguard_function, unguard

from .columns import STATUS_LABELS, Column

# pyreadstat (1.3) writes .sav/.dta only from a whole DataFrame: no append, no row chunks (its
# readers have them, its writers do not). The typed frame costs about 5 KB per flat row with
# the GI-LMS dictionary (BENCHMARKS.md: +109 MB at 20,601 rows), so above this many rows the
# export refuses these two formats rather than grow the worker by hundreds of MB; the CSV and
# the R script stream with flat memory at any size.
STATFILE_MAX_ROWS = 18_000
FIXED_SAV_STAMP = b"01 Jan 8000:00:00"  # creation date (9 bytes) + time (8 bytes)
FIXED_DTA_STAMP = b"01 Jan 1980 00:00"
CHUNK_ROWS = 20000


class StatFileTooLarge(ValueError):
    pass


def check_statfile_size(rows: int) -> None:
    """Refuse SPSS/Stata files above STATFILE_MAX_ROWS flat rows, with what to do instead."""
    if rows > STATFILE_MAX_ROWS:
        raise StatFileTooLarge(
            f"SPSS and Stata files are limited to {STATFILE_MAX_ROWS:,} rows and this export "
            f"has {rows:,}: they are built in memory. Export CSV with the R script (any size), "
            "or select fewer records, for SPSS or Stata."
        )


def _kind(c: Column) -> str:
    if c.kind in ("checkbox", "complete", "repeat_instance"):
        return "number"
    if c.kind != "value" or c.field is None:
        return "text"
    f = c.field
    if f.choices:
        return "number" if all(_is_number(ch.code) for ch in f.choices) else "text"
    if f.is_date:
        return "date"
    if f.is_numeric:
        return "number"
    return "text"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def value_labels(c: Column) -> dict[float, str] | None:
    if c.kind == "checkbox":
        return {0.0: "Unchecked", 1.0: "Checked"}
    if c.kind == "complete":
        return {float(k): str(v) for k, v in STATUS_LABELS.items()}
    if c.kind == "value" and c.field is not None and c.field.choices and _kind(c) == "number":
        return {float(ch.code): ch.label for ch in c.field.choices}
    return None


def dataframe(csv_path: Path, columns: list[Column], *, days_dates: bool = False):
    """The raw CSV as typed columns (days_dates: dates were replaced by day counts). Read in
    chunks so that only the typed frame, not the all-text one, is held at once."""
    import pandas as pd

    kinds = {}
    for c in columns:
        kind = _kind(c)
        kinds[c.name] = "number" if kind == "date" and days_dates else kind
    parts = []
    for chunk in pd.read_csv(
        csv_path, dtype=str, keep_default_na=False, encoding="utf-8", chunksize=CHUNK_ROWS
    ):
        for name, kind in kinds.items():
            series = chunk[name]
            if kind == "number":
                chunk[name] = pd.to_numeric(series.where(series.map(_is_number)), errors="coerce")
            elif kind == "date":
                chunk[name] = series.map(_as_date).astype(object)
            else:
                chunk[name] = series.map(unguard)
        parts.append(chunk)
    if not parts:
        return pd.DataFrame(
            {
                name: pd.Series(dtype=float if kind == "number" else object)
                for name, kind in kinds.items()
            }
        )
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _as_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def write_sav(csv_path: Path, dest: Path, columns: list[Column], *, days_dates: bool) -> None:
    import pyreadstat

    df = dataframe(csv_path, columns, days_dates=days_dates)
    pyreadstat.write_sav(
        df,
        str(dest),
        column_labels={c.name: c.label[:250] for c in columns},
        variable_value_labels={c.name: v for c in columns if (v := value_labels(c))},
    )
    data = bytearray(dest.read_bytes())
    data[92:109] = FIXED_SAV_STAMP
    dest.write_bytes(bytes(data))


def write_dta(csv_path: Path, dest: Path, columns: list[Column], *, days_dates: bool) -> None:
    import pyreadstat

    df = dataframe(csv_path, columns, days_dates=days_dates)
    labels = {
        c.name: {int(k): v for k, v in labels.items()}
        for c in columns
        if (labels := value_labels(c)) and all(float(k).is_integer() for k in labels)
    }
    pyreadstat.write_dta(
        df,
        str(dest),
        column_labels={c.name: c.label[:80] for c in columns},
        variable_value_labels=labels,
    )
    data = bytearray(dest.read_bytes())
    at = data.find(b"<timestamp>")
    if at >= 0 and data[at + 11] == len(FIXED_DTA_STAMP):
        data[at + 12 : at + 12 + len(FIXED_DTA_STAMP)] = FIXED_DTA_STAMP
    dest.write_bytes(bytes(data))


def _r_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def r_script(
    csv_name: str, columns: list[Column], missing_codes: list[dict], *, days_dates: bool = False
) -> str:
    """Base R: read the CSV as text, strip the neutralising quote, apply factor labels."""
    lines = [
        "# Reads the registry export and applies labels (base R, no packages needed).",
        f'data <- read.csv({_r_string(csv_name)}, colClasses = "character",',
        '                 na.strings = "", encoding = "UTF-8", check.names = FALSE)',
        "# Formula-like cells (= + - @ tab CR, full-width, after spaces) have a leading ' .",
        r_unguard_function(),
        "data[] <- lapply(data, unguard)",
        "# Variable names, also when the CSV's header row holds field labels:",
        "names(data) <- c(" + ", ".join(_r_string(c.name) for c in columns) + ")",
        "missing_codes <- c(" + ", ".join(_r_string(m["code"]) for m in missing_codes) + ")",
    ]
    for c in columns:
        labels = value_labels(c)
        kind = _kind(c)
        if kind == "date" and days_dates:
            kind = "number"
        name = _r_string(c.name)
        if labels:
            levels = ", ".join(_r_string(_code(k)) for k in labels)
            names = ", ".join(_r_string(v) for v in labels.values())
            lines.append(
                f"data[[{name}]] <- factor(data[[{name}]], levels = c({levels}), "
                f"labels = c({names}))"
            )
        elif kind == "number":
            lines.append(
                f"data[[{name}]] <- suppressWarnings(as.numeric("
                f"ifelse(data[[{name}]] %in% missing_codes, NA, data[[{name}]])))"
            )
        elif kind == "date":
            lines.append(
                f"data[[{name}]] <- as.Date(ifelse(data[[{name}]] %in% missing_codes, "
                f"NA, data[[{name}]]))"
            )
        lines.append(f'attr(data[[{name}]], "label") <- {_r_string(c.label)}')
    return "\n".join(lines) + "\n"


def _code(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
