"""Locking with an electronic signature, unlocking with a reason, and checking signatures."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext as _

from centers.access import access_for
from centers.reauth import PasswordCheck, check_signing_password
from registry.audit import record_event, set_audit_context
from registry.fastjson import all_plain, dumps_canonical
from registry.models import DictionaryVersion, FormStatus, Query, Record, Signature
from registry.outbox import announce_dataset_change
from registry.quality import Finding, open_findings

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


# Stored with the signature as written here (English); shown translated in the forms.
SIGNATURE_MEANINGS = [
    gettext_noop("I reviewed this record and approve it as complete and accurate."),
    gettext_noop("I am the investigator responsible for this record and approve its content."),
]


def signed_payload(
    *,
    record_id: str,
    center_id: int,
    rows: Iterable[tuple[str, int, int, dict]],
    signer_id: int,
    signer_name: str,
    meaning: str,
    signed_at: datetime,
    plain: bool | None = None,
) -> bytes:
    """The exact bytes a signature's SHA-256 covers: the record's identity and every value, its
    rows (instrument, instance, status, data) ordered by instrument and instance, as
    json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) writes them.
    ``plain``: whether the rows' data are plain (registry.fastjson.all_plain), when the caller
    already knows (the export learns it as it decodes them); checked here otherwise."""
    instruments = [
        {"instrument": form, "instance": instance, "status": status, "data": data}
        for form, instance, status, data in rows
    ]
    content = {
        "record_id": record_id,
        "center_id": center_id,
        "instruments": instruments,
        "signer_id": signer_id,
        "signer_name": signer_name,
        "meaning": meaning,
        "signed_at": signed_at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    if plain is None:
        plain = all_plain([i["data"] for i in instruments])
    return dumps_canonical(content, plain=plain)


def signed_content(
    record: Record, *, signer_id: int, signer_name: str, meaning: str, signed_at
) -> bytes:
    """signed_payload of a record as stored now."""
    rows = record.instruments.filter(deleted_at__isnull=True).order_by("instrument", "instance")
    return signed_payload(
        record_id=record.record_id,
        center_id=record.center_id,
        rows=rows.values_list("instrument", "instance", "status", "data"),
        signer_id=signer_id,
        signer_name=signer_name,
        meaning=meaning,
        signed_at=signed_at,
    )


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


def require_signing_password(
    *, user, password: str, request: HttpRequest | None, refused: str, code: str = "", **audit
) -> None:
    """The signer's password (and second-factor code, if they have one), checked under the
    log-in lockout (centers.reauth); a refusal is audited (with ``audit``: the records or form
    it was for) and raised with ``refused``."""
    check = check_signing_password(user=user, password=password, request=request, code=code)
    if check is PasswordCheck.OK:
        return
    record_event("signature_failed", user=user, reason=check.value, **audit)
    if check is PasswordCheck.LOCKED_OUT:
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        raise PermissionDenied(
            _(
                "Your account is locked after too many wrong passwords, for log-in and for "
                "signing; try again in %(minutes)s minutes or ask a data manager."
            )
            % {"minutes": minutes}
            + f" {refused}"
        )
    if check is PasswordCheck.MUST_CHANGE_PASSWORD:
        raise PermissionDenied(
            _(
                "Your password was set by someone else and is one-time: change it first "
                "(/accounts/password/change/)."
            )
            + f" {refused}"
        )
    if check is PasswordCheck.WRONG_CODE:
        raise PermissionDenied(
            gettext(
                "The code from your authenticator app (or recovery code) is missing or not "
                "correct; %(refused)s"
            )
            % {"refused": refused[0].lower() + refused[1:]}
        )
    raise PermissionDenied(
        _("The password is not correct; %(refused)s")
        % {"refused": f"{refused[0].lower()}{refused[1:]}"}
    )


@dataclass(frozen=True)
class Blocker:
    """One reason a record cannot be locked, and the form it is about (if any)."""

    text: str
    instrument: str = ""
    instance: int = 1
    queries: bool = False
    finding: Finding | None = None

    def __str__(self) -> str:
        return self.text


def lock_blockers(record: Record, dictionary_version: DictionaryVersion) -> list[str]:
    """Why this record cannot be locked yet (empty: it can)."""
    return [b.text for b in lock_blocker_list(record, dictionary_version)]


def lock_blocker_list(record: Record, dictionary_version: DictionaryVersion) -> list[Blocker]:
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
                    blockers.append(
                        Blocker(
                            _("%(form)s #%(instance)s is not Complete.")
                            % {"form": label, "instance": row.instance},
                            form,
                            row.instance,
                        )
                    )
        elif not instances or instances[0].status != FormStatus.COMPLETE:
            blockers.append(Blocker(_("%(form)s is not Complete.") % {"form": label}, form))
    for finding in open_findings(record, dictionary_version):
        blockers.append(
            Blocker(
                _("Data-quality finding: %(message)s (acknowledge it or fix it).")
                % {"message": finding.message},
                finding.instrument,
                finding.instance,
                finding=finding,
            )
        )
    open_queries = record.queries.exclude(status=Query.Status.CLOSED).count()
    if open_queries:
        blockers.append(
            Blocker(
                ngettext(
                    "%(n)s query is still open.", "%(n)s queries are still open.", open_queries
                )
                % {"n": open_queries},
                queries=True,
            )
        )
    return blockers


def lock_records(
    *,
    user,
    records: list[Record],
    password: str,
    meaning: str,
    dictionary_version: DictionaryVersion,
    request: HttpRequest | None = None,
    code: str = "",
) -> list[Signature]:
    """One action, one signature per record; all or nothing. ``code``: the signer's
    second-factor code, required when they have set up two-factor log-in."""
    require_signing_password(
        user=user,
        password=password,
        code=code,
        request=request,
        refused=_("Nothing was signed."),
        details={"records": [r.record_id for r in records]},
    )
    if not meaning.strip():
        raise LockRefused(_("Choose the meaning of your signature."))
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
                raise PermissionDenied(
                    _("You cannot lock records of this centre (%(record_id)s).")
                    % {"record_id": current}
                )
            if current.is_locked:
                raise LockRefused(
                    _("Record %(record_id)s is already locked.") % {"record_id": current}
                )
            blockers = lock_blockers(current, dictionary_version)
            if blockers:
                raise LockRefused(
                    _("Record %(record_id)s cannot be locked yet.") % {"record_id": current},
                    blockers=blockers,
                )
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
    *,
    user,
    record: Record,
    password: str,
    meaning: str,
    dictionary_version: DictionaryVersion,
    request: HttpRequest | None = None,
    code: str = "",
) -> Signature:
    return lock_records(
        user=user,
        records=[record],
        password=password,
        meaning=meaning,
        dictionary_version=dictionary_version,
        request=request,
        code=code,
    )[0]


def unlock_record(*, user, record: Record, reason: str) -> None:
    """Data managers only; voids the signature (kept in history); audited with the reason."""
    if not access_for(user).is_data_manager:
        raise PermissionDenied(_("Only a data manager can unlock a record."))
    if not reason.strip():
        raise ReasonRequired(_("Unlocking needs a reason."))
    once_more_if_connection_lost(lambda: _unlock(user=user, record=record, reason=reason))


def _unlock(*, user, record: Record, reason: str) -> None:
    with transaction.atomic():
        set_audit_context(user=user, reason=reason.strip())
        current = Record.objects.select_for_update().get(pk=record.pk)
        if not current.is_locked:
            raise LockRefused(_("Record %(record_id)s is not locked.") % {"record_id": current})
        now = timezone.now()
        for signature in current.signatures.filter(voided_at__isnull=True):
            signature.voided_at = now
            signature.voided_by = user
            signature.void_reason = reason.strip()
            signature.save(update_fields=["voided_at", "voided_by", "void_reason"])
        current.is_locked = False
        current.save(update_fields=["is_locked", "updated_at"])
        announce_dataset_change(action="unlock", record_ids=[current.record_id])


def lock_instrument(
    *, user, row, password: str, request: HttpRequest | None = None, code: str = ""
) -> None:
    """REDCap's per-form lock: the instance becomes read-only until a data manager unlocks it."""
    from registry.models import InstrumentData

    if not access_for(user).can_lock_center(row.record.center_id):
        raise PermissionDenied(_("Only a site investigator of this centre can lock a form."))
    require_signing_password(
        user=user,
        password=password,
        code=code,
        request=request,
        refused=_("The form was not locked."),
        record=row.record,
        instrument=row.instrument,
    )
    with transaction.atomic():
        set_audit_context(user=user, reason="instrument locked")
        current = InstrumentData.objects.select_for_update().get(pk=row.pk)
        if Record.objects.filter(pk=current.record_id, is_locked=True).exists():
            raise LockRefused(_("The record is locked and signed: its forms are locked with it."))
        if current.status != FormStatus.COMPLETE:
            raise LockRefused(_("Only a Complete form can be locked."))
        if current.is_locked:
            raise LockRefused(_("This form is already locked."))
        current.is_locked = True
        current.locked_at = timezone.now()
        current.locked_by = user
        current.save(update_fields=["is_locked", "locked_at", "locked_by", "updated_at"])


def unlock_instrument(*, user, row, reason: str) -> None:
    from registry.models import InstrumentData

    if not access_for(user).is_data_manager:
        raise PermissionDenied(_("Only a data manager can unlock a form."))
    if not reason.strip():
        raise ReasonRequired(_("Unlocking needs a reason."))
    with transaction.atomic():
        set_audit_context(user=user, reason=reason.strip())
        current = InstrumentData.objects.select_for_update().get(pk=row.pk)
        if Record.objects.filter(pk=current.record_id, is_locked=True).exists():
            raise LockRefused(_("The record is locked and signed: unlock the record first."))
        if not current.is_locked:
            raise LockRefused(_("This form is not locked."))
        current.is_locked = False
        current.save(update_fields=["is_locked", "updated_at"])
