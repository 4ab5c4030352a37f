"""content=repeatingFormsEvents: which instruments repeat (a classic project has no events).

Import (data managers only) replaces the whole setting, as REDCap's does, and is stored as a new
dictionary version with the same fields, through the same service as a dictionary upload. A form
that already holds a second instance cannot stop repeating: its instances would be orphaned."""

from __future__ import annotations

from django.http import HttpResponse

from centers.access import access_for
from registry.dictionary.project import check_project_settings
from registry.models import InstrumentData
from registry.services.dictionary import current_dictionary_version, import_dictionary
from registry.services.errors import DictionaryUnchanged

from .params import Params
from .record_import import parse_data
from .responses import ApiError, rows_response, text_response

LABELS_KEY = "repeating_labels"


def export_repeating(user, params: Params, fmt: str, return_fmt: str) -> HttpResponse:
    version = current_dictionary_version()
    labels = version.project.get(LABELS_KEY, {})
    rows = [
        {"form_name": form, "custom_form_label": labels.get(form, "")}
        for form in version.repeating_instruments
    ]
    return rows_response(rows, fmt, columns=["form_name", "custom_form_label"])


def import_repeating(user, params: Params, fmt: str, return_fmt: str) -> HttpResponse:
    if not access_for(user).is_data_manager:
        raise ApiError(
            "You do not have Project Design and Setup privileges: "
            "repeating instruments are set by data managers",
            403,
        )
    version = current_dictionary_version()
    forms, labels = [], {}
    for number, row in enumerate(parse_data(params), start=1):
        unknown = sorted(set(row) - {"form_name", "custom_form_label", "event_name"})
        if unknown:
            raise ApiError(f"Row {number}: unknown column(s): {', '.join(unknown)}")
        if row.get("event_name"):
            raise ApiError(
                f"Row {number}: this is a classic project; it has no events to repeat "
                f"('{row['event_name']}')"
            )
        form = str(row.get("form_name", "")).strip()
        if not form:
            raise ApiError(f"Row {number}: form_name is empty")
        if form not in forms:
            forms.append(form)
        if row.get("custom_form_label"):
            labels[form] = str(row["custom_form_label"])
    project = {**version.project, "repeating_instruments": forms, LABELS_KEY: labels}
    if not labels and LABELS_KEY not in version.project:
        del project[LABELS_KEY]  # no labels is what the project already says: not a change
    problems = check_project_settings(version.dictionary, project)
    for form in sorted(set(version.repeating_instruments) - set(forms)):
        held = (
            InstrumentData.objects.filter(instrument=form, instance__gt=1, deleted_at__isnull=True)
            .values_list("record__record_id", flat=True)
            .distinct()
        )
        if held:
            problems.append(
                f"'{form}' cannot stop repeating: records {', '.join(sorted(held)[:20])} "
                "hold more than one instance"
            )
    if problems:
        raise ApiError("Nothing was imported: " + "; ".join(problems))
    try:
        import_dictionary(
            csv_text=version.source_csv,
            user=user,
            project=project,
            note=params.get("note") or "Repeating instruments imported through the API",
        )
    except DictionaryUnchanged:
        pass  # the same repeating instruments as now: no new version, the same answer
    return text_response(str(len(forms)))
