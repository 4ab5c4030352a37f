"""The rows of an import's `data`, read one at a time, as often as asked (record_import reads
them twice: to check them all, then to plan and write them), so that no list of every row is
ever held: a row is a dict of its cells' text, numbered as the error messages name it."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from registry import csv_safety
from registry.hostile_input import MAX_JSON_DEPTH, json_nesting_depth

from .responses import ApiError

__all__ = ["ImportSource"]

_NOT_A_LIST = "The JSON data must be a list of objects (one per row)"


class ImportSource:
    def __init__(self, fmt: str, text: str) -> None:
        if not text:
            raise ApiError("No data were provided (the 'data' parameter is empty)")
        if fmt == "xml":
            raise ApiError(
                "Import in xml format is not supported by this registry; use json or csv"
            )
        if fmt == "json" and json_nesting_depth(text) > MAX_JSON_DEPTH:
            raise ApiError(f"The JSON data are nested deeper than {MAX_JSON_DEPTH} levels")
        self.fmt = fmt
        self.text = text

    def rows(self) -> Iterator[tuple[int, dict]]:
        """(row number, row); raises ApiError when the text cannot be read, at that point."""
        if self.fmt == "json":
            for number, row in enumerate(_json_objects(self.text), start=1):
                yield number, {str(k): _text(v) for k, v in row.items()}
            return
        reader = csv.DictReader(_lines(self.text.lstrip("\ufeff")))
        try:
            # the header is row 1, as a spreadsheet shows it
            for number, row in enumerate(reader, start=2):
                yield (
                    number,
                    {k: csv_safety.unguard(v or "") for k, v in row.items() if k is not None},
                )
        except csv.Error as exc:
            raise ApiError(f"The CSV data cannot be read (line {reader.line_num}): {exc}") from None


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their endings, as io.StringIO gives them, without a copy."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def _json_objects(text: str) -> Iterator[dict]:
    """The objects of a JSON list (or a single object), decoded one by one. A syntax error
    anywhere wins over an element that is not an object, as with json.loads."""
    decoder = json.JSONDecoder()
    try:
        pos = _skip_space(text, 0)
        if text.startswith("{", pos):
            row, pos = decoder.raw_decode(text, pos)
            _expect_end(text, pos)
            yield row
            return
        if not text.startswith("[", pos):
            json.loads(text)  # the syntax error, or a valid scalar
            raise ApiError(_NOT_A_LIST)
        not_objects = False
        pos = _skip_space(text, pos + 1)
        if text.startswith("]", pos):
            _expect_end(text, pos + 1)
            return
        while True:
            value, pos = decoder.raw_decode(text, pos)
            if isinstance(value, dict):
                if not not_objects:
                    yield value
            else:
                not_objects = True
            pos = _skip_space(text, pos)
            if text.startswith(",", pos):
                pos = _skip_space(text, pos + 1)
                continue
            if text.startswith("]", pos):
                _expect_end(text, pos + 1)
                break
            raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
    except json.JSONDecodeError as exc:
        raise ApiError(f"The data are not valid JSON: {exc}") from None
    if not_objects:
        raise ApiError(_NOT_A_LIST)


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\n\r":
        pos += 1
    return pos


def _expect_end(text: str, pos: int) -> None:
    end = _skip_space(text, pos)
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)


def _text(value) -> str | list:
    if value is None:
        return ""
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)
