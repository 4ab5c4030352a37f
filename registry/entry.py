"""Cleaning one instrument's submitted values against the dictionary: the rules the web form,
the API import and any other write path share. Branching decides what is visible, calculations
are recomputed on the server (authoritative), hidden fields are cleared and never required."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext

from registry.dictionary import Dictionary, FieldDef, FieldValueError, validate_value
from registry.logic import LogicSyntaxError, calculate, is_true
from registry.models import FormStatus

Values = dict[str, str | list[str]]
NO_VALUE_TYPES = {"descriptive", "file"}


@dataclass
class CleanedInstrument:
    data: Values
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)
    cleared: dict[str, str | list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def entry_fields(dictionary: Dictionary, instrument: str) -> list[FieldDef]:
    """The fields of an instrument that hold a value (the record-id field excluded)."""
    record_id = dictionary.record_id_field.name
    return [
        f
        for f in dictionary.fields_of(instrument)
        if f.name != record_id and f.field_type not in NO_VALUE_TYPES
    ]


def clean_instrument(
    *,
    dictionary: Dictionary,
    instrument: str,
    submitted: Mapping[str, str | list[str] | tuple],
    context: Mapping[str, str | list[str]],
    status: int,
    missing_codes: list[str],
    input_date_order: str | None = None,
    today: date | None = None,
) -> CleanedInstrument:
    """`submitted` holds the raw values for this instrument; `context` the rest of the record
    (other instruments) for logic. Returns normalised values and per-field errors."""
    fields = entry_fields(dictionary, instrument)
    result = CleanedInstrument(data={})
    for f in fields:
        if f.field_type == "calc":
            continue
        raw = submitted.get(f.name)
        if isinstance(raw, tuple):
            raw = list(raw)
        try:
            checked = validate_value(
                f, raw, missing_codes=missing_codes, today=today, input_date_order=input_date_order
            )
        except FieldValueError as exc:
            result.errors[f.name] = str(exc)
            result.data[f.name] = raw if raw is not None else ""
            continue
        value = checked.value
        result.data[f.name] = list(value) if isinstance(value, tuple) else value
        if checked.warning:
            result.warnings[f.name] = checked.warning

    _apply_calculations(fields, result, context, missing_codes, today)
    logic_values = {**context, **result.data}
    for f in fields:
        if f.branching_logic and not _visible(f, logic_values, missing_codes, today):
            result.hidden.add(f.name)
            if result.data.get(f.name) not in ("", [], None):
                result.cleared[f.name] = result.data[f.name]
            result.data[f.name] = [] if f.is_checkbox else ""
            result.errors.pop(f.name, None)
            result.warnings.pop(f.name, None)
    if int(status) == FormStatus.COMPLETE:
        for f in fields:
            if f.required and f.name not in result.hidden and f.field_type != "calc":
                if result.data.get(f.name) in ("", [], None) and f.name not in result.errors:
                    result.errors[f.name] = gettext(
                        "This field is required before the form can be marked Complete "
                        "(enter a value or a missing-data code)."
                    )
    return result


def _visible(f: FieldDef, values: Mapping, missing_codes: list[str], today: date | None) -> bool:
    try:
        return is_true(f.branching_logic, values, missing_codes=missing_codes, today=today)
    except (LogicSyntaxError, ValueError, TypeError):
        return True


def _apply_calculations(fields, result, context, missing_codes, today) -> None:
    calcs = [f for f in fields if f.field_type == "calc"]
    for _ in range(len(calcs) + 1):  # calcs may use calcs; the dictionary has no cycles
        changed = False
        values = {**context, **result.data}
        for f in calcs:
            try:
                value = calculate(f.calculation, values, missing_codes=missing_codes, today=today)
            except (LogicSyntaxError, ValueError, TypeError, ZeroDivisionError):
                value = ""
            if result.data.get(f.name) != value:
                result.data[f.name] = value
                values[f.name] = value
                changed = True
        if not changed:
            break


def form_complete_name(instrument: str) -> str:
    return f"{instrument}_complete"
