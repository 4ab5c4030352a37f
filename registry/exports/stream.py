"""Reading the dataset for an export: two server-side cursors (records, instrument rows) in the
same order (byte order of the record id, as Python compares strings), merged one record at a
time, so memory stays flat however many records there are."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain

from django.db import connection
from django.db.models import Exists, FilteredRelation, OuterRef, Q, QuerySet
from django.db.models.functions import Collate

from registry import fastjson
from registry.dataset import SignedBy, locked_records, signature_status
from registry.models import InstrumentData, Record

CHUNK = 2000


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
    record_rows = _server_side(
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
        ),
        chunk_size,
    )
    data_rows = _server_side(
        InstrumentData.objects.filter(record__in=records.values("pk"), deleted_at__isnull=True)
        .order_by(Collate("record__record_id", "C"), "instrument", "instance")
        .values_list("record__record_id", "instrument", "instance", "status", "data"),
        chunk_size,
    )
    pending = next(data_rows, None)
    loads_all = fastjson.loads_all
    for pk, record_id, center_id, code, locked, *sig in record_rows:
        bundle = RecordBundle(
            pk, record_id, center_id, code, locked, SignedBy(*sig) if sig[0] else None
        )
        while pending is not None and pending[0] < record_id:
            pending = next(data_rows, None)  # a row of a record filtered out meanwhile
        heads, texts = [], []
        while pending is not None and pending[0] == record_id:
            heads.append(pending[1:4])  # form, instance, status
            texts.append(pending[4])
            pending = next(data_rows, None)
        datas, bundle.plain = loads_all(texts)
        bundle.rows = [(*head, data) for head, data in zip(heads, datas, strict=True)]
        yield bundle


def _server_side(qs: QuerySet, chunk_size: int) -> Iterator[tuple]:
    """Rows of a values_list queryset from a named (server-side) cursor, without Django's
    per-row converters (the export decodes JSON itself): the hot loop of large exports. Rows
    are fetched a chunk at a time and handed out by a C iterator (psycopg's own per-row
    iteration is Python code)."""
    return chain.from_iterable(_chunks(qs, chunk_size))


def _chunks(qs: QuerySet, chunk_size: int) -> Iterator[list[tuple]]:
    sql, params = qs.query.sql_with_params()
    connection.ensure_connection()
    name = f"export_{uuid.uuid4().hex}"
    with connection.connection.cursor(name=name, withhold=not connection.in_atomic_block) as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(chunk_size):
            yield chunk
