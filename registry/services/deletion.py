"""Deleting a form instance (REDCap's "Delete data for this form only"), restoring deleted data
from the audit trail, and a data manager's record delete, restore and rename.

Nothing is ever removed: a deletion sets ``deleted_at`` and the database writes the deleted
content into the ``instance_delete`` audit event (migration 0010); a restore puts back what that
event holds. Locked records and locked forms refuse all of it, here and in the triggers."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from centers.access import access_for
from centers.models import User
from registry.audit import set_audit_context
from registry.models import AuditEvent, InstrumentData, Record

from .errors import PermissionDenied, ReasonRequired, RecordLocked, RegistryError

RESTORABLE_ACTIONS = ("instance_delete", "record_delete")
RECORD_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


class NothingToRestore(RegistryError):
    """The deleted data are back already, or were entered again since."""


def _reason(reason: str, what: str) -> str:
    if not reason.strip():
        raise ReasonRequired(f"{what} needs a reason.")
    return reason.strip()


def _unlocked_record(record: Record) -> Record:
    current = Record.objects.select_for_update(of=("self",)).get(pk=record.pk)
    if current.is_locked:
        raise RecordLocked(f"Record {current.record_id} is locked; a data manager can unlock it.")
    return current


def instrument_delete(
    *, user: User, record: Record, instrument: str, instance: int, reason: str
) -> InstrumentData:
    """Soft-delete one form instance of a record of the user's own centre."""
    if not access_for(user).can_edit_center(record.center_id):
        raise PermissionDenied("Only the record's centre can delete its forms.")
    reason = _reason(reason, "Deleting a form")
    with transaction.atomic():
        _unlocked_record(record)
        row = (
            InstrumentData.objects.select_for_update()
            .filter(record=record, instrument=instrument, instance=instance)
            .filter(deleted_at__isnull=True)
            .first()
        )
        if row is None:
            raise RegistryError("This form has no data to delete.")
        if row.is_locked:
            raise RecordLocked("This form is locked; a data manager can unlock it first.")
        set_audit_context(user=user, reason=reason)
        row.deleted_at = timezone.now()
        row.updated_by = user
        row.save(update_fields=["deleted_at", "updated_by", "updated_at"])
        return row


def deleted_events(user: User):
    """Deletions a data manager may restore: the audit events, newest first."""
    return AuditEvent.objects.visible_to(user).filter(action__in=RESTORABLE_ACTIONS)


def restore_deleted(*, user: User, event: AuditEvent, reason: str) -> Record:
    """Put back what a deletion event took away (data managers only)."""
    if not access_for(user).is_data_manager:
        raise PermissionDenied("Only a data manager can restore deleted data.")
    if event.action not in RESTORABLE_ACTIONS:
        raise RegistryError("This event is not a deletion.")
    reason = _reason(reason, "Restoring deleted data")
    with transaction.atomic():
        record = Record.objects.select_for_update().filter(record_id=event.record_id).first()
        if record is None:
            raise NothingToRestore("The record has been renamed since; restore it by its new id.")
        if record.is_locked:
            raise RecordLocked(f"Record {record.record_id} is locked.")
        set_audit_context(user=user, reason=reason)
        if event.action == "record_delete":
            if record.deleted_at is None:
                raise NothingToRestore(f"Record {record.record_id} is not deleted.")
            record.deleted_at = None
            record.save(update_fields=["deleted_at", "updated_at"])
            return record
        row = (
            InstrumentData.objects.select_for_update()
            .filter(record=record, instrument=event.instrument, instance=event.instance)
            .first()
        )
        if row is None or row.deleted_at is None:
            raise NothingToRestore(
                "This form has data again (entered after the deletion): nothing was restored."
            )
        kept = event.old_value or {}
        row.data = kept.get("data", row.data)
        row.status = kept.get("status", row.status)
        row.ever_completed = kept.get("ever_completed", row.ever_completed)
        row.deleted_at = None
        row.version += 1
        row.updated_by = user
        row.save()
        return record


def former_record_ids(record_id: str) -> list[str]:
    """The ids a record had before its renames, newest first (its history is kept under them)."""
    found: list[str] = []
    current = record_id
    while True:
        change = (
            AuditEvent.objects.filter(action="record_identity_change", record_id=current)
            .order_by("-seq")
            .first()
        )
        old = change.old_value if change else None
        if not isinstance(old, str) or old in found or old == record_id:
            return found
        found.append(old)
        current = old


def record_delete(*, user: User, record: Record, reason: str) -> None:
    """A data manager soft-deletes a record: it leaves every list, export and statistic."""
    if not access_for(user).is_data_manager:
        raise PermissionDenied("Only a data manager can delete a record.")
    reason = _reason(reason, "Deleting a record")
    with transaction.atomic():
        current = _unlocked_record(record)
        set_audit_context(user=user, reason=reason)
        current.deleted_at = timezone.now()
        current.save(update_fields=["deleted_at", "updated_at"])


def record_rename(*, user: User, record: Record, new_id: str, reason: str) -> Record:
    """A data manager renames a record (REDCap's rename); the old id stays in the trail."""
    if not access_for(user).is_data_manager:
        raise PermissionDenied("Only a data manager can rename a record.")
    reason = _reason(reason, "Renaming a record")
    new_id = new_id.strip()
    if not RECORD_ID_PATTERN.match(new_id):
        raise RegistryError(
            "A record id is 1 to 32 letters, digits, '_', '.' or '-', starting with a letter "
            "or digit."
        )
    with transaction.atomic():
        current = _unlocked_record(record)
        if new_id == current.record_id:
            raise RegistryError("The new id is the same as the old one.")
        if Record.objects.filter(record_id=new_id).exists():
            raise RegistryError(f"Record id {new_id} is taken (ids are never reused).")
        if AuditEvent.objects.filter(record_id=new_id).exists():
            raise RegistryError(f"Record id {new_id} was used before (ids are never reused).")
        set_audit_context(user=user, reason=reason)
        current.record_id = new_id
        current.save(update_fields=["record_id", "updated_at"])
        return current
