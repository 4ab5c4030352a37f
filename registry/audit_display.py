"""Audit events as a person reads them: "Sex: Male -> Female", "Signed by Ida Bianchi
(meaning ...) on 03/12/2026 18:04 CET", form and field labels, times in the person's format.
The stored event is untouched; the CSV download keeps the raw values for machines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils.dateparse import parse_datetime

from registry.dictionary import Dictionary
from registry.display import field_label, form_label, format_datetime, value_shown
from registry.models import AuditEvent, FormStatus

__all__ = ["ACTION_LABELS", "EventRow", "describe_events"]

ACTION_LABELS = {
    "create": "Value entered",
    "update": "Value changed",
    "form_status": "Form status",
    "instance_delete": "Form instance deleted",
    "record_create": "Record created",
    "record_delete": "Record deleted",
    "lock": "Record locked",
    "unlock": "Record unlocked",
    "signature": "Signed",
    "signature_void": "Signature voided",
    "signature_failed": "Signature refused",
    "login": "Logged in",
    "logout": "Logged out",
    "login_failed": "Log-in refused",
    "role_change": "Role changed",
    "dictionary_import": "Dictionary imported",
    "dictionary_version": "Dictionary version",
    "query_open": "Query opened",
    "query_answer": "Query answered",
    "query_close": "Query closed",
    "finding_acknowledge": "Finding acknowledged",
    "dq_rule_create": "Data-quality rule added",
    "dq_rule_change": "Data-quality rule changed",
    "audit_export": "Audit log downloaded",
    "export": "Data exported",
    "api_call": "API call",
    "data_import_started": "Data import started",
    "data_import": "Data imported",
}
_STATUS = {int(k): v for k, v in FormStatus.choices}


@dataclass(frozen=True)
class EventRow:
    event: AuditEvent
    when: str
    action: str
    form: str
    field: str
    old: str
    new: str

    @property
    def change(self) -> str:
        """One line: "Sex: Male -> Female", or the action's description."""
        if self.old and self.new:
            body = f"{self.old} -> {self.new}"
        else:
            body = self.new or (f"{self.old} -> (empty)" if self.old else "")
        return f"{self.field}: {body}" if self.field and body else body


def _moment(value: object, date_order: str) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else value
    return format_datetime(moment, date_order) if isinstance(moment, datetime) else str(value)


def _plain(value: object, date_order: str) -> str:
    """Structured values (roles, rule switches, lock details) as 'key: value' text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            shown = _moment(item, date_order) if key.endswith("_at") else _plain(item, date_order)
            parts.append(f"{key.replace('_', ' ')}: {shown}")
        return "; ".join(parts)
    if isinstance(value, list):
        return ", ".join(_plain(v, date_order) for v in value)
    return str(value)


def _values(
    e: AuditEvent, dictionary: Dictionary | None, date_order: str, missing: dict[str, str]
) -> tuple[str, str]:
    if e.action in ("create", "update"):
        f = dictionary.field(e.field) if dictionary is not None and e.field in dictionary else None
        return (
            value_shown(f, e.old_value, date_order, missing),
            value_shown(f, e.new_value, date_order, missing),
        )
    if e.action == "form_status":
        return (
            _STATUS.get(e.old_value, _plain(e.old_value, date_order))
            if e.old_value is not None
            else "",
            _STATUS.get(e.new_value, _plain(e.new_value, date_order)),
        )
    if e.action == "signature" and isinstance(e.new_value, dict):
        sig = e.new_value
        signed = (e.details or {}).get("signed_at") or e.occurred_at
        return "", (
            f"Signed by {sig.get('signer', '')}, meaning \u201c{sig.get('meaning', '')}\u201d, "
            f"on {_moment(signed, date_order)}"
        )
    if e.action == "signature_void":
        return "", f"Signature voided: {(e.details or {}).get('void_reason', '')}"
    return _plain(e.old_value, date_order), _plain(e.new_value, date_order)


def describe_events(
    events: Iterable[AuditEvent],
    *,
    dictionary: Dictionary | None,
    date_order: str = "dmy",
    missing_codes: list[dict] | None = None,
    seconds: bool = True,
) -> list[EventRow]:
    missing = {str(c["code"]): str(c.get("label", c["code"])) for c in missing_codes or []}
    rows = []
    for e in events:
        old, new = _values(e, dictionary, date_order, missing)
        form = form_label(dictionary, e.instrument) if e.instrument else ""
        if form and e.instance:
            form = f"{form} #{e.instance}"
        rows.append(
            EventRow(
                event=e,
                when=format_datetime(e.occurred_at, date_order, seconds=seconds),
                action=ACTION_LABELS.get(e.action, e.action.replace("_", " ")),
                form=form,
                field=field_label(dictionary, e.field),
                old=old,
                new=new,
            )
        )
    return rows
