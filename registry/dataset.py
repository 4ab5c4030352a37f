"""The locked dataset: the records the study's statistics and locked-only exports are made of,
its version, and one consistent read of its rows. Analytics, the exports and the API read it
only through this module.

A record is in it when it is locked, not deleted, carries a current (unvoided) signature, and
that signature's SHA-256 still matches the record's content. The first three are a query
(`locked_records`); the hash needs the rows, so it is checked where the rows are read
(`LockedDataset.records`, `signature_status`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from .models import LockOutbox, Record, Signature
from .models.records import RecordQuerySet
from .services.locking import signed_payload

# One row of a record, in the order the signature covers (instrument, instance).
ROWS_SQL = """
SELECT i.record_id, i.instrument, i.instance, i.status, i.data::text
FROM registry_instrumentdata i
WHERE i.record_id = ANY(%s) AND i.deleted_at IS NULL
ORDER BY i.record_id, i.instrument, i.instance
"""


def locked_records(records: RecordQuerySet | None = None) -> RecordQuerySet:
    """Locked, not deleted, with a current signature (narrowing ``records`` when given)."""
    qs = Record.objects.all() if records is None else records
    current = Signature.objects.filter(record=OuterRef("pk"), voided_at__isnull=True)
    return qs.filter(is_locked=True, deleted_at__isnull=True).filter(Exists(current))


@dataclass(frozen=True)
class SignedBy:
    """A record's current signature: what its hash covers besides the rows."""

    pk: int
    signer_id: int
    signer_name: str
    meaning: str
    signed_at: datetime
    content_sha256: str


@dataclass(frozen=True)
class DatasetRow:
    instrument: str
    instance: int
    status: int
    data: dict
    text: str  # the stored JSON as PostgreSQL prints it (stable: what content digests hash)


@dataclass(frozen=True)
class Member:
    """A record in the locked dataset, before its rows are read. (pk, signature.pk) names one
    immutable state of the record: a change needs an unlock, which voids the signature."""

    pk: int
    record_id: str
    center_id: int
    centre: str
    signature: SignedBy


@dataclass(frozen=True)
class LockedRecord:
    member: Member
    rows: list[DatasetRow]

    @property
    def record_id(self) -> str:
        return self.member.record_id

    @property
    def centre(self) -> str:
        return self.member.centre


def signature_status(
    record_id: str,
    center_id: int,
    rows: Iterable[tuple[str, int, int, dict]],
    signature: SignedBy | None,
) -> str:
    """'valid', 'invalid' (content changed since signing) or 'none', for rows (instrument,
    instance, status, data) already in the signature's order."""
    if signature is None:
        return "none"
    payload = signed_payload(
        record_id=record_id,
        center_id=center_id,
        rows=rows,
        signer_id=signature.signer_id,
        signer_name=signature.signer_name,
        meaning=signature.meaning,
        signed_at=signature.signed_at,
    )
    return "valid" if hashlib.sha256(payload).hexdigest() == signature.content_sha256 else "invalid"


@dataclass
class LockedDataset:
    """One read of the locked dataset, valid inside `read_locked_dataset`'s block."""

    version: int
    created_at: datetime | None
    rejected: list[str] = field(default_factory=list)  # record ids whose hash does not match

    def members(self) -> list[Member]:
        qs = (
            Signature.objects.filter(voided_at__isnull=True, record__in=locked_records())
            .order_by("record_id")
            .values_list(
                "record_id",
                "record__record_id",
                "record__center_id",
                "record__center__code",
                "pk",
                "signer_id",
                "signer_name",
                "meaning",
                "signed_at",
                "content_sha256",
            )
        )
        # Plain tuples from the cursor, without the ORM's per-row work: this runs on every
        # recompute, over every locked record.
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [
            Member(pk, rid, center_id, code, SignedBy(*signature))
            for pk, rid, center_id, code, *signature in rows
        ]

    def records(self, members: Iterable[Member]) -> Iterator[LockedRecord]:
        """The members with their rows, in the given order; a member whose signature no longer
        matches its rows is left out and named in ``rejected``."""
        members = list(members)
        by_pk: dict[int, list[DatasetRow]] = {m.pk: [] for m in members}
        if by_pk:
            with connection.cursor() as cursor:
                cursor.execute(ROWS_SQL, [list(by_pk)])
                for pk, instrument, instance, status, text in cursor.fetchall():
                    by_pk[pk].append(
                        DatasetRow(instrument, instance, status, json.loads(text), text)
                    )
        for member in members:
            rows = by_pk[member.pk]
            plain = ((r.instrument, r.instance, r.status, r.data) for r in rows)
            if signature_status(member.record_id, member.center_id, plain, member.signature) != (
                "valid"
            ):
                self.rejected.append(member.record_id)
                continue
            yield LockedRecord(member, rows)


@contextmanager
def read_locked_dataset(*, wait_for_locks: bool = True) -> Iterator[LockedDataset]:
    """A consistent read of the locked dataset and its version: one REPEATABLE READ snapshot
    (when not already inside a transaction) for everything read in the block.

    The outbox is share-locked first (with ``wait_for_locks``; released when the block ends)
    because a dataset version is the outbox id its lock transaction drew, and ids are drawn
    before commit: without the lock, version 7 could be committed and visible while version 6
    is still in flight, and a read would label as version 7 a dataset missing 6's records.
    SHARE waits for those in-flight lock transactions and holds new ones back until the block
    ends, so keep the block short (``wait_for_locks=False`` for a read that may be inexact,
    e.g. warming a cache)."""
    fresh = not connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            if fresh:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            if wait_for_locks:
                # Before any query: the snapshot is taken by the first query, after the wait.
                cursor.execute("LOCK TABLE registry_lockoutbox IN SHARE MODE")
        newest = LockOutbox.objects.order_by("-dataset_version").first()
        yield LockedDataset(
            version=newest.dataset_version if newest else 0,
            created_at=newest.created_at if newest else None,
        )


def current_version() -> int:
    """The newest dataset version (0 before the first lock)."""
    last = (
        LockOutbox.objects.order_by("-dataset_version")
        .values_list("dataset_version", flat=True)
        .first()
    )
    return last or 0


@dataclass(frozen=True)
class Changes:
    """What happened to the locked dataset after a given version."""

    since_version: int
    latest_version: int
    versions: int  # how many dataset versions are newer
    locked: int  # records locked in them
    unlocked: int  # records unlocked in them
    oldest_at: datetime | None  # when the first of them committed


def changes_since(version: int) -> Changes:
    entries = list(
        LockOutbox.objects.filter(dataset_version__gt=version)
        .order_by("dataset_version")
        .values_list("dataset_version", "action", "record_ids", "created_at")
    )
    locked = sum(len(ids) for _v, action, ids, _at in entries if action == "lock")
    unlocked = sum(len(ids) for _v, action, ids, _at in entries if action != "lock")
    return Changes(
        since_version=version,
        latest_version=entries[-1][0] if entries else current_version(),
        versions=len(entries),
        locked=locked,
        unlocked=unlocked,
        oldest_at=entries[0][3] if entries else None,
    )
