"""REDCap's ``content=record, action=delete``: whole records (soft), or with ``instrument`` one
form's data (``repeat_instance`` for one instance of a repeating form, else all its instances),
through the same services as the web pages. ``reason`` is kept in the audit trail (REDCap has
no such parameter, so a default names the API)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse

from registry.models import InstrumentData, Record
from registry.services.deletion import instrument_delete
from registry.services.errors import PermissionDenied, RegistryError
from registry.services.records import delete_record

from .params import Params
from .responses import ApiError, text_response

DEFAULT_REASON = "Deleted through the API"


def delete_records(user, params: Params) -> tuple[HttpResponse, dict]:
    if params.get("event") or params.get("arm"):
        raise ApiError("You cannot delete events or arms for classic (non-longitudinal) projects")
    ids = list(dict.fromkeys(params.array("records")))
    if not ids:
        raise ApiError('The parameter "records" is missing')
    found = {r.record_id: r for r in Record.objects.visible_to(user).filter(record_id__in=ids)}
    missing = [rid for rid in ids if rid not in found]
    if missing:
        raise ApiError(
            f"One or more of the records provided cannot be deleted because they "
            f"do not exist in the project. The following records do not exist: "
            f"{', '.join(missing)}"
        )
    reason = params.get("reason") or DEFAULT_REASON
    instrument = params.get("instrument")
    try:
        with transaction.atomic():
            if instrument:
                instances = _instances(params, instrument, [found[rid] for rid in ids])
                for record, instance in instances:
                    instrument_delete(
                        user=user,
                        record=record,
                        instrument=instrument,
                        instance=instance,
                        reason=reason,
                    )
                count = len({record.pk for record, _ in instances})
            else:
                for rid in ids:
                    delete_record(user=user, record=found[rid], reason=reason)
                count = len(ids)
    except PermissionDenied as exc:
        raise ApiError(str(exc), 403) from None
    except RegistryError as exc:
        raise ApiError(str(exc)) from None
    summary = {"records": count, "ids": ids[:1000]}
    if instrument:
        summary["instrument"] = instrument
    return text_response(str(count)), summary


def _instances(params: Params, instrument: str, records: list[Record]) -> list[tuple]:
    """(record, instance) pairs to delete; an unknown form or instance is REDCap's error."""
    from registry.services.dictionary import current_dictionary_version

    try:
        forms = current_dictionary_version().dictionary.form_names
    except LookupError:
        raise ApiError("No data dictionary has been imported yet") from None
    if instrument not in forms:
        raise ApiError('The value of the parameter "instrument" is not valid')
    raw = params.get("repeat_instance")
    rows = InstrumentData.objects.filter(
        record__in=records, instrument=instrument, deleted_at__isnull=True
    )
    if raw:
        if not raw.isdigit() or not 0 < int(raw) < 2**31:
            raise ApiError('The value of the parameter "repeat_instance" is not valid')
        rows = rows.filter(instance=int(raw))
    by_pk = {r.pk: r for r in records}
    pairs = [(by_pk[rid], inst) for rid, inst in rows.values_list("record_id", "instance")]
    if not pairs:
        raise ApiError(f"There is no data in {instrument} to delete for these records")
    return pairs


def rename_record(user, params: Params, fmt: str, return_fmt: str) -> HttpResponse:
    """REDCap's ``content=record, action=rename`` (``record``, ``new_record_name``): data
    managers only, never a locked record; answers 1 as REDCap does."""
    from registry.services.deletion import record_rename

    old, new = params.get("record"), params.get("new_record_name")
    if not old:
        raise ApiError('The parameter "record" is missing')
    if not new:
        raise ApiError('The parameter "new_record_name" is missing')
    record = Record.objects.visible_to(user).filter(record_id=old).first()
    if record is None:
        raise ApiError(f"The record {old} does not exist")
    try:
        record_rename(
            user=user,
            record=record,
            new_id=new,
            reason=params.get("reason") or "Renamed through the API",
        )
    except PermissionDenied as exc:
        raise ApiError(str(exc), 403) from None
    except RegistryError as exc:
        raise ApiError(str(exc)) from None
    return text_response("1")
