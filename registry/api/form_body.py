"""An API call's form-encoded body (application/x-www-form-urlencoded, as REDCap clients send an
import), parsed into the very QueryDict Django would give, with a long value percent-decoded a
piece at a time.

Django's QueryDict decodes each value with urllib.parse.unquote, which splits the whole value at
every "%" first: a 2 MB import body (10,000 six-field JSON records) peaked at 94 MB of small
objects, about 9.7 KB a record, before the import had read a row. Decoding PIECE_CHARS at a
time gives the same text (tests/registry/test_api_form_body.py) and holds little more than the
body.
"""

from __future__ import annotations

from urllib.parse import unquote, unquote_to_bytes

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict

__all__ = ["form_params"]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
PIECE_CHARS = 1 << 14


def form_params(request: HttpRequest) -> QueryDict | None:
    """request.POST for a form-encoded POST (raising as reading request.body does: a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE is RequestDataTooBig); None for any other body."""
    if request.content_type != FORM_CONTENT_TYPE:
        return None
    params = parse_form(request.body, request.encoding or settings.DEFAULT_CHARSET)
    # Anything that reads request.POST later gets this parse, not a second one by Django.
    request._post, request._files = params, MultiValueDict()
    return params


def parse_form(body: bytes, encoding: str) -> QueryDict:
    """QueryDict(body, encoding=encoding), decoded the same way (urllib.parse.parse_qsl with
    keep_blank_values, Django's field limit, latin-1 for a body that is not ``encoding``)."""
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError:
        text = body.decode("iso-8859-1")
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    if limit is not None and text and 1 + text.count("&") > limit:
        raise TooManyFieldsSent(
            "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS."
        )
    params = QueryDict(mutable=True, encoding=encoding)
    for field in text.split("&") if text else []:
        if not field:
            continue
        name, _, value = field.partition("=")
        params.appendlist(_unquote(name, encoding), _unquote(value, encoding))
    return params


def _unquote(text: str, encoding: str) -> str:
    text = text.replace("+", " ")
    if len(text) <= PIECE_CHARS or not text.isascii():
        return unquote(text, encoding=encoding, errors="replace")
    pieces = []
    start = 0
    while start < len(text):
        end = start + PIECE_CHARS
        cut = text.rfind("%", max(start, end - 2), end)
        if cut > start:
            end = cut  # never split a %XX escape
        pieces.append(unquote_to_bytes(text[start:end]))
        start = end
    return b"".join(pieces).decode(encoding, errors="replace")
