"""The data dictionary as immutable values: Choice, FieldDef, Dictionary, and its errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .action_tags import ActionTags, parse_action_tags
from .validation_types import VALIDATION_TYPES, ValidationType

# (REDCap API metadata key, REDCap CSV column), in REDCap's order.
COLUMN_KEYS: tuple[tuple[str, str], ...] = (
    ("field_name", "Variable / Field Name"),
    ("form_name", "Form Name"),
    ("section_header", "Section Header"),
    ("field_type", "Field Type"),
    ("field_label", "Field Label"),
    ("select_choices_or_calculations", "Choices, Calculations, OR Slider Labels"),
    ("field_note", "Field Note"),
    ("text_validation_type_or_show_slider_number", "Text Validation Type OR Show Slider Number"),
    ("text_validation_min", "Text Validation Min"),
    ("text_validation_max", "Text Validation Max"),
    ("identifier", "Identifier?"),
    ("branching_logic", "Branching Logic (Show field only if...)"),
    ("required_field", "Required Field?"),
    ("custom_alignment", "Custom Alignment"),
    ("question_number", "Question Number (surveys only)"),
    ("matrix_group_name", "Matrix Group Name"),
    ("matrix_ranking", "Matrix Ranking?"),
    ("field_annotation", "Field Annotation"),
)
COLUMNS: tuple[str, ...] = tuple(column for _, column in COLUMN_KEYS)
JSON_KEYS: tuple[str, ...] = tuple(key for key, _ in COLUMN_KEYS)

FIELD_TYPES = (
    "text",
    "notes",
    "dropdown",
    "radio",
    "checkbox",
    "yesno",
    "truefalse",
    "calc",
    "descriptive",
    "slider",
    "file",
)
CHOICE_TYPES = ("dropdown", "radio", "checkbox")
IMPLIED_CHOICES = {
    "yesno": (("1", "Yes"), ("0", "No")),
    "truefalse": (("1", "True"), ("0", "False")),
}
CATEGORICAL_TYPES = ("dropdown", "radio", "yesno", "truefalse")


@dataclass(frozen=True)
class Choice:
    code: str
    label: str


@dataclass(frozen=True)
class FieldDef:
    name: str
    form: str
    section_header: str = ""
    field_type: str = "text"
    label: str = ""
    choices: tuple[Choice, ...] = ()
    calculation: str = ""
    slider_labels: tuple[str, ...] = ()
    note: str = ""
    validation: str = ""  # text validation type; "number" for a slider that shows its number
    validation_min: str = ""
    validation_max: str = ""
    identifier: bool = False
    branching_logic: str = ""
    required: bool = False
    custom_alignment: str = ""
    question_number: str = ""
    matrix_group: str = ""
    matrix_ranking: bool = False
    annotation: str = ""

    @cached_property
    def tags(self) -> ActionTags:
        return parse_action_tags(self.annotation)

    @property
    def hidden(self) -> bool:
        return self.tags.hidden

    @property
    def readonly(self) -> bool:
        return self.tags.readonly

    @property
    def default(self) -> str | None:
        return self.tags.default

    @property
    def today_default(self) -> bool:
        return self.tags.today

    @property
    def nomissing(self) -> bool:
        return self.tags.nomissing

    @property
    def force_minmax(self) -> bool:
        return self.tags.force_minmax

    @property
    def validation_type(self) -> ValidationType | None:
        """The text validation type (None for other field types and plain text)."""
        if self.field_type != "text":
            return None
        return VALIDATION_TYPES.get(self.validation)

    @property
    def is_date(self) -> bool:
        vt = self.validation_type
        return vt is not None and vt.kind == "date"

    @property
    def is_datetime(self) -> bool:
        vt = self.validation_type
        return vt is not None and vt.kind in ("datetime", "datetime_seconds")

    @property
    def is_numeric(self) -> bool:
        if self.field_type in ("calc", "slider"):
            return True
        vt = self.validation_type
        return vt is not None and vt.kind in ("integer", "number")

    @property
    def is_free_text(self) -> bool:
        return self.field_type == "notes" or (self.field_type == "text" and not self.validation)

    @property
    def is_checkbox(self) -> bool:
        return self.field_type == "checkbox"

    @property
    def has_data(self) -> bool:
        """Descriptive fields show text and hold no value."""
        return self.field_type != "descriptive"

    @property
    def show_slider_number(self) -> bool:
        return self.field_type == "slider" and self.validation == "number"

    @property
    def choice_map(self) -> dict[str, str]:
        return {c.code: c.label for c in self.choices}

    def choices_cell(self) -> str:
        """The Choices, Calculations, OR Slider Labels cell as exported."""
        if self.field_type == "calc":
            return self.calculation
        if self.field_type == "slider":
            return " | ".join(self.slider_labels)
        if self.field_type in CHOICE_TYPES:
            return " | ".join(f"{c.code}, {c.label}" for c in self.choices)
        return ""

    def to_row(self) -> list[str]:
        """The 18 cells of this field's dictionary row, in REDCap's column order."""
        return [
            self.name,
            self.form,
            self.section_header,
            self.field_type,
            self.label,
            self.choices_cell(),
            self.note,
            self.validation,
            self.validation_min,
            self.validation_max,
            "y" if self.identifier else "",
            self.branching_logic,
            "y" if self.required else "",
            self.custom_alignment,
            self.question_number,
            self.matrix_group,
            "y" if self.matrix_ranking else "",
            self.annotation,
        ]


def checkbox_export_name(field_name: str, code: str) -> str:
    """REDCap's export column for one checkbox option: field___code (code lower-cased,
    '-' and '.' replaced by '_')."""
    return f"{field_name}___{code.lower().replace('-', '_').replace('.', '_')}"


def form_label(form_name: str) -> str:
    """REDCap's display name for an instrument: primary_surgery -> Primary Surgery."""
    return " ".join(word.capitalize() for word in form_name.split("_") if word)


