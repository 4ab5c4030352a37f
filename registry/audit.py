"""Writing to the audit trail, and handing the request's context to the database triggers."""

from __future__ import annotations

from typing import Any

from django.db import connection

from centers.audit_context import set_actor

from .hostile_input import scrub
from .models import AuditEvent


def set_audit_context(*, user=None, reason: str = "") -> None:
    """Tell this transaction's triggers who acts and why (transaction-local settings)."""
    set_actor(user, reason)


def set_audit_dry_run() -> None:
    """This transaction's audit events stay out of the hash chain and take none of its lock;
    the database then refuses to commit it (migration 0013), so it can only roll back. Rolling
    back (to a savepoint, if nested) undoes the setting."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('registry.dry_run', 'on', true)")


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
    """Append one event. The database assigns seq, time, hash chain and fills the actor.

    Text that PostgreSQL cannot store (NUL, lone surrogates) is escaped, never refused: a
    refusal of hostile input must always be recordable (registry.hostile_input)."""
    return AuditEvent.objects.create(
        action=action,
        actor_id=user.pk if user is not None and user.pk else None,
        actor_name=user.full_name if user is not None and user.pk else "",
        center_id=record.center_id if record is not None else None,
        record_id=record.record_id if record is not None else "",
        instrument=scrub(instrument),
        instance=instance,
        field=scrub(field),
        old_value=scrub(old),
        new_value=scrub(new),
        reason=scrub(reason),
        details=scrub(details or {}),
    )
