"""content=record export: the same row builder as the dataset export, REDCap's parameters."""

from __future__ import annotations

import io

from django.http import HttpResponse

from registry.exports.columns import REPEAT_INSTANCE, header_row
from registry.exports.csvfile import write_flat_csv
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


def export_record_rows(user, params: Params) -> tuple[HttpResponse, dict]:
    version = current_dictionary_version()
    options = export_options(params)
    fmt = params.choice("format", ("json", "csv", "xml"), "xml")
    try:
        builder = RowBuilder(version, options)
    except ValueError as exc:
        raise ApiError(str(exc)) from None
    # REDCap shows the lock status only when asked; the API mirrors REDCap's columns.
    builder.columns = [c for c in builder.columns if c.kind != "lock"]
    records = export_records(user, locked_only=False, records=options.records,
                             date_begin=params.when("dateRangeBegin"),
                             date_end=params.when("dateRangeEnd"))
    bundles = iter_bundles(records)
    if fmt == "csv":
        out = io.StringIO()
        counts = write_flat_csv(out, bundles, builder, options, verify_signatures=False)
        response = HttpResponse(out.getvalue(), content_type=CONTENT_TYPES["csv"])
        return response, {"records": counts.records, "rows": counts.rows}
    names = header_row(builder.columns, options)
    rows, n_records = [], 0
    for bundle in bundles:
        if not builder.matches(bundle):
            continue
        n_records += 1
        for cells in builder.rows(bundle):
            row = dict(zip(names, cells, strict=True))
            if REPEAT_INSTANCE in row and row[REPEAT_INSTANCE]:
                row[REPEAT_INSTANCE] = int(row[REPEAT_INSTANCE])
            rows.append(row)
    return rows_response(rows, fmt), {"records": n_records, "rows": len(rows)}
