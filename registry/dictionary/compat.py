"""Comparing two dictionary versions for changes that would orphan or reinterpret data.

Only changes that can hurt stored values are reported (an added field or choice, a new
label or note, a widened range are not). ``affected_records`` then says, from the stored
values, which records each change touches, so a coordinator can confirm knowingly.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .model import Dictionary, FieldDef, checkbox_export_name
from .ranges import bound_key
from .validation_types import FieldValueError
from .values import missing_code_values, validate_value

CHANGE_KINDS = (
    "record_id_renamed",  # the first field has a new name (records keep their IDs)
    "field_removed",  # stored values have no field any more
    "type_changed",  # the values are stored differently (e.g. text -> dropdown)
    "choice_removed",  # a code disappeared
    "choices_recoded",  # a label moved to another code: stored codes now mean something else
    "choice_relabelled",  # same code, different label
    "validation_changed",  # text validation with another storage (date -> integer, . -> ,)
    "range_changed",  # min/max narrowed, or @FORCE-MINMAX added
    "missing_codes_refused",  # @NOMISSING added
    "calculation_changed",  # stored calc results are stale
    "form_changed",  # the field moved to another instrument
)


@dataclass(frozen=True)
class Change:
    kind: str
    field: str
    detail: str
    code: str = ""  # the choice code concerned, for the choice kinds
    old: FieldDef | None = field(default=None, compare=False, repr=False)
    new: FieldDef | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "field": self.field, "detail": self.detail, "code": self.code}


def _storage(f: FieldDef) -> str:
    if f.field_type in ("dropdown", "radio", "yesno", "truefalse"):
        return "categorical"
    if f.field_type in ("text", "notes"):
        return "text"
    return f.field_type


def _label_key(label: str) -> str:
    return " ".join(label.split()).casefold()


def compare_dictionaries(old: Dictionary, new: Dictionary) -> list[Change]:
    """Changes from ``old`` to ``new`` that matter for data already stored under ``old``."""
    changes: list[Change] = []
    old_id, new_id = old.record_id_field.name, new.record_id_field.name
    if old_id != new_id:
        changes.append(
            Change(
                "record_id_renamed",
                old_id,
                f"the record ID field is now '{new_id}'",
                old=old.fields[0],
                new=new.fields[0],
            )
        )
    added = [f for f in new.fields if f.name not in old and f.name != new_id]
    for o in old.fields:
        if not o.has_data or o.name == old_id:
            continue
        if o.name not in new:
            twins = [f.name for f in added if (f.field_type, f.label) == (o.field_type, o.label)]
            hint = f" (renamed to '{twins[0]}'? data does not follow a rename)" if twins else ""
            changes.append(
                Change("field_removed", o.name, f"field '{o.name}' was removed{hint}", old=o)
            )
            continue
        changes += _field_changes(o, new.field(o.name))
    return changes


def _field_changes(o: FieldDef, n: FieldDef) -> list[Change]:
    out: list[Change] = []

    def add(kind: str, detail: str, code: str = "") -> None:
        out.append(Change(kind, o.name, detail, code, old=o, new=n))

    if _storage(o) != _storage(n):
        add("type_changed", f"field type {o.field_type} -> {n.field_type}")
        return out
    if o.choices:
        _choice_changes(o, n, add)
    ovt, nvt = o.validation_type, n.validation_type
    if _storage(o) == "text" and (ovt and ovt.storage) != (nvt and nvt.storage):
        add(
            "validation_changed",
            f"validation '{o.validation or 'none'}' -> '{n.validation or 'none'}'",
        )
    elif (nvt and nvt.has_range) or o.field_type == "slider":
        narrowed = _narrowed(o, n)
        if narrowed or (n.force_minmax and not o.force_minmax):
            add(
                "range_changed",
                narrowed or "@FORCE-MINMAX added: out-of-range values become errors",
            )
    if n.nomissing and not o.nomissing:
        add("missing_codes_refused", "@NOMISSING added: missing-data codes are refused")
    if o.field_type == "calc" and o.calculation.split() != n.calculation.split():
        add("calculation_changed", f"calculation '{o.calculation}' -> '{n.calculation}'")
    if o.form != n.form:
        add("form_changed", f"moved from form '{o.form}' to '{n.form}'")
    return out


def _choice_changes(o: FieldDef, n: FieldDef, add) -> None:
    new_map = n.choice_map
    code_of_label: dict[str, str] = {}
    for c in n.choices:
        code_of_label.setdefault(_label_key(c.label), c.code)
    for c in o.choices:
        moved_to = code_of_label.get(_label_key(c.label))
        if c.code in new_map and _label_key(new_map[c.code]) == _label_key(c.label):
            continue
        if moved_to is not None and moved_to != c.code:
            now = f", and {c.code} now means '{new_map[c.code]}'" if c.code in new_map else ""
            add("choices_recoded", f"'{c.label}' was code {c.code}, is now {moved_to}{now}", c.code)
        elif c.code in new_map:
            add(
                "choice_relabelled",
                f"code {c.code} was '{c.label}', is now '{new_map[c.code]}'",
                c.code,
            )
        else:
            add("choice_removed", f"choice {c.code} '{c.label}' was removed", c.code)


def _narrowed(o: FieldDef, n: FieldDef) -> str:
    vtype = "integer" if n.field_type == "slider" else n.validation
    defaults = ("0", "100") if n.field_type == "slider" else ("", "")
    parts = []
    for which, ob, nb, tighter in (
        ("minimum", o.validation_min or defaults[0], n.validation_min or defaults[0], 1),
        ("maximum", o.validation_max or defaults[1], n.validation_max or defaults[1], -1),
    ):
        if not nb or ob == nb:
            continue
        if not ob or {ob, nb} & {"today", "now"}:
            parts.append(f"{which} {ob or 'none'} -> {nb}")
            continue
        old_key, new_key = bound_key(vtype, ob), bound_key(vtype, nb)
        if new_key > old_key if tighter == 1 else new_key < old_key:
            parts.append(f"{which} {ob} -> {nb}")
    return "; ".join(parts)


def _stored(values: Mapping[str, Any], f: FieldDef) -> Any:
    """The value of ``f`` in one record's values; checkboxes may come as field___code columns."""
    if f.name in values:
        value = values[f.name]
        if f.is_checkbox and isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        return value
    if f.is_checkbox:
        return tuple(
            c.code
            for c in f.choices
            if str(values.get(checkbox_export_name(f.name, c.code), "")) in ("1", "True")
        )
    return None


