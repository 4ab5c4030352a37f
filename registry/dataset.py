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
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from .models import LockOutbox, Record, Signature
from .models.records import RecordQuerySet
from .services.locking import signed_payload

# Given members (from `members`): the record and what its signature covers besides the rows.
HEADS_SQL = """
SELECT s.id, r.record_id, r.center_id, c.code, s.signer_id, s.signer_name, s.meaning,
       s.signed_at, s.content_sha256
FROM registry_signature s
JOIN registry_record r ON r.id = s.record_id
JOIN centers_center c ON c.id = r.center_id
WHERE s.id = ANY(%s)
"""
# Their rows, in the order the signature covers (instrument, instance).
ROWS_SQL = """
SELECT i.record_id, i.instrument, i.instance, i.status, i.data::text
FROM registry_instrumentdata i
WHERE i.record_id = ANY(%s) AND i.deleted_at IS NULL
ORDER BY i.record_id, i.instrument, i.instance
"""


def _locked(prefix: str = "") -> Q:
    return Q(**{f"{prefix}is_locked": True, f"{prefix}deleted_at__isnull": True})


def locked_records(records: RecordQuerySet | None = None) -> RecordQuerySet:
    """Locked, not deleted, with a current signature (narrowing ``records`` when given)."""
    qs = Record.objects.all() if records is None else records
    current = Signature.objects.filter(record=OuterRef("pk"), voided_at__isnull=True)
    return qs.filter(_locked()).filter(Exists(current))


def _current_signatures_of_locked_records() -> QuerySet:
    """The same records as `locked_records`, seen from their current signatures."""
    return Signature.objects.filter(_locked("record__"), voided_at__isnull=True)


@dataclass(frozen=True)
class SignedBy:
    """A record's current signature: what its hash covers besides the rows."""

    pk: int
    signer_id: int
    signer_name: str
    meaning: str
    signed_at: datetime
    content_sha256: str


class DatasetRow(NamedTuple):
    instrument: str
    instance: int
    status: int
    data: dict
    text: str  # the stored JSON as PostgreSQL prints it (stable: what content digests hash)


# A record in the locked dataset before it is read: (record pk, signature pk), one immutable
# state of the record (changing it needs an unlock, which voids the signature).
Member = tuple[int, int]


@dataclass(frozen=True)
class LockedRecord:
    pk: int
    record_id: str
    center_id: int
    centre: str
    signature: SignedBy
    rows: list[DatasetRow]


def signature_status(
    record_id: str,
    center_id: int,
    rows: Iterable[tuple[str, int, int, dict]],
    signature: SignedBy | None,
    *,
    plain: bool | None = None,
) -> str:
    """'valid', 'invalid' (content changed since signing) or 'none', for rows (instrument,
    instance, status, data) already in the signature's order (``plain``: see signed_payload)."""
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
        plain=plain,
    )
    return "valid" if hashlib.sha256(payload).hexdigest() == signature.content_sha256 else "invalid"


@dataclass
class LockedDataset:
    """One read of the locked dataset, valid inside `read_locked_dataset`'s block."""

    version: int
    created_at: datetime | None
    rejected: list[str] = field(default_factory=list)  # record ids whose hash does not match

    def members(self) -> list[Member]:
        """Every record in the dataset (whose signature is still to be checked: `records`).
        Cheap, and run on every recompute: callers read only the members they lack."""
        qs = _current_signatures_of_locked_records().order_by("record_id")
        return _plain_rows(qs.values_list("record_id", "pk"))

    def records(self, members: Iterable[Member] | None = None) -> Iterator[LockedRecord]:
        """The given members (from `members`; default all) with their rows, in that order; one
        whose signature no longer matches its rows is left out and named in ``rejected``."""
        members = self.members() if members is None else list(members)
        if not members:
            return
        with connection.cursor() as cursor:
            cursor.execute(HEADS_SQL, [[signature_pk for _pk, signature_pk in members]])
            heads = {row[0]: row for row in cursor.fetchall()}
        by_pk: dict[int, list[DatasetRow]] = {pk: [] for pk, _signature_pk in members}
        with connection.cursor() as cursor:
            cursor.execute(ROWS_SQL, [list(by_pk)])
            for pk, instrument, instance, status, text in cursor.fetchall():
                by_pk[pk].append(DatasetRow(instrument, instance, status, json.loads(text), text))
        for pk, signature_pk in members:
            sig, record_id, center_id, centre, *signed = heads[signature_pk]
            signature = SignedBy(sig, *signed)
            rows = by_pk[pk]
            if signature_status(record_id, center_id, [r[:4] for r in rows], signature) != "valid":
                self.rejected.append(record_id)
                continue
            yield LockedRecord(pk, record_id, center_id, centre, signature, rows)


def _plain_rows(qs: QuerySet) -> list[tuple]:
    """A values_list queryset's rows as the cursor gives them, without the ORM's per-row work
    (these run over every locked record)."""
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


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
