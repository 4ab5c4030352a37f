"""The columns of a flat export, in REDCap's layout, and how each cell is written.

record_id, redcap_repeat_instrument, redcap_repeat_instance, [redcap_data_access_group],
[registry_lock_status], then the fields in dictionary order (a checkbox as one column per
option and per missing-data code: ``field___code``), each form followed by ``{form}_complete``.
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.dictionary import FieldDef, checkbox_export_name
from registry.entry import NO_VALUE_TYPES
from registry.models import DictionaryVersion, FormStatus

from .options import ExportOptions

REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
DAG = "redcap_data_access_group"
LOCK_STATUS = "registry_lock_status"
# Lazy labels: in the export's language (build_export activates it), made text when written.
STATUS_LABELS = {str(s.value): s.label for s in FormStatus}


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: str  # record_id | repeat_instrument | repeat_instance | dag | lock | value | checkbox
    #            | complete
    form: str = ""
    field: FieldDef | None = None
    code: str = ""  # the checkbox option (or missing-data code) of a checkbox column


def data_fields(version: DictionaryVersion) -> list[FieldDef]:
    """Fields that hold values, in dictionary order (the record-id field first)."""
    return [f for f in version.dictionary.fields if f.field_type not in NO_VALUE_TYPES]


def selected_fields(version: DictionaryVersion, options: ExportOptions) -> list[FieldDef]:
    """Fields asked for (base names, checkbox base names, forms), minus what de-identification
    drops. Unknown names raise ValueError with REDCap's wording."""
    fields = data_fields(version)
    record_id = version.dictionary.record_id_field.name
    known_forms = set(version.dictionary.form_names)
    wanted_forms = set(options.forms)
    unknown_forms = sorted(wanted_forms - known_forms)
    if unknown_forms:
        raise ValueError(
            f'The following values in the parameter "forms" are not valid: '
            f"{', '.join(unknown_forms)}"
        )
    wanted = set()
    all_names = {f.name for f in version.dictionary.fields}
    completes = {f"{form}_complete" for form in known_forms}
    export_names = {
        c["export_field_name"]: c["original_field_name"]
        for c in version.dictionary.export_field_names()
    }
    bad = []
    for name in options.fields:
        if name in all_names or name in completes:
            wanted.add(name)
        elif name in export_names:
            wanted.add(export_names[name])
        else:
            bad.append(name)
    if bad:
        raise ValueError(
            f'The following values in the parameter "fields" are not valid: {", ".join(bad)}'
        )
    everything = not wanted and not wanted_forms
    chosen = [
        f
        for f in fields
        if everything or f.name == record_id or f.name in wanted or f.form in wanted_forms
    ]
    if options.deidentify:
        chosen = [f for f in chosen if f.name == record_id or not (f.identifier or f.is_free_text)]
    return chosen


def complete_forms(version: DictionaryVersion, options: ExportOptions) -> list[str]:
    forms = version.dictionary.form_names
    if not options.fields and not options.forms:
        return forms
    return [form for form in forms if form in options.forms or f"{form}_complete" in options.fields]


def export_columns(version: DictionaryVersion, options: ExportOptions) -> list[Column]:
    dictionary = version.dictionary
    record_id = dictionary.record_id_field
    columns = [
        Column(record_id.name, record_id.label, "record_id", record_id.form, record_id),
        Column(REPEAT_INSTRUMENT, "Repeat Instrument", "repeat_instrument"),
        Column(REPEAT_INSTANCE, "Repeat Instance", "repeat_instance"),
    ]
    if options.data_access_group:
        columns.append(Column(DAG, "Data Access Group", "dag"))
    if not options.locked_only:
        columns.append(Column(LOCK_STATUS, "Record locked (registry)", "lock"))
    fields = selected_fields(version, options)
    by_form: dict[str, list[FieldDef]] = {}
    for f in fields:
        if f.name != record_id.name:
            by_form.setdefault(f.form, []).append(f)
    missing = version.missing_codes
    with_complete = set(complete_forms(version, options))
    for form in dictionary.form_names:
        for f in by_form.get(form, []):
            if f.is_checkbox:
                options_and_codes = [(c.code, c.label) for c in f.choices] + [
                    (m["code"], m["label"]) for m in missing if m["code"] not in f.choice_map
                ]
                columns += [
                    Column(
                        checkbox_export_name(f.name, code),
                        f"{f.label} (choice={label})",
                        "checkbox",
                        form,
                        f,
                        code,
                    )
                    for code, label in options_and_codes
                ]
            else:
                columns.append(Column(f.name, f.label, "value", form, f))
        if form in with_complete:
            columns.append(Column(f"{form}_complete", "Complete?", "complete", form))
    return columns


def header_row(columns: list[Column], options: ExportOptions) -> list[str]:
    return [c.label if options.header == "label" else c.name for c in columns]


class CellWriter:
    """Turns stored values into cells for one column set, raw codes or labels."""

    def __init__(self, version: DictionaryVersion, options: ExportOptions) -> None:
        self.labels = options.labels
        self.checkbox_label = options.checkbox_label and options.labels
        self.missing = {m["code"]: m["label"] for m in version.missing_codes}
        self.form_labels = dict(version.dictionary.forms)

    def value(self, column: Column, raw) -> str:
        if raw is None or raw == "":
            return ""
        if isinstance(raw, list):
            raw = ",".join(raw)
        if not self.labels:
            return raw
        f = column.field
        if f is not None and f.choices:
            label = f.choice_map.get(raw)
            if label is not None:
                return label
        return self.missing.get(raw, raw)

    def checkbox(self, column: Column, checked_codes) -> str:
        checked = column.code in checked_codes
        if self.checkbox_label:
            label = column.field.choice_map.get(column.code) or self.missing.get(
                column.code, column.code
            )
            return label if checked else ""
        if self.labels:
            return "Checked" if checked else "Unchecked"
        return "1" if checked else "0"

    def complete(self, status: int | None) -> str:
        text = "0" if status is None else str(status)
        return str(STATUS_LABELS.get(text, text)) if self.labels else text

    def repeat_instrument(self, form: str) -> str:
        if not form:
            return ""
        return self.form_labels.get(form, form) if self.labels else form
