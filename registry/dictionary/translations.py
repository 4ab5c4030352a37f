"""The dictionary in another language, as REDCap's Multi-Language Management keeps it: one file
per language, one row per translated text, keyed by field and choice.

    field_name,attribute,choice_code,text[,source_text]

``attribute`` is one of ATTRIBUTES: a field's ``field_label`` (also a descriptive field's text),
``field_note``, ``section_header``, a ``choice_label`` (with its ``choice_code``), an instrument's
``form_label`` (``field_name`` holds the form name) or a project ``missing_code_label``
(``choice_code`` holds the code, ``field_name`` stays empty). ``source_text`` is the base text,
written in downloads for the translator and ignored on upload.

Only text changes: names, codes, types and logic are the base dictionary's, so a translation can
never change what is stored. A text left out falls back to the base text, field by field.
Translated text is untrusted like the base text: it is shown only through
registry.dictionary_text, never compiled as a template. Pure Python, like parse.py.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from registry.csv_safety import unguard
from registry.csv_safety import writer as safe_writer
from registry.hostile_input import describe_problem

from .model import Choice, Dictionary, DictionaryError, DictionaryInvalid, form_label

__all__ = [
    "ATTRIBUTES",
    "HEADER",
    "TranslationEntry",
    "parse_translation_csv",
    "translate_dictionary",
    "translate_missing_codes",
    "translation_csv",
]

HEADER = ("field_name", "attribute", "choice_code", "text")
SOURCE_COLUMN = "source_text"
ATTRIBUTES = (
    "field_label",
    "field_note",
    "section_header",
    "choice_label",
    "form_label",
    "missing_code_label",
)
MAX_TEXT = 10_000


@dataclass(frozen=True)
class TranslationEntry:
    field_name: str
    attribute: str
    choice_code: str
    text: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.field_name, self.attribute, self.choice_code)

    def to_json(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def parse_translation_csv(
    text: str, dictionary: Dictionary, missing_codes: Iterable[str] = ()
) -> list[TranslationEntry]:
    """Read a translation file against the dictionary it translates; raise DictionaryInvalid
    with every problem by row and column (rows numbered as a spreadsheet shows them)."""
    text = text.removeprefix("\ufeff")
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise DictionaryInvalid(
            [DictionaryError(1, "", f"not a readable CSV file: {exc}")]
        ) from None
    if not rows:
        raise DictionaryInvalid([DictionaryError(1, "", "the file is empty")])
    header = [cell.strip() for cell in rows[0]]
    if tuple(header[:4]) != HEADER or header[4:] not in ([], [SOURCE_COLUMN]):
        expected = ",".join(HEADER)
        raise DictionaryInvalid(
            [DictionaryError(1, "", f"the header must be {expected} (optionally ,{SOURCE_COLUMN})")]
        )
    errors: list[DictionaryError] = []
    entries: dict[tuple[str, str, str], TranslationEntry] = {}
    codes = set(missing_codes)
    for number, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            errors.append(DictionaryError(number, "", f"expected {len(header)} cells"))
            continue
        problem = next((p for p in map(describe_problem, cells) if p), None)
        if problem:
            errors.append(DictionaryError(number, "", problem))
            continue
        name, attribute, code = (c.strip() for c in cells[:3])
        entry = TranslationEntry(name, attribute, code, unguard(cells[3]).replace("\r\n", "\n"))
        problem, column = _check(entry, dictionary, codes)
        if problem is None and entry.key in entries:
            problem, column = "this text is translated twice", "field_name"
        if problem:
            errors.append(DictionaryError(number, column, problem))
        elif entry.text.strip():  # an empty text keeps the base text
            entries[entry.key] = entry
    if errors:
        raise DictionaryInvalid(errors)
    return list(entries.values())


def _check(entry: TranslationEntry, dictionary: Dictionary, codes: set[str]) -> tuple:
    if entry.attribute not in ATTRIBUTES:
        return f"unknown attribute; use one of {', '.join(ATTRIBUTES)}", "attribute"
    if len(entry.text) > MAX_TEXT:
        return f"the text is longer than {MAX_TEXT} characters", "text"
    if entry.attribute == "missing_code_label":
        if entry.field_name:
            return "a missing-data code belongs to no field: leave field_name empty", "field_name"
        if entry.choice_code not in codes:
            return f"'{entry.choice_code}' is not a missing-data code of the project", "choice_code"
        return None, ""
    if entry.attribute == "form_label":
        if entry.field_name not in dictionary.form_names:
            return f"'{entry.field_name}' is not an instrument of the dictionary", "field_name"
    elif entry.field_name not in dictionary:
        return f"'{entry.field_name}' is not a field of the dictionary", "field_name"
    if entry.attribute == "choice_label":
        if entry.choice_code not in dictionary.field(entry.field_name).choice_map:
            return f"'{entry.choice_code}' is not a choice of {entry.field_name}", "choice_code"
    elif entry.choice_code:
        return "choice_code is only for choice_label and missing_code_label", "choice_code"
    return None, ""


def translate_dictionary(dictionary: Dictionary, entries: Iterable[TranslationEntry]) -> Dictionary:
    """The same dictionary with the translated texts; every other text stays the base one."""
    texts = {e.key: e.text for e in entries}
    if not texts:
        return dictionary

    def text(name: str, attribute: str, base: str, code: str = "") -> str:
        return texts.get((name, attribute, code), base)

    fields = tuple(
        dataclasses.replace(
            f,
            label=text(f.name, "field_label", f.label),
            note=text(f.name, "field_note", f.note),
            section_header=text(f.name, "section_header", f.section_header),
            choices=tuple(
                Choice(c.code, text(f.name, "choice_label", c.label, c.code)) for c in f.choices
            ),
        )
        for f in dictionary.fields
    )
    titles = {
        form: texts[(form, "form_label", "")]
        for form in dictionary.form_names
        if (form, "form_label", "") in texts
    }
    return Dictionary(fields=fields, form_titles=titles)


def translate_missing_codes(
    missing_codes: Iterable[Mapping], entries: Iterable[TranslationEntry]
) -> list[dict]:
    texts = {e.choice_code: e.text for e in entries if e.attribute == "missing_code_label"}
    return [{**m, "label": texts.get(m["code"], m.get("label", ""))} for m in missing_codes]


def translation_csv(
    dictionary: Dictionary,
    entries: Iterable[TranslationEntry],
    missing_codes: Iterable[Mapping] = (),
) -> str:
    """Every translatable text of the dictionary, one row each, with the translation (empty
    where there is none) and the base text beside it: the file a translator fills in."""
    texts = {e.key: e.text for e in entries}
    rows: list[tuple[str, str, str, str]] = []
    seen_forms: set[str] = set()
    for f in dictionary.fields:
        if f.form not in seen_forms:
            seen_forms.add(f.form)
            rows.append((f.form, "form_label", "", form_label(f.form)))
        for attribute, base in (
            ("section_header", f.section_header),
            ("field_label", f.label),
            ("field_note", f.note),
        ):
            if base:
                rows.append((f.name, attribute, "", base))
        rows += [(f.name, "choice_label", c.code, c.label) for c in f.choices]
    rows += [("", "missing_code_label", m["code"], m.get("label", "")) for m in missing_codes]
    out = io.StringIO()
    writer = safe_writer(out, lineterminator="\n")
    writer.writerow((*HEADER, SOURCE_COLUMN))
    for name, attribute, code, base in rows:
        writer.writerow((name, attribute, code, texts.get((name, attribute, code), ""), base))
    return out.getvalue()
