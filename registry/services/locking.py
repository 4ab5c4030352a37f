"""Locking with an electronic signature, unlocking with a reason, and checking signatures."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from centers.access import access_for
from centers.backends import password_is_valid
from registry.audit import record_event, set_audit_context
from registry.models import DictionaryVersion, FormStatus, Query, Record, Signature
from registry.outbox import announce_dataset_change
from registry.quality import open_findings

from .errors import LockRefused, PermissionDenied, ReasonRequired

T = TypeVar("T")


def once_more_if_connection_lost(work: Callable[[], T]) -> T:
    """Run a lock or unlock transaction; if the database connection died under it (a restart, a
    failover, pg_terminate_backend), run it once more on a new connection. Safe because the
    transaction starts by re-reading the record under a row lock: if the first attempt did
    commit before the connection died, the second finds it done and refuses clearly."""
    if connection.in_atomic_block:
        return work()
    try:
        return work()
    except (OperationalError, InterfaceError):
        connection.close()
        return work()


SIGNATURE_MEANINGS = [
    "I reviewed this record and approve it as complete and accurate.",
    "I am the investigator responsible for this record and approve its content.",
]


def signed_content(
    record: Record, *, signer_id: int, signer_name: str, meaning: str, signed_at
) -> bytes:
    """The exact bytes a signature's SHA-256 covers: the record's identity and every value."""
    rows = record.instruments.filter(deleted_at__isnull=True).order_by("instrument", "instance")
    content = {
        "record_id": record.record_id,
        "center_id": record.center_id,
        "instruments": [
            {"instrument": r.instrument, "instance": r.instance, "status": r.status, "data": r.data}
            for r in rows
        ],
        "signer_id": signer_id,
        "signer_name": signer_name,
        "meaning": meaning,
        "signed_at": signed_at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(record: Record, signature: Signature) -> str:
    return hashlib.sha256(
        signed_content(
            record,
            signer_id=signature.signer_id,
            signer_name=signature.signer_name,
            meaning=signature.meaning,
            signed_at=signature.signed_at,
        )
    ).hexdigest()


def signature_is_valid(signature: Signature) -> bool:
    return content_hash(signature.record, signature) == signature.content_sha256


def current_signature(record: Record) -> Signature | None:
    return record.signatures.filter(voided_at__isnull=True).first()


def lock_blockers(record: Record, dictionary_version: DictionaryVersion) -> list[str]:
    """Why this record cannot be locked yet (empty: it can)."""
    blockers = []
    dictionary = dictionary_version.dictionary
    repeating = set(dictionary_version.repeating_instruments)
    rows = list(record.instruments.filter(deleted_at__isnull=True))
    by_form: dict[str, list] = {}
    for row in rows:
        by_form.setdefault(row.instrument, []).append(row)
    for form, label in dictionary.forms:
        instances = by_form.get(form, [])
        if form in repeating:
            for row in instances:
                if row.status != FormStatus.COMPLETE:
                    blockers.append(f"{label} #{row.instance} is not Complete.")
        elif not instances or instances[0].status != FormStatus.COMPLETE:
            blockers.append(f"{label} is not Complete.")
    for finding in open_findings(record, dictionary_version):
        blockers.append(f"Data-quality finding: {finding.message} (acknowledge it or fix it).")
    open_queries = record.queries.exclude(status=Query.Status.CLOSED).count()
    if open_queries:
        blockers.append(f"{open_queries} query(ies) are still open.")
    return blockers


def lock_records(
    *,
    user,
    records: list[Record],
    password: str,
    meaning: str,
    dictionary_version: DictionaryVersion,
) -> list[Signature]:
    """One action, one signature per record; all or nothing."""
    if not password_is_valid(user, password):
        record_event(
            "signature_failed", user=user, details={"records": [r.record_id for r in records]}
        )
        raise PermissionDenied("The password is not correct; nothing was signed.")
    if not meaning.strip():
        raise LockRefused("Choose the meaning of your signature.")
    access = access_for(user)
    return once_more_if_connection_lost(
        lambda: _lock(user, access, records, meaning, dictionary_version)
    )


def _lock(
    user, access, records: list[Record], meaning: str, dictionary_version: DictionaryVersion
) -> list[Signature]:
    signatures = []
    with transaction.atomic():
        set_audit_context(user=user, reason=meaning)
        for record in records:
            current = Record.objects.select_for_update().get(pk=record.pk)
            if not access.can_lock_center(current.center_id):
                raise PermissionDenied(f"You cannot lock records of this centre ({current}).")
            if current.is_locked:
                raise LockRefused(f"Record {current} is already locked.")
            blockers = lock_blockers(current, dictionary_version)
            if blockers:
                raise LockRefused(f"Record {current} cannot be locked yet.", blockers=blockers)
            signed_at = timezone.now()
            digest = hashlib.sha256(
                signed_content(
                    current,
                    signer_id=user.pk,
                    signer_name=user.full_name,
                    meaning=meaning,
                    signed_at=signed_at,
                )
            ).hexdigest()
            signatures.append(
                Signature.objects.create(
                    record=current,
                    signer=user,
                    signer_name=user.full_name,
                    meaning=meaning,
                    signed_at=signed_at,
                    content_sha256=digest,
                )
            )
            current.is_locked = True
            current.locked_at = signed_at
            current.locked_by = user
            current.save(update_fields=["is_locked", "locked_at", "locked_by", "updated_at"])
        announce_dataset_change(action="lock", record_ids=[r.record_id for r in records])
    return signatures


def lock_record(
    *, user, record: Record, password: str, meaning: str, dictionary_version: DictionaryVersion
) -> Signature:
    return lock_records(
        user=user,
        records=[record],
        password=password,
        meaning=meaning,
        dictionary_version=dictionary_version,
    )[0]


def unlock_record(*, user, record: Record, reason: str) -> None:
    """Data managers only; voids the signature (kept in history); audited with the reason."""
    if not access_for(user).is_data_manager:
        raise PermissionDenied("Only a data manager can unlock a record.")
    if not reason.strip():
        raise ReasonRequired("Unlocking needs a reason.")
    once_more_if_connection_lost(lambda: _unlock(user=user, record=record, reason=reason))


def _unlock(*, user, record: Record, reason: str) -> None:
    with transaction.atomic():
        set_audit_context(user=user, reason=reason.strip())
        current = Record.objects.select_for_update().get(pk=record.pk)
        if not current.is_locked:
            raise LockRefused(f"Record {current} is not locked.")
        now = timezone.now()
        for signature in current.signatures.filter(voided_at__isnull=True):
            signature.voided_at = now
            signature.voided_by = user
            signature.void_reason = reason.strip()
            signature.save(update_fields=["voided_at", "voided_by", "void_reason"])
        current.is_locked = False
        current.save(update_fields=["is_locked", "updated_at"])
        announce_dataset_change(action="unlock", record_ids=[current.record_id])


def lock_instrument(*, user, row, password: str) -> None:
    """REDCap's per-form lock: the instance becomes read-only until a data manager unlocks it."""
    from registry.models import InstrumentData

    if not access_for(user).can_lock_center(row.record.center_id):
        raise PermissionDenied("Only a site investigator of this centre can lock a form.")
    if not password_is_valid(user, password):
        record_event("signature_failed", user=user, record=row.record, instrument=row.instrument)
        raise PermissionDenied("The password is not correct; the form was not locked.")
    with transaction.atomic():
        set_audit_context(user=user, reason="instrument locked")
        current = InstrumentData.objects.select_for_update().get(pk=row.pk)
        if current.status != FormStatus.COMPLETE:
            raise LockRefused("Only a Complete form can be locked.")
        if current.is_locked:
            raise LockRefused("This form is already locked.")
        current.is_locked = True
        current.locked_at = timezone.now()
        current.locked_by = user
        current.save(update_fields=["is_locked", "locked_at", "locked_by", "updated_at"])


def unlock_instrument(*, user, row, reason: str) -> None:
    from registry.models import InstrumentData

    if not access_for(user).is_data_manager:
        raise PermissionDenied("Only a data manager can unlock a form.")
    if not reason.strip():
        raise ReasonRequired("Unlocking needs a reason.")
    with transaction.atomic():
        set_audit_context(user=user, reason=reason.strip())
        current = InstrumentData.objects.select_for_update().get(pk=row.pk)
        if not current.is_locked:
            raise LockRefused("This form is not locked.")
        current.is_locked = False
        current.save(update_fields=["is_locked", "updated_at"])
