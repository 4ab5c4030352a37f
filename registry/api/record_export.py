"""content=record export: the same row builder as the dataset export, REDCap's parameters."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from django.http import HttpResponse, StreamingHttpResponse

from registry.exports.columns import REPEAT_INSTANCE, header_row
from registry.exports.csvfile import ExportCounts, iter_flat_csv
from registry.exports.options import ExportOptions
from registry.exports.rows import RowBuilder
from registry.exports.stream import export_records, iter_bundles
from registry.logic import LogicSyntaxError, parse
from registry.services.dictionary import current_dictionary_version

from .params import Params
from .responses import CONTENT_TYPES, ApiError, rows_response


def export_options(params: Params) -> ExportOptions:
    if params.get("type", "flat").lower() not in ("flat", ""):
        raise ApiError("Only type=flat is supported by this registry")
    logic = params.get("filterLogic")
    if logic:
        try:
            parse(logic)
        except LogicSyntaxError as exc:
            raise ApiError(f"The filterLogic is not valid: {exc}") from None
    raw_or_label = params.choice("rawOrLabel", ("raw", "label", "both"), "raw")
    return ExportOptions(
        locked_only=False,
        raw_or_label="label" if raw_or_label == "label" else "raw",
        header=params.choice("rawOrLabelHeaders", ("raw", "label"), "raw"),
        checkbox_label=params.flag("exportCheckboxLabel"),
        data_access_group=params.flag("exportDataAccessGroups"),
        fields=tuple(params.array("fields")),
        forms=tuple(params.array("forms")),
        records=tuple(params.array("records")),
        filter_logic=logic,
        formats=("csv",),
    )


def export_record_rows(user, params: Params, audit: Callable[[dict], None]) -> HttpResponse:
    """csv and json are streamed (memory stays flat however large the project); ``audit`` is
    called with the counts once the last row has been sent."""
    version = current_dictionary_version()
    options = export_options(params)
    fmt = params.choice("format", ("json", "csv", "xml"), "xml")
    try:
        builder = RowBuilder(version, options)
    except ValueError as exc:
        raise ApiError(str(exc)) from None
    # REDCap shows the lock status only when asked; the API mirrors REDCap's columns.
    builder.columns = [c for c in builder.columns if c.kind != "lock"]
    records = export_records(
        user,
        locked_only=False,
        records=options.records,
        date_begin=params.when("dateRangeBegin"),
        date_end=params.when("dateRangeEnd"),
    )
    bundles = iter_bundles(records)
    counts = ExportCounts()
    if fmt == "csv":
        chunks = iter_flat_csv(bundles, builder, options, counts=counts, verify_signatures=False)
        return _streamed(chunks, counts, audit, "csv")
    rows = _json_rows(bundles, builder, options, counts)
    if fmt == "json":
        return _streamed(_json_chunks(rows), counts, audit, "json")
    response = rows_response(list(rows), fmt)
    audit({"records": counts.records, "rows": counts.rows})
    return response


def _json_rows(
    bundles, builder: RowBuilder, options: ExportOptions, counts: ExportCounts
) -> Iterator[dict]:
    names = header_row(builder.columns, options)
    for bundle in bundles:
        if not builder.matches(bundle):
            continue
        counts.records += 1
        for cells in builder.rows(bundle):
            row = {k: "" if v is None else v for k, v in zip(names, cells, strict=True)}
            if row.get(REPEAT_INSTANCE):
                row[REPEAT_INSTANCE] = int(row[REPEAT_INSTANCE])
            counts.rows += 1
            yield row


def _json_chunks(rows: Iterator[dict], size: int = 500) -> Iterator[str]:
    yield "["
    batch: list[str] = []
    first = True
    for row in rows:
        batch.append(json.dumps(row, ensure_ascii=False))
        if len(batch) >= size:
            yield ("" if first else ",") + ",".join(batch)
            first, batch = False, []
    if batch:
        yield ("" if first else ",") + ",".join(batch)
    yield "]"


def _streamed(chunks: Iterator[str], counts: ExportCounts, audit, fmt: str):
    def body() -> Iterator[bytes]:
        for chunk in chunks:
            yield chunk.encode("utf-8")
        audit({"records": counts.records, "rows": counts.rows, "streamed": True})

    return StreamingHttpResponse(body(), content_type=CONTENT_TYPES[fmt])
