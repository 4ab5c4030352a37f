"""A record import in two phases, so that a large import neither holds the audit chain nor
blocks other centres for its whole length, nor holds every record's plan in memory.

1. `plan_import` resolves every record id and cleans every value, writing nothing: any error
   (invalid value, foreign centre, wrong next id, locked record) refuses the whole import.
   Records arrive as the rows are read (record_import), each cleaned once its last row is read;
   what the write needs of it (ids and cleaned values) goes to a spool file, in the order the
   records first appear. The ids and what they resolve to are kept in a PostgreSQL temporary
   table (import_ids.IdIndex), so memory holds only the records still being read, whatever the
   size of the import.
2. `write_import` reads the spool back and writes it in batches of IMPORT_BATCH_RECORDS
   records at most, one short transaction each, fewer while a batch takes longer than
   BATCH_SECONDS (a loaded machine): the audit context is set and each centre's record
   counter advanced once per batch, new records and their instruments are inserted in bulk (the
   audit triggers still write every field), existing records go through save_instrument
   (versions compared, dependent calculations refreshed). The audit chain's lock is held per
   batch, so another centre's save waits for at most one batch, about BATCH_SECONDS however
   busy the machine. The ids written are spooled
   (import_ids.WrittenIds) for the answer.

A batch can still fail on what happened after the plan (a record locked or edited meanwhile,
a record id taken by a concurrent create): that batch is rolled back, the batches before it
stay, and the error names both. A caller with its own idea of what must not have changed (the
web Data Import Tool: the records as previewed) passes a `BatchGuard`, which each batch runs
first, in its own transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from time import monotonic
from typing import IO

from django.db import transaction

from centers.access import access_for
from centers.models import Center
from registry.audit import set_audit_context
from registry.models import DictionaryVersion, InstrumentData, Record, RecordCounter

from .import_ids import IdIndex, Resolved, WrittenIds
from .import_rows import PlannedSave, RecordImport, save_planned

IMPORT_BATCH_RECORDS = 20
BATCH_SECONDS = 0.1  # how long a batch should hold the audit chain's lock


@dataclass
class PlannedRecord:
    given_id: str  # as the import names it (auto-numbered imports: a placeholder)
    saves: list[PlannedSave]
    record: Record | None = None  # existing; None: created by the import
    center: Center | None = None  # for a new record
    planned_id: str = ""  # for a new record without forceAutoNumber: the id it must get

    @property
    def is_new(self) -> bool:
        return self.center is not None


# Called first in each batch's transaction with the batch's records; returns errors (then
# nothing of the batch is written).
BatchGuard = Callable[[list[PlannedRecord]], list[dict]]


class ImportWriteError(Exception):
    def __init__(self, errors: list[dict], written: WrittenIds) -> None:
        super().__init__("import stopped")
        self.errors = errors
        self.written = written


def plan_import(
    user,
    index: IdIndex,
    records: Iterator[list[RecordImport]],
    version: DictionaryVersion,
    *,
    spool: IO[str],
    force_auto: bool,
    date_order: str,
    import_tool: bool = False,
) -> list[dict]:
    """``index``: every id of the import, in the order they first appear; ``records``: the
    records, a group at a time, each complete (all its rows read). Returns the errors; with
    none, ``spool`` holds the plan for write_import.
    `import_tool`: the web Data Import Tool, where data managers import into every centre
    (centers.access: import_centers / can_import_center); the API keeps to editable centres."""
    errors: dict[int, list[dict]] = {}
    _resolve_all(user, index, force_auto, import_tool, errors)
    pending: dict[int, str] = {}  # planned, waiting for a record that appears before it
    next_order = 1
    for group in records:
        resolved = index.resolved([r.record_id for r in group])
        wheres = (resolved.get(r.record_id) for r in group)
        stored = Record.objects.in_bulk([w.record_pk for w in wheres if w and w.record_pk])
        for rec_import in group:
            where = resolved.get(rec_import.record_id)
            if where is None:
                continue  # its id was refused
            record = stored.get(where.record_pk) if where.record_pk else None
            found, saves = rec_import.plan(record=record, version=version, date_order=date_order)
            if found:
                errors.setdefault(where.order, []).extend(found)
            if not errors:
                given = rec_import.record_id
                planned_id = given if where.planned else ""
                line = [given, where.record_pk, where.center_pk, planned_id, saves]
                pending[where.order] = json.dumps(line)
        if errors:
            pending.clear()
            continue
        while next_order in pending:
            spool.write(pending.pop(next_order) + "\n")
            next_order += 1
    return [e for order in sorted(errors) for e in errors[order]]


def _resolve_all(user, index: IdIndex, force_auto, import_tool, errors) -> None:
    access = access_for(user)
    centers = access.import_centers if import_tool else access.editable_centers
    may_change = access.can_import_center if import_tool else access.can_edit_center
    editable = {c.code: c for c in centers}
    next_number = {
        c.center_id: c.last_number
        for c in RecordCounter.objects.filter(center__in=editable.values())
    }
    for chunk in index.chunks():
        rids = [rid for _order, rid in chunk]
        visible = {
            r.record_id: r for r in Record.objects.visible_to(user).filter(record_id__in=rids)
        }
        taken = set(Record.objects.filter(record_id__in=rids).values_list("record_id", flat=True))
        resolved = []
        for order, rid in chunk:
            found: list[dict] = []
            plan = _resolve(
                rid, may_change, editable, visible, taken, next_number, force_auto, found
            )
            if found:
                errors[order] = found
            elif plan is not None:
                resolved.append(
                    Resolved(
                        order,
                        plan.record.pk if plan.record else None,
                        plan.center.pk if plan.center else None,
                        bool(plan.planned_id),
                    )
                )
        index.resolve(resolved)


def _resolve(rid, may_change, editable, visible, taken, next_number, force_auto, errors):
    prefix = rid.split("-", 1)[0].upper()
    if force_auto:
        center = editable.get(prefix) or next(iter(editable.values()), None)
        if center is None:
            errors.append(_err(rid, "You cannot add records (no centre to add them to)"))
            return None
        return PlannedRecord(rid, [], center=center)
    existing = visible.get(rid)
    if existing is not None:
        if not may_change(existing.center_id):
            errors.append(_err(rid, "You cannot change records of this centre"))
            return None
        if existing.is_locked:
            errors.append(_err(rid, "The record is locked; a data manager can unlock it"))
            return None
        return PlannedRecord(rid, [], record=existing)
    center = editable.get(prefix)
    if center is None or rid in taken:
        errors.append(
            _err(
                rid,
                "Records can only be added to your own centre, with its prefix (use "
                "generateNextRecordName or forceAutoNumber)",
            )
        )
        return None
    number = next_number.get(center.pk, 0) + 1
    next_number[center.pk] = number
    planned_id = f"{center.code}-{number:04d}"
    if planned_id != rid:
        errors.append(
            _err(
                rid,
                f"The next record id of this centre is {planned_id}: use "
                "generateNextRecordName or forceAutoNumber",
            )
        )
        return None
    return PlannedRecord(rid, [], center=center, planned_id=planned_id)


def write_import(
    user,
    spool: IO[str],
    version: DictionaryVersion,
    *,
    reason: str,
    written: WrittenIds,
    guard: BatchGuard | None = None,
) -> None:
    """Write the spooled plan batch by batch, adding each record written to ``written``."""
    centers: dict[int, Center] = {}
    spool.seek(0)
    size = IMPORT_BATCH_RECORDS
    while lines := list(islice(spool, size)):
        batch = _read_batch(lines, centers)
        errors: list[dict] = []
        started = monotonic()
        with transaction.atomic():
            set_audit_context(user=user, reason=reason)
            if guard is not None and (errors := guard(batch)):
                raise ImportWriteError(errors, written)
            _create_new_records(user, [p for p in batch if p.is_new], errors)
            for plan in batch:
                if errors:
                    break
                if plan.is_new:
                    _insert_rows(user, plan, version)
                else:
                    errors += save_planned(
                        user=user,
                        record=plan.record,
                        planned=plan.saves,
                        version=version,
                        reason=reason,
                    )
            if errors:
                raise ImportWriteError(errors, written)
        size = _next_size(len(batch), monotonic() - started)
        for plan in batch:
            written.add(plan.record.record_id, plan.given_id)


def _next_size(records: int, seconds: float) -> int:
    """As many records as the last batch wrote in BATCH_SECONDS, 1 to IMPORT_BATCH_RECORDS."""
    if seconds <= 0:
        return IMPORT_BATCH_RECORDS
    return max(1, int(min(IMPORT_BATCH_RECORDS, BATCH_SECONDS * records / seconds)))


def _read_batch(lines: list[str], centers: dict[int, Center]) -> list[PlannedRecord]:
    spooled = [json.loads(line) for line in lines]
    records = Record.objects.in_bulk([s[1] for s in spooled if s[1] is not None])
    wanted = {s[2] for s in spooled if s[2] is not None} - centers.keys()
    centers.update(Center.objects.in_bulk(wanted))
    return [
        PlannedRecord(
            given_id,
            [PlannedSave(*save) for save in saves],
            record=records[record_pk] if record_pk is not None else None,
            center=centers[center_pk] if center_pk is not None else None,
            planned_id=planned_id,
        )
        for given_id, record_pk, center_pk, planned_id, saves in spooled
    ]


def _create_new_records(user, plans: list[PlannedRecord], errors: list[dict]) -> None:
    """Advance each centre's counter once for all its new records in this batch."""
    by_center: dict[int, list[PlannedRecord]] = {}
    for plan in plans:
        by_center.setdefault(plan.center.pk, []).append(plan)
    records = []
    for _center_pk, group in sorted(by_center.items()):
        center = group[0].center
        RecordCounter.objects.get_or_create(center=center)
        counter = RecordCounter.objects.select_for_update().get(center=center)
        first = counter.last_number + 1
        for offset, plan in enumerate(group):
            number = first + offset
            record_id = f"{center.code}-{number:04d}"
            if plan.planned_id and record_id != plan.planned_id:
                errors.append(
                    _err(
                        plan.given_id,
                        f"The next record id of this centre became {record_id} while the "
                        "import ran (another record was added): nothing of this batch was "
                        "written",
                    )
                )
                return
            plan.record = Record(
                record_id=record_id, center=center, sequence=number, created_by=user
            )
            records.append(plan.record)
        counter.last_number = first + len(group) - 1
        counter.save(update_fields=["last_number"])
    Record.objects.bulk_create(records)


def _insert_rows(user, plan: PlannedRecord, version: DictionaryVersion) -> None:
    InstrumentData.objects.bulk_create(
        InstrumentData(
            record=plan.record,
            instrument=save.form,
            instance=save.instance,
            data=save.data,
            status=save.status,
            ever_completed=save.status == 2,
            version=1,
            dictionary_version=version,
            updated_by=user,
        )
        for save in plan.saves
    )


def _err(record: str, message: str) -> dict:
    return {"record": record, "field_name": "", "value": "", "message": message}
