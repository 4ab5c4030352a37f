"""The API's form-body parser (registry.api.form_body): the very QueryDict Django gives, for any
body, with a long value decoded in pieces and far less memory."""

from __future__ import annotations

import json
import tracemalloc
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.core.exceptions import TooManyFieldsSent
from django.http import QueryDict
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.api import form_body
from registry.api.form_body import parse_form

RAW = st.text(alphabet="ab%=&+0123456789ABCDEFGz é\u20ac\x00", max_size=60)


def same_as_django(body: bytes, encoding: str = "utf-8") -> None:
    with mock.patch.object(form_body, "PIECE_CHARS", 4):  # every value longer is cut in pieces
        assert list(parse_form(body, encoding).lists()) == list(
            QueryDict(body, encoding=encoding).lists()
        )


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=40)), max_size=5))
def test_encoded_pairs_come_back_as_django_reads_them(pairs):
    same_as_django(urlencode(pairs).encode())


@settings(max_examples=300, deadline=None)
@given(RAW)
def test_any_text_body_is_read_as_django_reads_it(raw):
    same_as_django(raw.encode())  # malformed escapes, bare '=', '&&', '+', non-ASCII


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=60))
def test_bytes_that_are_not_utf8_are_read_as_django_reads_them(raw):
    same_as_django(raw)  # latin-1, as Django falls back


def test_the_field_limit_is_djangos(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    body = b"a=1&b=2&c=3&d=4"
    with pytest.raises(TooManyFieldsSent):
        QueryDict(body)
    with pytest.raises(TooManyFieldsSent):
        parse_form(body, "utf-8")
    assert parse_form(b"a=1&b=2&c=3", "utf-8").getlist("c") == ["3"]


def peak_bytes(parse) -> int:
    tracemalloc.start()
    try:
        parse()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_large_import_body_is_decoded_with_a_fraction_of_djangos_memory():
    rows = [
        {"record_id": f"MIL-{i:04d}", "sex": "1", "date_dx": "2012-01-02"} for i in range(10000)
    ]
    body = urlencode({"token": "t", "content": "record", "data": json.dumps(rows)}).encode()
    assert parse_form(body, "utf-8")["data"] == json.dumps(rows)
    ours = peak_bytes(lambda: parse_form(body, "utf-8"))
    django = peak_bytes(lambda: QueryDict(body))
    # Django's unquote splits the whole value at every "%": about 45 times the body.
    assert ours * 4 < django, f"{ours / len(body):.1f} against {django / len(body):.1f} times"
    assert ours < 10 * len(body), f"{ours / len(body):.1f} times the body"
