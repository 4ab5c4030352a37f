"""content=report: a SavedReport (registry.models.SavedReport, made by data managers in
/admin/) exported by its id with REDCap's report parameters, through the record export."""

from __future__ import annotations

from django.http import HttpResponse, QueryDict

from registry.models import SavedReport

from .params import Params
from .record_export import export_record_rows
from .responses import ApiError

PASSED_ON = ("format", "rawOrLabel", "rawOrLabelHeaders", "exportCheckboxLabel")


def report_params(report: SavedReport, params: Params) -> Params:
    query = QueryDict(mutable=True)
    for name in PASSED_ON:
        if name in params.data:
            query[name] = params.get(name)
    query.setlist("fields[]", list(report.fields))
    query.setlist("forms[]", list(report.forms))
    query["filterLogic"] = report.filter_logic
    return Params(query)


def export_report(user, params: Params, fmt: str, return_fmt: str) -> HttpResponse:
    report_id = params.get("report_id")
    if not report_id:
        raise ApiError('The parameter "report_id" is missing')
    if params.get("csvDelimiter", ",") not in (",", ""):
        raise ApiError("Only the comma is supported as csvDelimiter")
    report = SavedReport.objects.filter(pk=int(report_id)).first() if report_id.isdigit() else None
    if report is None:
        raise ApiError('The value of the parameter "report_id" is not valid')
    # The call itself is audited by the view, with the report id among its parameters.
    return export_record_rows(user, report_params(report, params), lambda summary: None)
