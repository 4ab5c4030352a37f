"""content=metadata import: the rows REDCap's metadata export gives (json, or csv with the API's
``field_name`` headers or the dictionary file's own headers) become a dictionary CSV and go
through the same service as the web upload (registry.services.dictionary.import_dictionary).

A change that would alter collected data is refused unless the caller passes
``confirmChanges=true``: the API's twin of the web page's "I confirm these changes" box. REDCap
itself has no such parameter (it sends such changes to an administrator for review)."""

from __future__ import annotations

import io

from django.http import HttpResponse

from centers.access import access_for
from registry import csv_safety
from registry.dictionary import COLUMNS, DictionaryInvalid
from registry.dictionary.model import JSON_KEYS
from registry.services.dictionary import import_dictionary
from registry.services.errors import DictionaryChangeRefused, DictionaryUnchanged

from .params import Params
from .record_import import parse_data
from .responses import ApiError, text_response

CONFIRM_PARAM = "confirmChanges"
NO_DESIGN_RIGHTS = (
    "You do not have Project Design and Setup privileges: "
    "the data dictionary is managed by data managers"
)


def rows_to_dictionary_csv(rows: list[dict]) -> str:
    """API metadata rows -> the dictionary CSV the web upload takes; unknown keys are refused."""
    by_key = dict(zip(JSON_KEYS, COLUMNS, strict=True)) | {c: c for c in COLUMNS}
    out = io.StringIO()
    writer = csv_safety.round_trip_writer(out, lineterminator="\n")  # dictionary: exempt
    writer.writerow(COLUMNS)
    for number, row in enumerate(rows, start=1):
        unknown = sorted(k for k in row if k not in by_key)
        if unknown:
            raise ApiError(f"Row {number}: unknown metadata column(s): {', '.join(unknown)}")
        cells = {by_key[k]: v for k, v in row.items()}
        for column, value in cells.items():
            if isinstance(value, list):
                raise ApiError(f"Row {number}, column '{column}': a text value is expected")
        writer.writerow([cells.get(c, "") for c in COLUMNS])
    return out.getvalue()


def import_metadata(user, params: Params, fmt: str, return_fmt: str) -> HttpResponse:
    if not access_for(user).is_data_manager:
        raise ApiError(NO_DESIGN_RIGHTS, 403)
    rows = parse_data(params)
    if not rows:
        raise ApiError("No fields were provided in 'data'")
    csv_text = rows_to_dictionary_csv(rows)
    try:
        version = import_dictionary(
            csv_text=csv_text,
            user=user,
            confirm_changes=params.flag(CONFIRM_PARAM),
            note=params.get("note") or "Imported through the API (content=metadata)",
        )
    except DictionaryUnchanged as unchanged:  # nothing to change: REDCap answers with the count
        return text_response(str(len(unchanged.current.dictionary.fields)))
    except DictionaryInvalid as exc:
        problems = [str(e) for e in exc.errors]
        raise ApiError(
            "The data dictionary is not valid; nothing was imported: " + "; ".join(problems[:10]),
            details=problems,
        ) from None
    except DictionaryChangeRefused as exc:
        raise ApiError(
            f"{exc} Pass {CONFIRM_PARAM}=true to confirm them; nothing was imported.",
            details=[
                {**c.to_json(), "records": exc.affected.get(i, [])}
                for i, c in enumerate(exc.changes)
                if exc.affected.get(i)
            ],
        ) from None
    return text_response(str(len(version.dictionary.fields)))