def _has_value(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip() != ""
    if isinstance(value, Sequence):
        return len(value) > 0
    return value is not None


def _is_affected(change: Change, value: Any, missing: Sequence[str], today: date | None) -> bool:
    if not _has_value(value):
        return False
    if change.kind in ("choice_removed", "choices_recoded", "choice_relabelled"):
        return change.code in value if not isinstance(value, str) else value == change.code
    if (
        change.kind in ("field_removed", "calculation_changed", "form_changed")
        or change.new is None
    ):
        return True
    items = [value] if isinstance(value, str) else list(value)
    if change.kind == "missing_codes_refused":
        return any(v in missing for v in items)
    if len(items) == 1 and items[0] in missing:
        return False  # a missing-data code stays valid (unless @NOMISSING, reported apart)
    raw = value if isinstance(value, str) else list(value)
    try:
        result = validate_value(change.new, raw, missing_codes=missing, today=today)
    except FieldValueError:
        return True
    if change.kind == "range_changed":
        return result.warning is not None
    return result.value != (value if isinstance(value, str) else tuple(value))


def affected_records(
    changes: Sequence[Change],
    values_by_record: Mapping[Hashable, Mapping[str, Any]],
    *,
    missing_codes: Iterable[str | Mapping[str, str]] = (),
    today: date | None = None,
) -> dict[int, list[Hashable]]:
    """For each change (by index), the records whose stored values it orphans or changes.

    ``values_by_record`` maps a record key (an ID, or e.g. (record, instrument, instance)
    for repeating instruments) to its stored values: strings, and for a checkbox a list of
    checked codes, a comma-separated string, or REDCap's field___code = '1' columns.
    Every change index is present, with an empty list when no record is touched.
    """
    missing = missing_code_values(missing_codes)
    result: dict[int, list[Hashable]] = {i: [] for i in range(len(changes))}
    for record, values in values_by_record.items():
        for i, change in enumerate(changes):
            f = change.old or change.new
            if change.kind == "record_id_renamed":
                result[i].append(record)
            elif f is not None and _is_affected(change, _stored(values, f), missing, today):
                result[i].append(record)
    return result
