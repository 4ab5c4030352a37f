"""The read-only contents: metadata, instrument, exportFieldNames, project, version, dag, user,
log, generateNextRecordName."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone

from centers.access import access_for
from centers.models import Center, Membership, User
from registry.dictionary.model import JSON_KEYS as METADATA_KEYS
from registry.exports.columns import export_columns
from registry.exports.options import ExportOptions
from registry.models import AuditEvent, DictionaryVersion, RecordCounter
from registry.services.dictionary import current_dictionary_version

from .params import Params
from .responses import ApiError, object_response, rows_response, text_response

# The REDCap API version whose behaviour this endpoint follows (PyCap and REDCapR check it).
REDCAP_VERSION = "14.0.0"


def metadata(user, params: Params, fmt: str) -> HttpResponse:
    version = current_dictionary_version()
    fields, forms = set(params.array("fields")), set(params.array("forms"))
    rows = [
        row
        for row in version.dictionary.to_json()
        if (not fields and not forms) or row["field_name"] in fields or row["form_name"] in forms
    ]
    return rows_response(rows, fmt, columns=list(METADATA_KEYS))


def instruments(user, params: Params, fmt: str) -> HttpResponse:
    version = current_dictionary_version()
    rows = [
        {"instrument_name": name, "instrument_label": label}
        for name, label in version.dictionary.forms
    ]
    return rows_response(rows, fmt)


def export_field_names(user, params: Params, fmt: str) -> HttpResponse:
    version = current_dictionary_version()
    wanted = params.get("field")
    if wanted and wanted not in version.dictionary:
        raise ApiError(f"The field '{wanted}' does not exist")
    rows = []
    for c in export_columns(version, ExportOptions(data_access_group=False)):
        if c.kind not in ("record_id", "value", "checkbox"):
            continue
        base = c.field.name
        if wanted and base != wanted:
            continue
        rows.append(
            {"original_field_name": base, "choice_value": c.code, "export_field_name": c.name}
        )
    return rows_response(rows, fmt)


def project_info(user, params: Params, fmt: str) -> HttpResponse:
    version = current_dictionary_version()
    first = DictionaryVersion.objects.order_by("number").first()
    created = first.created_at if first else timezone.now()
    info = {
        "project_id": 1,
        "project_title": version.project.get("title", "Registry"),
        "creation_time": timezone.localtime(created).strftime("%Y-%m-%d %H:%M:%S"),
        "production_time": timezone.localtime(created).strftime("%Y-%m-%d %H:%M:%S"),
        "in_production": 1,
        "project_language": "English",
        "purpose": 2,
        "purpose_other": "",
        "project_notes": f"Data dictionary version {version.number}",
        "custom_record_label": "",
        "secondary_unique_field": "",
        "is_longitudinal": 0,
        "has_repeating_instruments_or_events": 1 if version.repeating_instruments else 0,
        "surveys_enabled": 0,
        "scheduling_enabled": 0,
        "record_autonumbering_enabled": 1,
        "randomization_enabled": 0,
        "ddp_enabled": 0,
        "project_irb_number": "",
        "project_grant_number": "",
        "project_pi_firstname": "",
        "project_pi_lastname": "",
        "display_today_now_button": 1,
        "missing_data_codes": " | ".join(
            f"{m['code']}, {m['label']}" for m in version.missing_codes
        ),
        "external_modules": "",
        "bypass_branching_erase_field_prompt": 0,
    }
    return object_response(info, fmt)


def version_text(user, params: Params, fmt: str) -> HttpResponse:
    return text_response(REDCAP_VERSION)


def dags(user, params: Params, fmt: str) -> HttpResponse:
    centers = access_for(user).readable_center_ids()
    qs = Center.objects.all() if centers is None else Center.objects.filter(pk__in=centers)
    rows = [
        {
            "data_access_group_name": c.name,
            "unique_group_name": c.code.lower(),
            "data_access_group_id": c.pk,
        }
        for c in qs.order_by("code")
    ]
    return rows_response(rows, fmt)


def users(user, params: Params, fmt: str) -> HttpResponse:
    centers = access_for(user).readable_center_ids()
    members = Membership.objects.select_related("user", "center").order_by("user__username")
    if centers is not None:
        members = members.filter(center_id__in=centers)
    by_user: dict[int, dict] = {}
    for m in members:
        row = by_user.setdefault(
            m.user_id,
            {
                "username": m.user.username,
                "email": m.user.email,
                "firstname": m.user.first_name,
                "lastname": m.user.last_name,
                "expiration": "",
                "data_access_group": "",
                "data_access_group_id": "",
                "roles": [],
                "api_export": 1,
                "api_import": 0,
                "lock_records": 0,
                "record_delete": 0,
                "record_create": 0,
            },
        )
        row["roles"].append(m.role)
        if m.center_id:
            row["data_access_group"] = m.center.code.lower()
            row["data_access_group_id"] = m.center_id
            row["api_import"] = row["record_create"] = row["record_delete"] = 1
            if m.role == "site_investigator":
                row["lock_records"] = 1
    rows = [dict(r, roles=",".join(r["roles"])) for r in by_user.values()]
    return rows_response(rows, fmt)


def log(user, params: Params, fmt: str) -> HttpResponse:
    events = AuditEvent.objects.visible_to(user).order_by("seq")
    if record := params.get("record"):
        events = events.filter(record_id=record)
    if begin := params.when("beginTime"):
        events = events.filter(occurred_at__gte=begin)
    if end := params.when("endTime"):
        events = events.filter(occurred_at__lte=end)
    if username := params.get("user"):
        events = events.filter(actor_id__in=User.objects.filter(username=username).values("pk"))
    names = dict(User.objects.values_list("pk", "username"))
    rows = []
    for e in events.iterator(chunk_size=2000):
        detail = e.field and f"{e.field} = {e.new_value!r}" or (e.reason or "")
        rows.append(
            {
                "timestamp": timezone.localtime(e.occurred_at).strftime("%Y-%m-%d %H:%M")
                if e.occurred_at
                else "",
                "username": names.get(e.actor_id, e.actor_name),
                "action": e.action,
                "details": detail,
                "record": e.record_id,
            }
        )
    return rows_response(rows, fmt)


def next_record_name(user, params: Params, fmt: str) -> HttpResponse:
    centers = access_for(user).editable_centers
    if not centers:
        raise ApiError("You cannot create records: you are not a member of a centre", 403)
    center = sorted(centers, key=lambda c: c.code)[0]
    counter = RecordCounter.objects.filter(center=center).first()
    return text_response(f"{center.code}-{(counter.last_number if counter else 0) + 1:04d}")
