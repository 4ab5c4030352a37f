"""The rows of an import's `data`, read one at a time, as often as asked (record_import reads
them twice: to check them all, then to plan and write them), so that no list of every row is
ever held: a row is a dict of its cells' text, numbered as the error messages name it.

`data` is a form field (text, held whole by Django) or a file of a multipart body (Django keeps
a large one on disk): a file is read in pieces of READ_CHARS, and JSON is decoded one row object
at a time (json's own decoder on each; no other parser is needed)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import IO

from registry import csv_safety
from registry.hostile_input import MAX_JSON_DEPTH, JsonDepth, json_nesting_depth

from .responses import ApiError

__all__ = ["ImportSource"]

_NOT_A_LIST = "The JSON data must be a list of objects (one per row)"
_TOO_DEEP = f"The JSON data are nested deeper than {MAX_JSON_DEPTH} levels"
READ_CHARS = 1 << 16
MAX_ROW_CHARS = 1 << 22  # one JSON row object: the most text held to decode it


class ImportSource:
    """``data``: the text, or a binary file (UTF-8; read from its start at each reading)."""

    def __init__(self, fmt: str, data: str | IO[bytes]) -> None:
        if not data or (not isinstance(data, str) and _empty(data)):
            raise ApiError("No data were provided (the 'data' parameter is empty)")
        if fmt == "xml":
            raise ApiError(
                "Import in xml format is not supported by this registry; use json or csv"
            )
        if fmt == "json" and isinstance(data, str) and json_nesting_depth(data) > MAX_JSON_DEPTH:
            raise ApiError(_TOO_DEEP)
        self.fmt = fmt
        self.data = data

    def rows(self) -> Iterator[tuple[int, dict]]:
        """(row number, row); raises ApiError when the data cannot be read, at that point."""
        if isinstance(self.data, str):
            whole = self.data if self.fmt == "json" else self.data.lstrip("\ufeff")
            yield from self._rows(whole, None)
            return
        self.data.seek(0)
        text = io.TextIOWrapper(self.data, encoding="utf-8-sig", newline="")
        try:
            yield from self._rows(None, text)
        except UnicodeDecodeError as exc:
            raise ApiError(f"The data are not UTF-8 text: {exc.reason}") from None
        finally:
            text.detach()  # the upload stays open for the next reading

    def _rows(self, whole: str | None, text: IO[str] | None) -> Iterator[tuple[int, dict]]:
        if self.fmt == "json":
            buffer = _Buffer(whole, text)
            for number, row in enumerate(_json_objects(buffer), start=1):
                yield number, {str(k): _text(v) for k, v in row.items()}
            return
        reader = csv.DictReader(_lines(whole) if whole is not None else text)
        try:
            # the header is row 1, as a spreadsheet shows it
            for number, row in enumerate(reader, start=2):
                yield (
                    number,
                    {k: csv_safety.unguard(v or "") for k, v in row.items() if k is not None},
                )
        except csv.Error as exc:
            raise ApiError(f"The CSV data cannot be read (line {reader.line_num}): {exc}") from None


def _empty(upload: IO[bytes]) -> bool:
    upload.seek(0)
    return not upload.read(1)


class _Buffer:
    """The JSON text from ``pos`` on: all of it, or what has been read of a file so far."""

    def __init__(self, whole: str | None, text: IO[str] | None) -> None:
        self.text = whole or ""
        self.pos = 0
        self.dropped = 0  # characters of the file before `text`
        self.reader = text
        self.depth = JsonDepth()

    def more(self) -> bool:
        """Read the next piece of the file; False at its end."""
        if self.reader is None:
            return False
        piece = self.reader.read(READ_CHARS)
        if not piece:
            self.reader = None
            return False
        if self.depth.feed(piece) > MAX_JSON_DEPTH:
            raise ApiError(_TOO_DEEP)
        self.dropped += self.pos
        self.text = self.text[self.pos :] + piece
        self.pos = 0
        return True

    def skip_space(self) -> str:
        """Moves past white space; the next character ("" at the end)."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in " \t\n\r":
                self.pos += 1
            if self.pos < len(self.text) or not self.more():
                return self.text[self.pos : self.pos + 1]

    def decode(self, decoder: json.JSONDecoder):
        """The next JSON value, read on until it is whole (at most MAX_ROW_CHARS)."""
        while True:
            try:
                value, self.pos = decoder.raw_decode(self.text, self.pos)
                return value
            except json.JSONDecodeError as exc:
                if len(self.text) - self.pos > MAX_ROW_CHARS or not self.more():
                    raise self.error(exc) from None

    def error(self, exc: json.JSONDecodeError) -> ApiError:
        if not self.dropped:
            return ApiError(f"The data are not valid JSON: {exc}")
        return ApiError(f"The data are not valid JSON: {exc.msg} (char {self.dropped + exc.pos})")


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their endings, as io.StringIO gives them, without a copy."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def _json_objects(buffer: _Buffer) -> Iterator[dict]:
    """The objects of a JSON list (or a single object), decoded one by one. A syntax error
    anywhere wins over an element that is not an object, as with json.loads."""
    decoder = json.JSONDecoder()
    first = buffer.skip_space()
    if first == "{":
        row = buffer.decode(decoder)
        _expect_end(buffer)
        yield row
        return
    if first != "[":
        while buffer.more() and len(buffer.text) <= MAX_ROW_CHARS:
            pass
        try:
            json.loads(buffer.text)  # the syntax error, or a valid scalar
        except json.JSONDecodeError as exc:
            raise buffer.error(exc) from None
        raise ApiError(_NOT_A_LIST)
    not_objects = False
    buffer.pos += 1
    if buffer.skip_space() == "]":
        buffer.pos += 1
        _expect_end(buffer)
        return
    while True:
        value = buffer.decode(decoder)
        if isinstance(value, dict):
            if not not_objects:
                yield value
        else:
            not_objects = True
        after = buffer.skip_space()
        if after == ",":
            buffer.pos += 1
            buffer.skip_space()
            continue
        if after == "]":
            buffer.pos += 1
            _expect_end(buffer)
            break
        error = json.JSONDecodeError("Expecting ',' delimiter", buffer.text, buffer.pos)
        raise buffer.error(error)
    if not_objects:
        raise ApiError(_NOT_A_LIST)


def _expect_end(buffer: _Buffer) -> None:
    if buffer.skip_space():
        raise buffer.error(json.JSONDecodeError("Extra data", buffer.text, buffer.pos))


def _text(value) -> str | list:
    if value is None:
        return ""
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)
