"""REDCap's Data Import Tool: upload a CSV, review the preview, import exactly what it showed."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from centers.access import access_for
from registry import csv_safety
from registry.audit import record_event
from registry.dictionary import FieldDef, form_label
from registry.dictionary_text import dictionary_plain_text, render_dictionary_text
from registry.forms.data_import import (
    SESSION_KEY,
    ConfirmImportForm,
    DataImportForm,
    confirmation_token,
    keep_upload,
)
from registry.forms.instrument_fields import display_value
from registry.models import FormStatus
from registry.services.data_import import (
    ImportChanged,
    ImportPreview,
    data_import_apply,
    data_import_preview,
    template_header,
)

from .common import dictionary_version

STATUS_LABELS = {s.value: s.label for s in FormStatus}


def _require_import_tool(user) -> None:
    if not access_for(user).may_use_import_tool:
        raise Forbidden("The Data Import Tool is for data managers and site coordinators.")
    dictionary_version()  # 404 until a dictionary has been imported


@login_required
@require_http_methods(["GET", "POST"])
def data_import(request):
    _require_import_tool(request.user)
    initial = {"date_format": request.user.date_format.upper()}
    form = DataImportForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST":
        if not form.is_valid():
            return _page(request, form, status=400)
        csv_text = form.cleaned_data["csv_text"]
        keep_upload(request.session, csv_text, form.cleaned_data["csv_file"].name or "")
        preview = data_import_preview(
            user=request.user, csv_text=csv_text, options=form.import_options()
        )
        return _page(request, form, preview=preview)
    return _page(request, form)


@login_required
@require_POST
def data_import_confirm(request):
    _require_import_tool(request.user)
    confirm = ConfirmImportForm(request.POST, user=request.user, session=request.session)
    if not confirm.is_valid():
        messages.error(request, " ".join(confirm.non_field_errors()) or "Check the form.")
        return redirect("registry:data_import")
    data = confirm.cleaned_data
    try:
        applied = data_import_apply(
            user=request.user,
            csv_text=data["csv_text"],
            options=data["options"],
            expected_digest=data["digest"],
            expected_state=data["state"],
            changed_values=data["changed_values"],
            reason=data["reason"],
        )
    except ImportChanged as exc:
        form = DataImportForm(initial={"date_format": data["options"].date_format})
        return _page(request, form, preview=exc.preview, changed=str(exc), status=409)
    request.session.pop(SESSION_KEY, None)
    records = len(applied.records)
    messages.success(
        request,
        f"Imported {records} record(s): {applied.new} new, "
        f"{records - applied.new} updated, {applied.changed_values} value(s) changed.",
    )
    return redirect("registry:data_import")


@login_required
@require_GET
def data_import_template(request):
    _require_import_tool(request.user)
    version = dictionary_version()
    out = io.StringIO()
    csv_safety.writer(out).writerow(template_header(version))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="import_template_dictionary_v{version.number}.csv"'
    )
    record_event("import_template_export", user=request.user, details={"version": version.number})
    return response


def _page(
    request,
    form: DataImportForm,
    *,
    preview: ImportPreview | None = None,
    changed: str = "",
    status: int = 200,
):
    context = {"form": form, "preview": None, "changed": changed}
    if preview is not None:
        context["preview"] = _shown_preview(preview, request.user.date_format)
        if preview.ok and preview.records:
            token = confirmation_token(request.user, preview)
            context["confirm"] = ConfirmImportForm(
                initial={"token": token}, user=request.user, session=request.session
            )
    return render(request, "registry/data_import.html", context, status=status)


def _shown_preview(preview: ImportPreview, date_order: str) -> dict:
    """The preview in a person's words: labels, choice labels, dates in their format."""
    dictionary = preview.version.dictionary
    repeating = set(preview.version.repeating_instruments)
    missing = {c["code"]: c.get("label", "") for c in preview.version.missing_codes}
    records = []
    for r in preview.records:
        changes = []
        for c in r.changes:
            f = dictionary.field(c.field) if c.field in dictionary else None
            changes.append(
                {
                    "form": form_label(c.form),
                    "instance": c.instance if c.form in repeating else None,
                    "variable": c.field or f"{c.form}_complete",
                    "label": render_dictionary_text(f.label) if f else "Form status",
                    "old": _shown(f, c.old, date_order, missing),
                    "new": _shown(f, c.new, date_order, missing),
                }
            )
        records.append(
            {"id": r.record_id, "new": r.new, "changes": changes, "unchanged": r.unchanged}
        )
    problems = []
    for p in preview.problems:
        base = p.column.split("___")[0]
        f = dictionary.field(base) if base in dictionary else None
        problems.append(
            {
                "row": p.row,
                "record": p.record,
                "column": p.column,
                "label": dictionary_plain_text(f.label) if f else "",
                "value": p.value,
                "message": p.message,
            }
        )
    return {
        "ok": preview.ok,
        "records": records,
        "problems": problems,
        "new": sum(r.new for r in preview.records),
        "updated": sum(not r.new for r in preview.records),
        "values": sum(len(r.changes) for r in preview.records),
        "options": preview.options,
        "version": preview.version.number,
    }


def _shown(f: FieldDef | None, value, date_order: str, missing: dict[str, str]) -> str:
    if value is None or value == "" or value == []:
        return ""
    if f is None:  # the form status, or a value of a field the dictionary no longer has
        if isinstance(value, int):
            return STATUS_LABELS.get(value, str(value))
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    labels = {code: dictionary_plain_text(label) for code, label in f.choice_map.items()}
    labels.update({code: label for code, label in missing.items() if code not in labels})

    def one(v) -> str:
        return f"{labels[v]} ({v})" if v in labels else str(display_value(f, v, date_order))

    if isinstance(value, list):
        return ", ".join(one(v) for v in value)
    return one(value)
