"""registry.fastjson: orjson only where it reads and writes exactly what json does, so the
signature re-check hashes the very bytes it always hashed."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from registry import fastjson
from registry.services.locking import signed_payload

# Every code point a PostgreSQL text can hold (no surrogates, no NUL).
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
SCALAR = (
    TEXT
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.booleans()
    | st.none()
)
JSON = st.recursive(
    SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4)
)
DATA = st.dictionaries(TEXT, JSON, max_size=6)


def reference_payload(rows: list, **signer) -> bytes:
    """signed_payload as it was written before orjson: what every stored hash covers."""
    content = {
        "record_id": signer["record_id"],
        "center_id": signer["center_id"],
        "instruments": [
            {"instrument": form, "instance": instance, "status": status, "data": data}
            for form, instance, status, data in rows
        ],
        "signer_id": signer["signer_id"],
        "signer_name": signer["signer_name"],
        "meaning": signer["meaning"],
        "signed_at": signer["signed_at"].astimezone(UTC).isoformat(timespec="microseconds"),
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def loads_data(texts: list[str]) -> tuple[list, bool]:
    """Each text a row's data, decoded as the export decodes it (one record per text, its
    rows as PostgreSQL aggregates them), and whether they are all plain."""
    records = [f'[["form", 1, 2, {text}]]' for text in texts]
    decoded, plain = fastjson.loads_all_rows(records)
    assert [[form, instance, status] for ((form, instance, status, _),) in decoded] == [
        ["form", 1, 2]
    ] * len(texts)
    return [data for ((*_, data),) in decoded], plain


def same(a: object, b: object) -> bool:
    """Equal, with the same types all the way down (1 and 1.0 and True are not the same)."""
    return repr(a) == repr(b)


SIGNER = {
    "record_id": "MIL-0001",
    "center_id": 7,
    "signer_id": 3,
    "signer_name": 'Dr. Zoë "Q" O\'Brien\n\u2028',
    "meaning": "I approve.",
    "signed_at": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
}


def test_every_code_point_and_key_order_is_written_as_json_writes_it():
    every = "".join(chr(c) for c in range(1, sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    keys = [every[i : i + 3] for i in range(0, len(every), 997)] + ["", "a", "\U0001f600", "\uffff"]
    data = {k: k for k in keys} | {"every": every, "list": ["1", "3"], "n": None, "i": 2**64 - 1}
    assert fastjson.all_plain([data])
    rows = [("enrolment", 1, 2, data), ("stage", 1, 0, {"metastatic_sites": []})]
    assert signed_payload(rows=rows, **SIGNER) == reference_payload(rows, **SIGNER)
    text = json.dumps(data, ensure_ascii=False)
    assert same(loads_data([text])[0][0], json.loads(text))


@settings(max_examples=400, deadline=None)
@given(st.lists(DATA, min_size=1, max_size=3))
def test_signed_payload_is_the_bytes_json_writes(datas):
    rows = [(f"form{i}", 1, 2, data) for i, data in enumerate(datas)]
    reference = reference_payload(rows, **SIGNER)
    assert signed_payload(rows=rows, **SIGNER) == reference
    # As the export calls it: told whether the data are plain, as decoding them found.
    plain = loads_data([json.dumps(d) for d in datas])[1]
    assert signed_payload(rows=rows, plain=plain, **SIGNER) == reference


@settings(max_examples=400, deadline=None)
@given(DATA)
def test_loads_gives_what_json_loads_gives(data):
    for text in (json.dumps(data, ensure_ascii=False), json.dumps(data, indent=1)):
        assert same(loads_data([text])[0][0], json.loads(text))


def test_numbers_orjson_reads_or_writes_differently_take_the_json_path():
    for text in (
        '{"a": 18446744073709551616}',  # beyond 64 bits: orjson reads a float, refuses to write
        '{"a": ["1", -9223372036854775809]}',
        '{"a": 1' + "0" * 400 + ".5}",  # json reads inf, orjson refuses it
        '{"a": 1.5e-05}',  # orjson would write 1.5e-5
        '{"a": {"b": 1e16}}',
    ):
        data = json.loads(text)
        assert same(loads_data([text])[0][0], data)
        rows = [("f", 1, 0, data)]
        assert signed_payload(rows=rows, **SIGNER) == reference_payload(rows, **SIGNER)


def test_one_row_with_such_a_number_sends_the_whole_record_to_json():
    texts = ['{"a": "1"}', '{"b": 1.5e-05}', '{"c": ["x", 18446744073709551616]}', '{"d": 2}']
    assert same(loads_data(texts), ([json.loads(t) for t in texts], False))
    assert loads_data([texts[0], texts[3]]) == ([{"a": "1"}, {"d": 2}], True)


def test_a_record_without_rows_and_rows_as_postgresql_aggregates_them():
    """json_agg's layout (spaces, line breaks between rows), several rows a record."""
    texts = ["[]", '[["enrolment", 1, 2, {"a": "x"}], \n ["relapse", 2, 0, {"b": ["1"]}]]']
    assert fastjson.loads_all_rows(texts) == (
        [[], [["enrolment", 1, 2, {"a": "x"}], ["relapse", 2, 0, {"b": ["1"]}]]],
        True,
    )
