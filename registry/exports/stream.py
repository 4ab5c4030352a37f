"""Reading the dataset for an export: the records from one server-side cursor a chunk at a time,
each record with its instrument rows (one JSON array that PostgreSQL aggregates as the cursor
reaches the record), read a few chunks ahead in a thread while the caller writes, so memory
stays flat however many records there are."""

from __future__ import annotations

import uuid
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
    rows: list[list] = field(default_factory=list)  # [instrument, instance, status, data]
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
    record_sql, params = (
        records.annotate(
            sig=FilteredRelation("signatures", condition=Q(signatures__voided_at__isnull=True))
        )
        .order_by(Collate("record_id", "C"))
        .values_list(*HEAD_COLUMNS)
        .query.sql_with_params()
    )
    sql = RECORDS_WITH_ROWS_SQL.replace("{records}", record_sql)
    with _reading_connection() as conn:
        reader = ReadAhead(_batches(conn, (sql, params), chunk_size), name="export-reader")
        try:
            for chunk in reader:
                yield from _bundles(chunk)
        finally:
            reader.close()  # before the connection's transaction ends


HEAD_COLUMNS = (
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
# Each record (in record id byte order) with its rows as one JSON array of [instrument,
# instance, status, data], in the order their signature covers (instrument, instance): one
# streamed query, the rows read by index per record as the cursor reaches it.
RECORDS_WITH_ROWS_SQL = """
SELECT h.*, (
    SELECT json_agg(
        json_build_array(i.instrument, i.instance, i.status, i.data)
        ORDER BY i.instrument, i.instance
    )::text
    FROM registry_instrumentdata i
    WHERE i.record_id = h.pk AND i.deleted_at IS NULL
)
FROM ({records}) AS h(pk, record_id, center_id, center_code, is_locked, sig_id, signer_id,
                      signer_name, meaning, signed_at, content_sha256)
ORDER BY h.record_id COLLATE "C"
"""


def _batches(conn: psycopg.Connection, sql: tuple, chunk_size: int) -> Iterator[list[tuple]]:
    """The records a chunk at a time from a named (server-side) cursor, without Django's
    per-row converters (the export decodes JSON itself)."""
    with conn.cursor(name=f"export_{uuid.uuid4().hex}") as records:
        records.execute(*sql)
        while chunk := records.fetchmany(chunk_size):
            yield chunk


def _bundles(chunk: list[tuple]) -> Iterator[RecordBundle]:
    """Records with their rows (instrument, instance, status, data). The chunk's JSON is
    decoded at once; when its data are not all plain, record by record (so that one record
    with a float leaves the others to orjson)."""
    texts = [head[-1] or "[]" for head in chunk]  # no rows: NULL
    decoded, plain = fastjson.loads_all_rows(texts)
    for (pk, record_id, center_id, code, locked, *sig, text), rows in zip(
        chunk, decoded, strict=True
    ):
        bundle = RecordBundle(
            pk, record_id, center_id, code, locked, SignedBy(*sig) if sig[0] else None
        )
        if plain:
            bundle.rows, bundle.plain = rows, True
        else:
            own, bundle.plain = fastjson.loads_all_rows([text or "[]"])
            bundle.rows = own[0]
        yield bundle


@contextmanager
def _reading_connection() -> Iterator[psycopg.Connection]:
    """The psycopg connection the export's cursor runs on. Inside a transaction, the caller's
    (the cursor sees its snapshot, as every other query of the export). Otherwise one of its
    own, in a read-only REPEATABLE READ transaction, so that no transaction is held open on the
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
