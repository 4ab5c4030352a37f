"""The data-quality warnings one form shows beside its fields after a save: the record's findings
(registry.quality) that involve a field of the form, and values outside their field's range,
each in labels and the reader's date format, with its acknowledgement if there is one.

Warnings never block saving (REDCap's soft checks); the record's findings still block locking
until fixed or acknowledged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from registry.dictionary import FieldDef, FieldValueError, validate_value
from registry.dictionary_text import dictionary_plain_text
from registry.forms.instrument_fields import display_value
from registry.models import DictionaryVersion, FindingAcknowledgement, Record
from registry.quality import findings_for


@dataclass(frozen=True)
class FieldWarning:
    key: str  # the rule key an acknowledgement is stored under
    title: str
    text: str
    field: str
    acknowledgement: FindingAcknowledgement | None = None


_DATE_FIELD = FieldDef(name="_", form="_", field_type="text", validation="date_ymd")


def format_date(value: date, date_order: str) -> str:
    """A date in the person's format (dd/mm/yyyy, mm/dd/yyyy or ISO)."""
    return str(display_value(_DATE_FIELD, value.isoformat(), date_order))


def range_key(instrument: str, instance: int, field: str) -> str:
    return f"range:{instrument}:{instance}:{field}"


def form_warnings(
    record: Record,
    version: DictionaryVersion,
    instrument: str,
    instance: int,
    stored: dict,
    *,
    date_order: str = "dmy",
) -> dict[str, list[FieldWarning]]:
    """Field name -> its warnings, for the form `instrument` #`instance` holding `stored`."""
    dictionary = version.dictionary
    on_form = {f.name: f for f in dictionary.fields_of(instrument)}
    repeating = instrument in version.repeating_instruments
    acks = {a.rule_key: a for a in record.acknowledgements.select_related("acknowledged_by")}

    def label(name: str) -> str:
        return dictionary_plain_text(dictionary.field(name).label) if name in dictionary else name

    def fmt_date(value: date) -> str:
        return format_date(value, date_order)

    out: dict[str, list[FieldWarning]] = {}
    for finding in findings_for(record, version):
        if repeating and finding.instrument == instrument and finding.instance != instance:
            continue
        targets = [n for n in finding.fields if n in on_form]
        if not targets:
            continue
        warning = FieldWarning(
            finding.rule_key,
            finding.rule_name,
            finding.words(label, fmt_date),
            targets[0],
            acks.get(finding.rule_key),
        )
        for name in targets:
            out.setdefault(name, []).append(warning)
    codes = version.missing_code_values
    for name, f in on_form.items():
        problem = _out_of_range(f, stored.get(name), codes, date_order)
        if problem:
            key = range_key(instrument, instance, name)
            out.setdefault(name, []).append(
                FieldWarning(key, "Value out of range", problem, name, acks.get(key))
            )
    return out


def _out_of_range(f: FieldDef, value, codes: list[str], date_order: str) -> str:
    if not isinstance(value, str) or not value or value in codes:
        return ""
    if not (f.validation_min or f.validation_max):
        return ""
    try:
        checked = validate_value(f, value, missing_codes=codes)
    except FieldValueError:
        return ""
    if not checked.warning:
        return ""
    low = display_value(f, f.validation_min, date_order) or "…"
    high = display_value(f, f.validation_max, date_order) or "…"
    shown = display_value(f, value, date_order)
    return f"{shown} is outside the expected range ({low} to {high}): check it, or acknowledge it."


def unacknowledged_warnings(
    record: Record,
    version: DictionaryVersion,
    instrument: str,
    instance: int,
    stored: dict,
    date_order: str = "dmy",
) -> int:
    """How many warnings the form shows that nobody has acknowledged yet."""
    found = form_warnings(record, version, instrument, instance, stored, date_order=date_order)
    return len({w.key for ws in found.values() for w in ws if w.acknowledgement is None})