@dataclass(frozen=True)
class Dictionary:
    fields: tuple[FieldDef, ...]
    # Instrument titles of a translation (registry.dictionary.translations); else form_label.
    form_titles: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
    _by_name: dict[str, FieldDef] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(self.fields))
        object.__setattr__(self, "_by_name", {f.name: f for f in self.fields})

    @property
    def record_id_field(self) -> FieldDef:
        return self.fields[0]

    @property
    def forms(self) -> list[tuple[str, str]]:
        return list(self._forms)

    @cached_property
    def _forms(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (name, self.form_titles.get(name) or form_label(name)) for name in self._fields_by_form
        )

    @property
    def form_names(self) -> list[str]:
        return list(self._fields_by_form)

    def fields_of(self, form: str) -> tuple[FieldDef, ...]:
        return self._fields_by_form.get(form, ())

    @cached_property
    def memo(self) -> dict:
        """What other modules derive from this dictionary (it never changes), kept with it."""
        return {}

    @cached_property
    def _fields_by_form(self) -> dict[str, tuple[FieldDef, ...]]:
        grouped: dict[str, list[FieldDef]] = {}
        for f in self.fields:
            grouped.setdefault(f.form, []).append(f)
        return {form: tuple(fields) for form, fields in grouped.items()}

    def field(self, name: str) -> FieldDef:
        """The field called ``name``; KeyError if there is none."""
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def export_field_names(self) -> list[dict[str, str]]:
        """REDCap's exportFieldNames: one row per export column, checkboxes expanded."""
        rows = []
        for f in self.fields:
            if not f.has_data:
                continue
            if f.is_checkbox:
                rows += [
                    {
                        "original_field_name": f.name,
                        "choice_value": c.code,
                        "export_field_name": checkbox_export_name(f.name, c.code),
                    }
                    for c in f.choices
                ]
            else:
                rows.append(
                    {"original_field_name": f.name, "choice_value": "", "export_field_name": f.name}
                )
        return rows

    def to_json(self) -> list[dict[str, str]]:
        """REDCap API metadata format (the keys of ``exportMetadata``), all values strings."""
        return [dict(zip(JSON_KEYS, f.to_row(), strict=True)) for f in self.fields]

    @classmethod
    def from_json(cls, data: Iterable[Mapping[str, Any]], *, validate: bool = False) -> Dictionary:
        """Read ``to_json()`` output (or REDCap's exportMetadata).

        Stored versions were validated when imported, so by default only the shape of each
        field is checked; ``validate=True`` runs every dictionary check (for outside data).
        """
        from .parse import dictionary_from_rows

        rows = [[_cell(item.get(key)) for key in JSON_KEYS] for item in data]
        return dictionary_from_rows(rows, check_logic=validate)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass
class DictionaryError:
    row: int  # 1-based row of the CSV, the header being row 1
    column: str  # the REDCap column name ("" when the problem is the whole file)
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column '{self.column}'" if self.column else "")
        return f"{where}: {self.message}"


class DictionaryInvalid(Exception):
    """Raised with every problem found in a dictionary, in row and column order."""

    def __init__(self, errors: list[DictionaryError]) -> None:
        order = {c: i for i, c in enumerate(COLUMNS)}
        self.errors = sorted(errors, key=lambda e: (e.row, order.get(e.column, -1)))
        super().__init__("\n".join(str(e) for e in self.errors))
