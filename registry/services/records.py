"""Creating records and saving instrument data: access checked, versions compared, audited."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from centers.access import access_for
from centers.models import Center
from registry import notify
from registry.audit import set_audit_context
from registry.logic import LogicSyntaxError, calculate, field_references
from registry.models import DictionaryVersion, FormStatus, InstrumentData, Record, RecordCounter

from .errors import EditConflict, PermissionDenied, ReasonRequired, RecordLocked
from .fast_save import save_known_row


def get_record_for_user(user, record_id: str, *, write: bool = False) -> Record:
    """The one way to fetch a record by id for a user: foreign records are 404, never 403."""
    record = Record.objects.visible_by_id(user, record_id)
    if record is None:
        raise Http404("No such record")
    if write and not access_for(user).can_edit_center(record.center_id):
        raise Http404("No such record")
    return record


def get_record_and_rows_for_user(
    user, record_id: str, *, language: str = ""
) -> tuple[Record, list[InstrumentData]]:
    """get_record_for_user and the record's live_rows, read together in one statement (with the
    latest translation into ``language``, Record.objects.visible_by_id)."""
    found = Record.objects.visible_with_rows(user, record_id, language=language)
    if found is None:
        raise Http404("No such record")
    return found


def create_record(*, user, center: Center, synthetic: bool = False) -> Record:
    """Allocate the centre's next id (MIL-0001...). Concurrent callers queue on the counter row."""
    if not access_for(user).can_import_center(center.pk):
        raise PermissionDenied(_("You cannot add records for this centre."))
    with transaction.atomic():
        set_audit_context(user=user)
        RecordCounter.objects.get_or_create(center=center)
        counter = RecordCounter.objects.select_for_update().get(center=center)
        counter.last_number += 1
        counter.save(update_fields=["last_number"])
        return Record.objects.create(
            record_id=f"{center.code}-{counter.last_number:04d}",
            center=center,
            sequence=counter.last_number,
            created_by=user,
            synthetic=synthetic,
        )


# Written as SQL: every form page and save reads it, and the ORM took longer to compile it than
# PostgreSQL to run it.
_LIVE_ROWS = (
    "SELECT * FROM registry_instrumentdata"
    " WHERE record_id = %s AND deleted_at IS NULL ORDER BY instance DESC"
)


def live_rows(record: Record) -> list[InstrumentData]:
    """The record's instrument rows that are not deleted, highest instance first."""
    rows = list(InstrumentData.objects.raw(_LIVE_ROWS, [record.pk]))  # noqa: S611 - constant
    for row in rows:
        row.record = record
    return rows


def record_values(record: Record, *, exclude: tuple[str, int] | None = None) -> dict:
    """All values of a record for logic (non-repeating instruments, plus the first instance of
    repeating ones so a field there can still be referenced)."""
    return merged_values(live_rows(record), exclude)


def merged_values(rows, exclude: tuple[str, int] | None = None) -> dict:
    """Rows ordered by descending instance, so the first instance's values win."""
    values: dict = {}
    for row in rows:
        if exclude and (row.instrument, row.instance) == exclude:
            continue
        values.update(row.data)
    return values


def next_instance(record: Record, instrument: str) -> int:
    last = (
        record.instruments.filter(instrument=instrument)
        .order_by("-instance")
        .values_list("instance", flat=True)
        .first()
    )
    return (last or 0) + 1


