"""Audit views: a record's history, one field's history (the form's "H" button), the log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from centers.access import access_for
from centers.models import Center
from registry import csv_safety
from registry.audit import record_event
from registry.audit_display import ACTION_LABELS, describe_events
from registry.display import field_label
from registry.forms.filters import AuditFilterForm
from registry.models import AuditEvent
from registry.services.deletion import former_record_ids
from registry.services.records import get_record_for_user

from .common import dictionary_version

VALUE_ACTIONS = ("create", "update")
KNOWN_ACTIONS = (
    "create",
    "update",
    "form_status",
    "instance_delete",
    "instance_restore",
    "instance_reentry",
    "record_create",
    "record_delete",
    "record_restore",
    "record_identity_change",
    "lock",
    "unlock",
    "signature",
    "signature_void",
    "signature_failed",
    "login",
    "logout",
    "login_failed",
    "role_change",
    "dictionary_import",
    "dictionary_translation",
    "dictionary_version",
    "query_open",
    "query_answer",
    "query_close",
    "finding_acknowledge",
    "dq_rule_create",
    "dq_rule_change",
    "audit_export",
    "export",
    "api_call",
    "api_token_issue",
)
CSV_COLUMNS = [
    "seq",
    "occurred_at_utc",
    "action",
    "actor_id",
    "actor_name",
    "center_id",
    "record_id",
    "instrument",
    "instance",
    "field",
    "old_value",
    "new_value",
    "reason",
    "details",
    "hash",
]


def _described(request, events) -> list:
    """Rows in labels and the person's format (no dictionary yet: variable names)."""
    try:
        version = dictionary_version()
    except Http404:
        version = None
    return describe_events(
        events,
        dictionary=version.dictionary if version else None,
        date_order=request.user.date_format,
        missing_codes=version.missing_codes if version else None,
    )


def _show(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@login_required
@require_GET
def record_history(request, record_id: str):
    record = get_record_for_user(request.user, record_id)
    ids = [record.record_id, *former_record_ids(record.record_id)]
    events = AuditEvent.objects.visible_to(request.user).filter(record_id__in=ids)
    page = Paginator(events.order_by("-seq"), 200).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/record_history.html",
        {"record": record, "page": page, "rows": _described(request, page.object_list)},
    )


@login_required
@require_GET
def field_history(request, record_id: str, field: str):
    record = get_record_for_user(request.user, record_id)
    events = (
        AuditEvent.objects.visible_to(request.user)
        .filter(
            record_id__in=[record.record_id, *former_record_ids(record.record_id)],
            field=field,
            action__in=VALUE_ACTIONS,
        )
        .order_by("-seq")
    )
    template = "registry/_field_history.html" if request.htmx else "registry/field_history.html"
    rows = _described(request, events)
    version = dictionary_version()
    label = field_label(version.dictionary, field)
    return render(
        request, template, {"record": record, "field": field, "label": label, "rows": rows}
    )


def _filtered(request, form: AuditFilterForm):
    events = AuditEvent.objects.visible_to(request.user)
    if not form.is_valid():
        return events.none()
    data = form.cleaned_data
    if data["center"]:
        events = events.filter(center_id=data["center"])
    if data["user"]:
        events = events.filter(actor_name__icontains=data["user"].strip())
    if data["record"]:
        events = events.filter(record_id__iexact=data["record"].strip())
    if data["action"]:
        events = events.filter(action=data["action"].strip())
    zone = timezone.get_current_timezone()
    if data["date_from"]:
        events = events.filter(
            occurred_at__gte=datetime.combine(data["date_from"], time.min, tzinfo=zone)
        )
    if data["date_to"]:
        events = events.filter(
            occurred_at__lte=datetime.combine(data["date_to"], time.max, tzinfo=zone)
        )
    return events


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(events):
    writer = csv_safety.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for e in events.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                e.seq,
                e.occurred_at.astimezone(UTC).isoformat() if e.occurred_at else "",
                e.action,
                e.actor_id,
                e.actor_name,
                e.center_id,
                e.record_id,
                e.instrument,
                e.instance,
                e.field,
                _show(e.old_value),
                _show(e.new_value),
                e.reason,
                _show(e.details),
                e.hash,
            ]
        )


@login_required
@require_GET
def audit_log(request):
    access = access_for(request.user)
    ids = access.readable_center_ids()
    centers = Center.objects.all() if ids is None else Center.objects.filter(pk__in=ids)
    form = AuditFilterForm(request.GET, centers=centers)
    events = _filtered(request, form).order_by("-seq")
    if request.GET.get("format") == "csv":
        record_event(
            "audit_export",
            user=request.user,
            details={"filters": {k: v for k, v in request.GET.items() if v}},
        )
        response = StreamingHttpResponse(_csv_rows(events), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        return response
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "registry/audit_log.html",
        {
            "form": form,
            "page": page,
            "querystring": query.urlencode(),
            "actions": [(a, ACTION_LABELS.get(a, a)) for a in KNOWN_ACTIONS],
            "rows": _described(request, page.object_list),
        },
    )
