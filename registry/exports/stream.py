"""Reading the dataset for an export: the records from a server-side cursor a chunk at a time,
each chunk with its instrument rows, read a few chunks ahead in a thread while the caller
writes, so memory stays flat however many records there are."""

from __future__ import annotations

import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from django.db import connection
from django.db.models import Exists, FilteredRelation, OuterRef, Q, QuerySet
from django.db.models.functions import Collate

from registry import fastjson
from registry.dataset import SignedBy, locked_records, signature_status
from registry.models import InstrumentData, Record

from .readahead import ReadAhead

CHUNK = 250  # records a chunk (about 1,750 instrument rows)


@dataclass
class RecordBundle:
    pk: int
    record_id: str
    center_id: int
    center_code: str
    is_locked: bool
    signature: SignedBy | None  # the current signature
    rows: list[tuple[str, int, int, dict]] = field(default_factory=list)  # form, inst, status, data
    plain: bool | None = None  # whether the rows' data are plain (registry.fastjson), if known

    def signature_status(self) -> str:
        """'valid', 'invalid' (content changed since signing) or 'none', computed from the rows
        already read (in the database's order, as the signature covers them)."""
        return signature_status(
            self.record_id, self.center_id, self.rows, self.signature, plain=self.plain
        )


def export_records(
    user,
    *,
    locked_only: bool,
    records: tuple[str, ...] = (),
    date_begin: datetime | None = None,
    date_end: datetime | None = None,
) -> QuerySet:
    """The records an export may contain (Record.objects.exportable_to: foreign centres never,
    unlocked records only where the role may export them). ``locked_only``: the locked dataset's
    records (whose signatures are rechecked as they are written, see `iter_flat_csv`)."""
    qs = Record.objects.exportable_to(user, include_unlocked=not locked_only)
    if locked_only:
        qs = locked_records(qs)
    if records:
        qs = qs.filter(record_id__in=records)
    if date_begin or date_end:
        changed = InstrumentData.objects.filter(record=OuterRef("pk"))
        created = Q()
        if date_begin:
            changed = changed.filter(updated_at__gte=date_begin)
            created &= Q(created_at__gte=date_begin)
        if date_end:
            changed = changed.filter(updated_at__lte=date_end)
            created &= Q(created_at__lte=date_end)
        qs = qs.filter(Q(Exists(changed)) | created)
    return qs


def iter_bundles(records: QuerySet, *, chunk_size: int = CHUNK) -> Iterator[RecordBundle]:
    """The records with their rows, one record at a time. Read by a background thread
    (`ReadAhead`, a few chunks ahead) while the caller builds its output, from one snapshot:
    the caller's transaction when there is one (its own writes included), otherwise a
    connection of the export's own in a read-only REPEATABLE READ transaction."""
    record_sql = (
        records.annotate(
            sig=FilteredRelation("signatures", condition=Q(signatures__voided_at__isnull=True))
        )
        .order_by(Collate("record_id", "C"))
        .values_list(
            "pk",
            "record_id",
            "center_id",
            "center__code",
            "is_locked",
            "sig__id",
            "sig__signer_id",
            "sig__signer_name",
            "sig__meaning",
            "sig__signed_at",
            "sig__content_sha256",
        )
        .query.sql_with_params()
    )
    with _reading_connection() as conn:
        reader = ReadAhead(_batches(conn, record_sql, chunk_size), name="export-reader")
        try:
            for heads, rows in reader:
                yield from _bundles(heads, rows)
        finally:
            reader.close()  # before the connection's transaction ends


# The rows of a batch of records, in the order their signatures cover (instrument, instance).
ROWS_SQL = """
SELECT record_id, instrument, instance, status, data
FROM registry_instrumentdata
WHERE record_id = ANY(%s) AND deleted_at IS NULL
ORDER BY record_id, instrument, instance
"""


def _batches(
    conn: psycopg.Connection, record_sql: tuple, chunk_size: int
) -> Iterator[tuple[list[tuple], list[tuple]]]:
    """The records a chunk at a time from a named (server-side) cursor, each chunk with its
    rows (one indexed query per chunk: each comes at once, where one query for every row
    would first sort them all), without Django's per-row converters (the export decodes JSON
    itself)."""
    with conn.cursor(name=f"export_{uuid.uuid4().hex}") as records:
        records.execute(*record_sql)
        while heads := records.fetchmany(chunk_size):
            with conn.cursor() as cursor:
                cursor.execute(ROWS_SQL, [[head[0] for head in heads]])
                rows = cursor.fetchall()
            yield heads, rows


def _bundles(heads: list[tuple], rows: list[tuple]) -> Iterator[RecordBundle]:
    """Records (in the record id's byte order) with their rows (ordered by record pk). The
    chunk's JSON is decoded at once; when it is not all plain, record by record (so that one
    record with a float leaves the others to orjson)."""
    pks = [row[0] for row in rows]
    datas, plain = fastjson.loads_all([row[4] for row in rows])
    items = [
        (form, instance, status, data)
        for (_pk, form, instance, status, _text), data in zip(rows, datas, strict=True)
    ]
    for pk, record_id, center_id, code, locked, *sig in heads:
        bundle = RecordBundle(
            pk, record_id, center_id, code, locked, SignedBy(*sig) if sig[0] else None
        )
        start, end = bisect_left(pks, pk), bisect_right(pks, pk)
        if plain:
            bundle.rows, bundle.plain = items[start:end], True
        else:
            texts = [row[4] for row in rows[start:end]]
            own, bundle.plain = fastjson.loads_all(texts)
            bundle.rows = [
                (f, i, s, d) for (f, i, s, _), d in zip(items[start:end], own, strict=True)
            ]
        yield bundle


@contextmanager
def _reading_connection() -> Iterator[psycopg.Connection]:
    """The psycopg connection the export's cursors run on. Inside a transaction, the caller's
    (both cursors see its snapshot, as every other query of the export). Otherwise one of their
    own, so that both cursors share one snapshot without a transaction held open on the
    caller's connection across yields (a streamed response), closed at the end."""
    connection.ensure_connection()
    if connection.in_atomic_block or not connection.get_autocommit():
        yield connection.connection
        return
    own = psycopg.connect(**connection.get_connection_params())
    try:
        own.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        own.read_only = True
        own.execute("SELECT set_config('TimeZone', %s, false)", [connection.timezone_name])
        yield own
    finally:
        own.close()
