"""The values one import brings for one record, merged with what is stored, cleaned like a form
submission (`plan`, no writes) and saved (`save_planned`: through registry.services.records.
save_instrument for an existing record; import_batches writes new records in bulk)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from registry.dictionary import Dictionary
from registry.entry import clean_instrument
from registry.logic import LogicSyntaxError, field_references
from registry.models import DictionaryVersion, FormStatus, Record
from registry.services.errors import RegistryError
from registry.services.records import live_rows, merged_values, next_instance, save_instrument


class Target(NamedTuple):
    form: str
    instance: str  # a number, or "new"


class PlannedSave(NamedTuple):
    form: str
    instance: int
    data: dict
    status: int
    expected_version: int | None  # of the stored instance, None for a new one


@dataclass
class TargetData:
    values: dict[str, str | list] = field(default_factory=dict)
    checkboxes: dict[str, dict[str, bool]] = field(default_factory=dict)
    status: str | None = None


@dataclass
class RecordImport:
    record_id: str
    targets: dict[Target, TargetData] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)

    def add(self, key: Target, kind: str, name: str, code: str, value, *, overwrite: bool):
        blank = value in ("", [])
        if kind == "complete":
            if blank:
                return
            if str(value) not in {str(s.value) for s in FormStatus}:
                self._error(name, value, "The form status must be 0, 1 or 2")
                return
            self.targets.setdefault(key, TargetData()).status = str(value)
            return
        if blank and not overwrite:
            return
        data = self.targets.setdefault(key, TargetData())
        if kind == "checkbox":
            if str(value) not in ("", "0", "1"):
                self._error(name, value, "A checkbox option takes 1 (checked) or 0")
                return
            data.checkboxes.setdefault(name, {})[code] = str(value) == "1"
        else:
            data.values[name] = value

    def _error(self, name: str, value, message: str) -> None:
        self.errors.append(
            {"record": self.record_id, "field_name": name, "value": str(value), "message": message}
        )

    def plan(
        self, *, record: Record | None, version: DictionaryVersion, date_order: str
    ) -> tuple[list[dict], list[PlannedSave]]:
        """Merge with what is stored and clean every target like a form submission, writing
        nothing. `record` None: a record the import will create (nothing stored yet)."""
        errors = list(self.errors)
        if record is not None:
            self.record_id = record.record_id
        dictionary = version.dictionary
        missing = version.missing_code_values
        rows = live_rows(record) if record is not None else []
        existing = {(r.instrument, r.instance): r for r in rows}
        order = {form: i for i, form in enumerate(dictionary.form_names)}
        planned: list[tuple[str, int, dict, int, object, TargetData]] = []
        new_counter: dict[str, int] = {}
        for key in sorted(self.targets, key=lambda t: (order.get(t.form, 99), t.instance)):
            data = self.targets[key]
            if key.instance == "new":
                first = next_instance(record, key.form) if record else 1
                base = new_counter.get(key.form) or first
                instance, new_counter[key.form] = base, base + 1
            else:
                instance = int(key.instance)
            row = existing.get((key.form, instance))
            merged = dict(row.data) if row else {}
            merged.update(data.values)
            for name, ops in data.checkboxes.items():
                current = merged.get(name) or []
                checked = set(current if isinstance(current, list) else str(current).split(","))
                for code, on in ops.items():
                    match = next((c for c in checked if c.lower() == code.lower()), code)
                    if on:
                        checked = (checked - set(missing)) | {match}
                    else:
                        checked.discard(match)
                if any(c in missing for c in checked) and len(checked) > 1:
                    checked -= set(missing)
                merged[name] = sorted(checked)
            status = int(data.status) if data.status is not None else (row.status if row else 0)
            planned.append((key.form, instance, merged, status, row, data))
        cleaned_by_target = {}
        for _pass in range(2 if len(planned) > 1 else 1):
            others: dict = {}
            for form, instance, *_ in planned:
                cleaned = cleaned_by_target.get((form, instance))
                if cleaned is not None and instance == 1:
                    others.update(cleaned.data)
            for form, instance, merged, status, _row, _data in planned:
                if _pass and not (_logic_references(dictionary, form) & others.keys()):
                    continue  # its logic reads nothing of the other targets: pass 1 stands
                context = {**merged_values(rows, exclude=(form, instance)), **others}
                cleaned_by_target[(form, instance)] = clean_instrument(
                    dictionary=dictionary,
                    instrument=form,
                    submitted=merged,
                    context=context,
                    status=status,
                    missing_codes=missing,
                    input_date_order=date_order,
                )
        for form, instance, merged, _status, _row, data in planned:
            for name, message in cleaned_by_target[(form, instance)].errors.items():
                value = data.values.get(name, merged.get(name, ""))
                errors.append(
                    {
                        "record": self.record_id,
                        "field_name": name,
                        "value": ",".join(value) if isinstance(value, list) else str(value),
                        "message": message,
                    }
                )
        saves = [
            PlannedSave(
                form,
                instance,
                cleaned_by_target[(form, instance)].data,
                status,
                row.version if row else None,
            )
            for form, instance, _merged, status, row, _data in planned
        ]
        return errors, saves


def save_planned(
    *, user, record: Record, planned: list[PlannedSave], version: DictionaryVersion, reason: str
) -> list[dict]:
    """Write a plan into an existing record through save_instrument (versions compared,
    dependent calculations refreshed), in the caller's transaction."""
    errors = []
    for save in planned:
        try:
            save_instrument(
                user=user,
                record=record,
                instrument=save.form,
                instance=save.instance,
                data=save.data,
                status=save.status,
                expected_version=save.expected_version,
                dictionary_version=version,
                reason=reason,
            )
        except RegistryError as exc:
            errors.append(
                {"record": record.record_id, "field_name": "", "value": "", "message": str(exc)}
            )
    return errors


# (form's dictionary object, its references) by (id of that object, form): the object is kept,
# so its id cannot be reused by another dictionary while the entry lives.
_REFERENCES: dict[tuple[int, str], tuple[Dictionary, frozenset[str]]] = {}


def _logic_references(dictionary: Dictionary, form: str) -> frozenset[str]:
    """The fields a form's branching logic and calculations read (cleaning depends on no
    other value of the record)."""
    key = (id(dictionary), form)
    entry = _REFERENCES.get(key)
    if entry is not None and entry[0] is dictionary:
        return entry[1]
    names: set[str] = set()
    for f in dictionary.fields_of(form):
        for expression in (f.branching_logic, f.calculation if f.field_type == "calc" else ""):
            if expression:
                try:
                    names |= field_references(expression)
                except LogicSyntaxError:
                    pass  # cleaning treats it as always shown / blank: reads nothing
    if len(_REFERENCES) > 256:
        _REFERENCES.clear()
    _REFERENCES[key] = (dictionary, frozenset(names))
    return _REFERENCES[key][1]