def save_instrument(
    *,
    user,
    record: Record,
    instrument: str,
    instance: int,
    data: dict,
    status: int,
    expected_version: int | None,
    dictionary_version: DictionaryVersion,
    reason: str = "",
    known_row: InstrumentData | None = None,
) -> InstrumentData:
    """Store cleaned values. `expected_version` is the row version the user started from (None
    for a new instance); a mismatch means someone else saved meanwhile: EditConflict.
    `known_row`: the instance as the caller just read it, which lets the common save run as one
    statement (registry.services.fast_save); the checks and their errors are the same."""
    if not access_for(user).can_import_center(record.center_id):
        raise PermissionDenied(_("You cannot edit this centre's records."))
    if (
        known_row is not None
        and known_row.pk is not None
        and expected_version == known_row.version
        and not (record.is_locked or known_row.is_locked)
        and (not known_row.ever_completed or reason.strip())
        # becoming Complete notifies investigators (registry.notify): the general path does it
        and not (status == FormStatus.COMPLETE and known_row.status != status)
    ):
        if known_row.data == data and known_row.status == status:
            return known_row
        changed = _changed_fields(known_row.data or {}, data)
        if not _dependent_calc_targets(
            dictionary_version, known_row.instrument, changed
        ) and save_known_row(
            user=user,
            row=known_row,
            data=data,
            status=status,
            dictionary_version=dictionary_version,
            reason=reason.strip(),
        ):
            return known_row
    with transaction.atomic():
        locked_record = Record.objects.select_for_update(of=("self",)).get(pk=record.pk)
        if locked_record.is_locked:
            raise RecordLocked(
                _("Record %(record_id)s is locked; a data manager can unlock it.")
                % {"record_id": record.record_id}
            )
        row = (
            InstrumentData.objects.select_for_update()
            .filter(record=record, instrument=instrument, instance=instance)
            .first()
        )
        if row is not None and row.deleted_at is not None:
            # A deleted instance keeps its number; entering it again starts it from blank.
            if expected_version not in (None, 0):
                raise EditConflict("This form instance was deleted meanwhile.", current=None)
            expected_version = row.version
            row.deleted_at, row.data, row.ever_completed = None, {}, False
            reason = reason.strip() or "Entered again after its data were deleted."
        if row is None:
            if expected_version not in (None, 0):
                raise EditConflict(_("This form instance no longer exists."), current=None)
            row = InstrumentData(record=record, instrument=instrument, instance=instance, version=0)
        elif row.is_locked:
            raise RecordLocked(
                _("This form of %(record_id)s is locked; a data manager can unlock it.")
                % {"record_id": record.record_id}
            )
        elif expected_version != row.version:
            raise EditConflict(
                _("%(who)s saved this form at %(when)s while you were editing it.")
                % {
                    "who": row.updated_by or _("Someone"),
                    "when": f"{timezone.localtime(row.updated_at):%H:%M:%S}",
                },
                current=row,
            )
        changed = row.pk is None or row.data != data or row.status != status
        if not changed:
            return row
        if row.ever_completed and not reason.strip():
            raise ReasonRequired(
                _("This form has been marked Complete before: give a reason for the change.")
            )
        set_audit_context(user=user, reason=reason.strip())
        became_complete = status == FormStatus.COMPLETE and (row.pk is None or row.status != status)
        changed_fields = _changed_fields(row.data or {}, data)
        row.data = data
        row.status = status
        row.ever_completed = row.ever_completed or status == 2
        row.version += 1
        row.dictionary_version = dictionary_version
        row.updated_by = user
        row.save()
        if changed_fields:
            _refresh_dependent_calcs(record, row, changed_fields, dictionary_version, user=user)
        if became_complete:  # only then can the record's last blocker have gone
            notify.record_ready(locked_record, dictionary_version)
        return row


def _refresh_dependent_calcs(
    record: Record,
    saved: InstrumentData,
    changed_fields: set[str],
    version: DictionaryVersion,
    *,
    user,
) -> None:
    """Recompute calc fields on the record's other forms that read a field just changed on the
    saved one (age at diagnosis on enrolment reads the date of diagnosis). Calc values are
    derived and recomputed on every save, so the row version is left alone: nobody's typing is
    lost."""
    targets = _dependent_calc_targets(version, saved.instrument, changed_fields)
    if not targets:
        return
    rows = list(
        InstrumentData.objects.select_for_update()
        .filter(record=record, deleted_at__isnull=True)
        .order_by("-instance")
    )
    codes = version.missing_code_values
    for row in rows:
        if row.instrument not in targets or row.is_locked:
            continue
        values = {**merged_values(rows, (row.instrument, row.instance)), **row.data}
        updated = dict(row.data)
        for f in targets[row.instrument]:
            try:
                updated[f.name] = calculate(f.calculation, values, missing_codes=codes)
            except (LogicSyntaxError, ValueError, TypeError, ZeroDivisionError):
                updated[f.name] = ""
            values[f.name] = updated[f.name]
        if updated != row.data:
            row.data = updated
            row.updated_by = user
            row.save(update_fields=["data", "updated_by", "updated_at"])


def _changed_fields(before: dict, after: dict) -> set[str]:
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def _dependent_calc_targets(
    version: DictionaryVersion, instrument: str, changed_fields: set[str]
) -> dict[str, list]:
    """The calc fields on other forms, per form, that read one of `changed_fields`."""
    targets: dict[str, list] = {}
    for f in version.dictionary.fields:
        if (
            f.field_type == "calc"
            and f.form != instrument
            and field_references(f.calculation) & changed_fields
        ):
            targets.setdefault(f.form, []).append(f)
    return targets


def delete_record(*, user, record: Record, reason: str) -> None:
    """Soft delete (never a hard delete): the record disappears from lists and exports."""
    if (
        not access_for(user).can_edit_center(record.center_id)
        and not access_for(user).is_data_manager
    ):
        raise PermissionDenied(_("You cannot delete this record."))
    if not reason.strip():
        raise ReasonRequired(_("Deleting a record needs a reason."))
    with transaction.atomic():
        current = Record.objects.select_for_update().get(pk=record.pk)
        if current.is_locked:
            raise RecordLocked(
                _("Record %(record_id)s is locked.") % {"record_id": record.record_id}
            )
        set_audit_context(user=user, reason=reason.strip())
        current.deleted_at = timezone.now()
        current.save(update_fields=["deleted_at", "updated_at"])
