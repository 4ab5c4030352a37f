"""Turning one dictionary field into a Django form field, and stored values into what the
coordinator sees (ISO dates shown day first)."""

from __future__ import annotations

import copy
import re

from django import forms
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext

from registry.dictionary import Dictionary, FieldDef
from registry.dictionary_text import dictionary_plain_text, render_dictionary_text
from registry.entry import entry_fields

REQUIRED_MARK = (
    ' <span class="text-danger" title="{}" aria-hidden="true">*</span>'
    '<span class="visually-hidden">{}</span>'
)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(.*)$")


DATE_PLACEHOLDERS = {"dmy": "dd/mm/yyyy", "mdy": "mm/dd/yyyy", "ymd": "yyyy-mm-dd"}


def display_value(f: FieldDef, stored: object, date_order: str = "dmy") -> object:
    """How a stored value is shown in the form: ISO dates in the user's date format."""
    if isinstance(stored, str) and (f.is_date or f.is_datetime) and date_order != "ymd":
        m = _ISO_DATE.match(stored)
        if m:
            y, mo, d, rest = m.groups()
            return f"{d}/{mo}/{y}{rest}" if date_order == "dmy" else f"{mo}/{d}/{y}{rest}"
    return stored


def _label(f: FieldDef) -> SafeString:
    label = render_dictionary_text(f.label or f.name)
    if not f.required:
        return label
    return format_html("{}" + REQUIRED_MARK, label, gettext("Required"), gettext("(required)"))


def missing_code(f: FieldDef, value: object, codes: list[str]) -> str:
    if isinstance(value, str) and value in codes and value not in f.choice_map:
        return value
    if (
        isinstance(value, list)
        and len(value) == 1
        and value[0] in codes
        and value[0] not in f.choice_map
    ):
        return value[0]
    return ""


def _choices(f: FieldDef, *, markup: bool) -> list[tuple[str, str]]:
    """Radio and checkbox labels keep their allowed markup; a dropdown's <option> takes text."""
    shown = render_dictionary_text if markup else dictionary_plain_text
    return [(c.code, shown(c.label)) for c in f.choices]


# A format written into a field note ("(DD-MM-YYYY)") would contradict the person's own format.
_NOTE_DATE_FORMAT = re.compile(
    r"\s*\(?\b(?:DD|MM|YYYY)[-/.](?:DD|MM)[-/.](?:DD|MM|YYYY)\b\)?", re.IGNORECASE
)


def _note(f: FieldDef, date_order: str) -> str:
    """The field note; for dates with the one hint the placeholder also gives."""
    if not (f.is_date or f.is_datetime):
        return render_dictionary_text(f.note)
    hint = DATE_PLACEHOLDERS[date_order] + (" hh:mm" if f.is_datetime else "")
    note = _NOTE_DATE_FORMAT.sub("", f.note or "").strip()
    return render_dictionary_text(f"{note} ({hint})" if note else hint)


def form_field(f: FieldDef, *, readonly: bool, date_order: str = "dmy") -> forms.Field:
    common = {"required": False, "label": _label(f), "help_text": _note(f, date_order)}
    attrs: dict[str, str] = {}
    if readonly or f.readonly or f.field_type == "calc":
        attrs["readonly"] = "readonly"
    if f.field_type == "notes":
        return forms.CharField(widget=forms.Textarea(attrs={**attrs, "rows": 3}), **common)
    if f.field_type == "dropdown":
        return forms.ChoiceField(choices=[("", "—")] + _choices(f, markup=False), **common)
    if f.field_type in ("radio", "yesno", "truefalse"):
        return forms.ChoiceField(
            choices=_choices(f, markup=True), widget=forms.RadioSelect, **common
        )
    if f.field_type == "checkbox":
        return forms.MultipleChoiceField(
            choices=_choices(f, markup=True), widget=forms.CheckboxSelectMultiple, **common
        )
    if f.field_type == "slider":
        attrs.update(type="number", min=f.validation_min or "0", max=f.validation_max or "100")
    if f.is_date:
        attrs.update(
            placeholder=DATE_PLACEHOLDERS[date_order], inputmode="numeric", autocomplete="off"
        )
    elif f.is_datetime:
        attrs.update(placeholder=DATE_PLACEHOLDERS[date_order] + " hh:mm", autocomplete="off")
    return forms.CharField(widget=forms.TextInput(attrs=attrs), **common)


def built_fields(
    dictionary: Dictionary, instrument: str, *, readonly: bool, date_order: str
) -> dict[str, forms.Field]:
    """The instrument's form fields, built once per dictionary, instrument, language and date
    format (building one renders its label, note and choices: sanitised dictionary text).
    Shared: copy before binding or changing one (form_fields)."""
    key = ("form_fields", instrument, readonly, date_order, get_language())
    built = dictionary.memo.get(key)
    if built is None:
        built = {
            f.name: form_field(f, readonly=readonly, date_order=date_order)
            for f in entry_fields(dictionary, instrument)
        }
        dictionary.memo[key] = built
    return built


def form_fields(
    dictionary: Dictionary, instrument: str, *, readonly: bool, date_order: str
) -> dict[str, forms.Field]:
    """Fresh copies of the built fields, as Django copies a form class's base fields."""
    built = built_fields(dictionary, instrument, readonly=readonly, date_order=date_order)
    return {name: copy.deepcopy(field) for name, field in built.items()}
