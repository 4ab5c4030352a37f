"""Answers in the format asked for (json, csv, xml), and errors as REDCap gives them:
json ``{"error": "..."}``, csv ``ERROR: ...``, xml ``<hash><error>...</error></hash>``."""

from __future__ import annotations

import io
import itertools
import json
import tempfile
from collections.abc import Iterator
from xml.sax.saxutils import escape

from django.http import FileResponse, HttpResponse, JsonResponse

from registry.exports.csvfile import csv_writer

FORMATS = ("json", "csv", "xml")
CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
    "text": "text/plain; charset=utf-8",
}
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" ?>'
IN_MEMORY_BYTES = 64 * 1024  # a longer list of ids is sent from its file


class ApiError(Exception):
    def __init__(self, message: str, status: int = 400, *, details: list | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.details = details


def error_response(error: ApiError, fmt: str) -> HttpResponse:
    if fmt == "csv":
        body = f"ERROR: {error.message}"
    elif fmt == "xml":
        body = f"{XML_HEAD}\n<hash>\n  <error>{escape(error.message)}</error>\n</hash>"
    else:
        payload: dict = {"error": error.message}
        if error.details:
            payload["details"] = error.details
        body = json.dumps(payload)
        fmt = "json"
    return HttpResponse(body, status=error.status, content_type=CONTENT_TYPES[fmt])


def text_response(text: str) -> HttpResponse:
    return HttpResponse(text, content_type=CONTENT_TYPES["text"])


def rows_response(rows: list[dict], fmt: str, *, columns: list[str] | None = None) -> HttpResponse:
    """A list of flat dicts as json, csv (header = columns; every cell neutralised against
    spreadsheet formulas) or xml (records/item)."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv_writer(out)
        columns = columns if columns is not None else (list(rows[0]) if rows else [])
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])
        return HttpResponse(out.getvalue(), content_type=CONTENT_TYPES["csv"])
    if fmt == "xml":
        parts = [XML_HEAD, "<records>"]
        for row in rows:
            parts.append(
                "<item>"
                + "".join(f"<{k}><![CDATA[{_cdata(v)}]]></{k}>" for k, v in row.items())
                + "</item>"
            )
        parts.append("</records>")
        return HttpResponse("\n".join(parts), content_type=CONTENT_TYPES["xml"])
    return HttpResponse(json.dumps(rows, ensure_ascii=False), content_type=CONTENT_TYPES["json"])


def ids_response(ids: Iterator[str], fmt: str) -> HttpResponse:
    """Record ids, however many, with the very bytes of JsonResponse(ids) for json and of
    rows_response([{"id": ...}, ...]) for csv and xml, written to a temporary file on the way."""
    first = next(ids, None)
    if first is None:
        return JsonResponse([], safe=False) if fmt == "json" else rows_response([], fmt)
    body = tempfile.TemporaryFile()
    text = io.TextIOWrapper(body, encoding="utf-8", newline="")
    every = itertools.chain([first], ids)
    if fmt == "csv":
        writer = csv_writer(text)
        writer.writerow(["id"])
        writer.writerows([i] for i in every)
    elif fmt == "xml":
        text.write(f"{XML_HEAD}\n<records>")
        text.writelines(f"\n<item><id><![CDATA[{_cdata(i)}]]></id></item>" for i in every)
        text.write("\n</records>")
    else:
        text.write("[" + json.dumps(first))
        text.writelines(", " + json.dumps(i) for i in ids)
        text.write("]")
    text.flush()
    text.detach()
    size = body.tell()
    body.seek(0)
    content_type = CONTENT_TYPES[fmt if fmt in ("csv", "xml") else "json"]
    if size <= IN_MEMORY_BYTES:
        with body:
            return HttpResponse(body.read(), content_type=content_type)
    return FileResponse(body, content_type=content_type)


def object_response(obj: dict, fmt: str) -> HttpResponse:
    """One object (project info): json object, csv with one row, xml <item>."""
    if fmt == "json":
        return HttpResponse(json.dumps(obj, ensure_ascii=False), content_type=CONTENT_TYPES["json"])
    return rows_response([obj], fmt)


def _cdata(value) -> str:
    return str("" if value is None else value).replace("]]>", "]]]]><![CDATA[>")
