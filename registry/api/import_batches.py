"""A record import in two phases, so that a large import neither holds the audit chain nor
blocks other centres for its whole length.

1. `plan_import` resolves every record id and cleans every value, writing nothing: any error
   (invalid value, foreign centre, wrong next id, locked record) refuses the whole import.
2. `write_import` writes the plan in batches of IMPORT_BATCH_RECORDS records, one short
   transaction each: the audit context is set and each centre's record counter advanced once
   per batch, new records and their instruments are inserted in bulk (the audit triggers still
   write every field), existing records go through save_instrument (versions compared,
   dependent calculations refreshed). The audit chain's lock is held per batch, so another
   centre's save waits for at most one batch.

A batch can still fail on what happened after the plan (a record locked or edited meanwhile,
a record id taken by a concurrent create): that batch is rolled back, the batches before it
stay, and the error names both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from centers.access import access_for
from centers.models import Center
from registry.audit import set_audit_context
from registry.models import DictionaryVersion, InstrumentData, Record, RecordCounter

from .import_rows import PlannedSave, RecordImport

IMPORT_BATCH_RECORDS = 20


@dataclass
class PlannedRecord:
    given_id: str  # as the import names it (auto-numbered imports: a placeholder)
    saves: list[PlannedSave]
    record: Record | None = None  # existing; None: created by the import
    center: Center | None = None  # for a new record
    planned_id: str = ""  # for a new record without forceAutoNumber: the id it must get
    source: RecordImport | None = field(default=None, repr=False)

    @property
    def is_new(self) -> bool:
        return self.center is not None


class ImportWriteError(Exception):
    def __init__(self, errors: list[dict], written: list[str]) -> None:
        super().__init__("import stopped")
        self.errors = errors
        self.written = written


def plan_import(
    user,
    imports: dict[str, RecordImport],
    version: DictionaryVersion,
    *,
    force_auto: bool,
    date_order: str,
    import_tool: bool = False,
) -> tuple[list[PlannedRecord], list[dict]]:
    """`import_tool`: the web Data Import Tool, where data managers import into every centre
    (centers.access: import_centers / can_import_center); the API keeps to editable centres."""
    access = access_for(user)
    centers = access.import_centers if import_tool else access.editable_centers
    may_change = access.can_import_center if import_tool else access.can_edit_center
    editable = {c.code: c for c in centers}
    rids = list(imports)
    visible = {r.record_id: r for r in _in_chunks(Record.objects.visible_to(user), rids)}
    taken = {r.record_id for r in _in_chunks(Record.objects.all(), rids)}
    next_number = {
        c.center_id: c.last_number
        for c in RecordCounter.objects.filter(center__in=editable.values())
    }
    errors: list[dict] = []
    plans: list[PlannedRecord] = []
    for rid, rec_import in imports.items():
        plan = _resolve(rid, may_change, editable, visible, taken, next_number, force_auto, errors)
        if plan is None:
            continue
        found, saves = rec_import.plan(record=plan.record, version=version, date_order=date_order)
        errors += found
        plan.saves, plan.source = saves, rec_import
        plans.append(plan)
    return plans, errors


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
    user, plans: list[PlannedRecord], version: DictionaryVersion, *, reason: str
) -> dict:
    """Write the plan batch by batch; returns {"count", "ids", "auto_ids"}."""
    result: dict = {"count": 0, "ids": [], "auto_ids": []}
    for start in range(0, len(plans), IMPORT_BATCH_RECORDS):
        batch = plans[start : start + IMPORT_BATCH_RECORDS]
        errors: list[dict] = []
        with transaction.atomic():
            set_audit_context(user=user, reason=reason)
            _create_new_records(user, [p for p in batch if p.is_new], errors)
            for plan in batch:
                if errors:
                    break
                if plan.is_new:
                    _insert_rows(user, plan, version)
                else:
                    errors += plan.source.save(
                        user=user,
                        record=plan.record,
                        planned=plan.saves,
                        version=version,
                        reason=reason,
                    )
            if errors:
                raise ImportWriteError(errors, list(result["ids"]))
        for plan in batch:
            result["count"] += 1
            result["ids"].append(plan.record.record_id)
            result["auto_ids"].append(f"{plan.record.record_id},{plan.given_id}")
    return result


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


def _in_chunks(queryset, record_ids: list[str], size: int = 5000) -> list[Record]:
    found: list[Record] = []
    for start in range(0, len(record_ids), size):
        found += queryset.filter(record_id__in=record_ids[start : start + size])
    return found


def _err(record: str, message: str) -> dict:
    return {"record": record, "field_name": "", "value": "", "message": message}
