"""The Data Import Tool's problems by row and column: the file's layout checked before the
import runs, and the import's own errors placed on the row of the file that caused them."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from registry.api.responses import ApiError

__all__ = ["Problem", "api_problems", "layout_problems"]


@dataclass
class Problem:
    row: int | None  # the file's row (the header is row 1), when it can be told
    record: str
    column: str
    value: str
    message: str


def layout_problems(csv_text: str, record_field: str) -> list[Problem]:
    """What the API would read silently or describe in its own words: a column twice (the
    later cell would win), a file saved with semicolons (Excel in many European locales)."""
    try:
        header = next(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))), [])
    except csv.Error:
        return []  # the import names the problem
    seen: dict[str, int] = {}
    problems = []
    for number, name in enumerate(header, start=1):
        if name in seen:
            message = f"The column appears twice (columns {seen[name]} and {number})"
            problems.append(Problem(1, "", name, "", message))
        seen.setdefault(name, number)
    if len(header) == 1 and ";" in header[0] and header[0].startswith(record_field + ";"):
        message = (
            "The file is separated by semicolons: save it as 'CSV UTF-8 (Comma delimited)' "
            "or with commas as separators"
        )
        problems.append(Problem(1, "", "", "", message))
    return problems


def api_problems(error: ApiError, rows: list[dict], record_field: str) -> list[Problem]:
    if not error.details:
        return [Problem(None, "", "", "", error.message)]
    return [
        Problem(
            _row_of(rows, record_field, d.get("record", ""), d.get("field_name", "")),
            d.get("record", ""),
            d.get("field_name", ""),
            d.get("value", ""),
            _in_words(d.get("message", "")),
        )
        for d in error.details
    ]


def _in_words(message: str) -> str:
    """The API's advice about its own parameters, said for the web page."""
    return message.replace(
        "use generateNextRecordName or forceAutoNumber",
        "a new record takes the next free id of its centre",
    )


def _row_of(rows: list[dict], record_field: str, record: str, column: str) -> int | None:
    """The first row of the file for ``record`` that fills ``column`` (or any row of it)."""
    candidates = [
        n
        for n, row in enumerate(rows, start=2)
        if str(row.get(record_field) or "").strip() == record
    ]
    for n in candidates:
        row = rows[n - 2]
        if column and (
            row.get(column) or any(k.startswith(column + "___") and row[k] for k in row if k)
        ):
            return n
    return candidates[0] if candidates else None
