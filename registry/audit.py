"""Writing to the audit trail, and handing the request's context to the database triggers."""

from __future__ import annotations

from typing import Any

from centers.audit_context import set_actor

from .models import AuditEvent


def set_audit_context(*, user=None, reason: str = "") -> None:
    """Tell this transaction's triggers who acts and why (transaction-local settings)."""
    set_actor(user, reason)


def record_event(
    action: str,
    *,
    user=None,
    record=None,
    instrument: str = "",
    instance: int | None = None,
    field: str = "",
    old: Any = None,
    new: Any = None,
    reason: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """Append one event. The database assigns seq, time, hash chain and fills the actor."""
    return AuditEvent.objects.create(
        action=action,
        actor_id=user.pk if user is not None and user.pk else None,
        actor_name=user.full_name if user is not None and user.pk else "",
        center_id=record.center_id if record is not None else None,
        record_id=record.record_id if record is not None else "",
        instrument=instrument,
        instance=instance,
        field=field,
        old_value=old,
        new_value=new,
        reason=reason,
        details=details or {},
    )
