"""orjson where it gives exactly what the standard library gives, the standard library elsewhere.

The export decodes every instrument row's JSON and re-encodes every signed record canonically
(``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``) to re-check its
signature; orjson does both several times faster. The two agree on strings (every code point,
escapes included), key order, booleans, null and 64-bit integers; they differ on numbers: orjson
decodes an integer beyond 64 bits as a float and refuses one beyond the float range, and writes
some floats differently (``1.5e-5`` for ``1.5e-05``). So orjson's result is used only for
*plain* data, which holds no float and no nested object (only strings, integers, booleans,
null and lists of those), and anything else goes through the standard library."""

from __future__ import annotations

import json
from itertools import chain
from operator import itemgetter
from typing import Any

import orjson

_SCALARS = frozenset({str, int, bool, type(None)})
_SCALARS_OR_LIST = _SCALARS | {list}
_is_list = list.__instancecheck__
_DATA = itemgetter(3)  # a row's data in [instrument, instance, status, data]


def all_plain(datas: list[Any]) -> bool:
    """Whether each of datas is an object whose values are strings, integers, booleans, null or
    lists of those (no float, no nested object). orjson reads such JSON as json does (an
    integer beyond 64 bits would come out as a float, so is not plain), and writes it as json
    does (it refuses an integer beyond 64 bits, and `dumps_canonical` then falls back). One
    check for all of a record's rows: a few C calls, however many values."""
    if not set(map(type, datas)) <= {dict}:
        return False
    values = list(chain.from_iterable(map(dict.values, datas)))
    types = set(map(type, values))
    if types <= _SCALARS:
        return True
    if not types <= _SCALARS_OR_LIST:
        return False
    return set(map(type, chain.from_iterable(filter(_is_list, values)))) <= _SCALARS


def loads_all_rows(texts: list[str]) -> tuple[list[list[list]], bool]:
    """[json.loads(text) for text in texts], each text a JSON array of rows [instrument,
    instance, status, data] (one record's rows as the export reads them), through orjson when
    that gives the same values; and whether every row's data is plain (`all_plain`)."""
    try:
        decoded = list(map(orjson.loads, texts))
    except orjson.JSONDecodeError:
        pass  # a number orjson refuses
    else:
        if all_plain(list(map(_DATA, chain.from_iterable(decoded)))):
            return decoded, True
    return list(map(json.loads, texts)), False


def dumps_canonical(content: Any, *, plain: bool) -> bytes:
    """``json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
    encoded as UTF-8. ``plain``: the caller vouches that every object in content is plain in
    the sense of `all_plain` (its own keys included), so orjson writes the same bytes."""
    if plain:
        try:
            return orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass  # e.g. a lone surrogate: let json raise as it always did
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
