"""The instrument (CRF) form, built from the data dictionary at request time.

Rendering only decides how fields look; the values are checked by registry.entry.clean_instrument
(the same rules as every other write path), whose per-field errors are attached beside the fields.
Dates are typed and shown day first (dd/mm/yyyy) and stored ISO.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout
from django import forms
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe

from registry.dictionary import Dictionary, FieldDef
from registry.entry import CleanedInstrument, clean_instrument, entry_fields
from registry.models import FormStatus

STATUS_FIELD = "__status"
VERSION_FIELD = "__version"
REASON_FIELD = "__reason"
MISSING_SUFFIX = "__missing"
CHOICE_TYPES = ("dropdown", "radio", "yesno", "truefalse", "checkbox")
REQUIRED_MARK = mark_safe(  # noqa: S308 - a constant
    ' <span class="text-danger" title="Required" aria-hidden="true">*</span>'
    '<span class="visually-hidden">(required)</span>'
)
MISSING_SELECT = (
    '<label class="visually-hidden" for="id_{0}{1}">Missing-data code for {2}</label>'
    '<select class="form-select form-select-sm registry-missing w-auto d-inline-block" '
    'name="{0}{1}" id="id_{0}{1}"{3}>{4}</select>'
)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(.*)$")


def display_value(f: FieldDef, stored: object) -> object:
    """How a stored value is shown in the form: ISO dates as dd/mm/yyyy."""
    if isinstance(stored, str) and (f.is_date or f.is_datetime):
        m = _ISO_DATE.match(stored)
        if m:
            y, mo, d, rest = m.groups()
            return f"{d}/{mo}/{y}{rest}"
    return stored


def _label(f: FieldDef) -> str:
    if f.required:
        return format_html("{}{}", f.label or f.name, REQUIRED_MARK)
    return escape(f.label or f.name)


def _missing_code(f: FieldDef, value: object, codes: list[str]) -> str:
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


def _choices(f: FieldDef) -> list[tuple[str, str]]:
    return [(c.code, c.label) for c in f.choices]


def _form_field(f: FieldDef, *, readonly: bool) -> forms.Field:
    common = {"required": False, "label": _label(f), "help_text": f.note or ""}
    attrs: dict[str, str] = {}
    if readonly or f.readonly or f.field_type == "calc":
        attrs["readonly"] = "readonly"
    if f.field_type == "notes":
        return forms.CharField(widget=forms.Textarea(attrs={**attrs, "rows": 3}), **common)
    if f.field_type == "dropdown":
        return forms.ChoiceField(choices=[("", "—")] + _choices(f), **common)
    if f.field_type in ("radio", "yesno", "truefalse"):
        return forms.ChoiceField(choices=_choices(f), widget=forms.RadioSelect, **common)
    if f.field_type == "checkbox":
        return forms.MultipleChoiceField(
            choices=_choices(f), widget=forms.CheckboxSelectMultiple, **common
        )
    if f.field_type == "slider":
        attrs.update(type="number", min=f.validation_min or "0", max=f.validation_max or "100")
    if f.is_date:
        attrs.update(placeholder="dd/mm/yyyy", inputmode="numeric", autocomplete="off")
    elif f.is_datetime:
        attrs.update(placeholder="dd/mm/yyyy hh:mm", autocomplete="off")
    return forms.CharField(widget=forms.TextInput(attrs=attrs), **common)


class InstrumentForm(forms.Form):
    """One instrument instance. `context` holds the record's other values (for logic)."""

    def __init__(
        self,
        *args,
        dictionary: Dictionary,
        instrument: str,
        context: Mapping,
        missing_codes: list[dict],
        stored: Mapping | None = None,
        readonly: bool = False,
        ever_completed: bool = False,
        tools: Mapping[str, str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.dictionary = dictionary
        self.instrument = instrument
        self.context = dict(context)
        self.missing_codes = missing_codes
        self.code_values = [c["code"] for c in missing_codes]
        self.fields_def = entry_fields(dictionary, instrument)
        self.readonly = readonly
        self.ever_completed = ever_completed
        self.cleaned_instrument: CleanedInstrument | None = None
        self.tools = tools or {}
        self.missing_initial: dict[str, str] = {}
        stored = stored or {}
        for f in self.fields_def:
            self.fields[f.name] = _form_field(f, readonly=readonly)
            value = stored.get(f.name, "")
            code = _missing_code(f, value, self.code_values)
            if code:
                self.missing_initial[f.name] = code
            else:
                self.initial[f.name] = display_value(f, value)
        self.fields[STATUS_FIELD] = forms.TypedChoiceField(
            choices=FormStatus.choices,
            coerce=int,
            label="Form status",
            initial=0,
        )
        self.fields[VERSION_FIELD] = forms.IntegerField(
            widget=forms.HiddenInput, initial=0, min_value=0
        )
        self.fields[REASON_FIELD] = forms.CharField(
            required=False,
            label="Reason for change",
            help_text="This form has been marked Complete before: say why you change it.",
            widget=forms.Textarea(attrs={"rows": 2}),
        )
        if readonly:
            for form_field in self.fields.values():
                form_field.disabled = True
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = self._layout()

    def missing_value(self, name: str) -> str:
        if self.is_bound:
            return self.data.get(name + MISSING_SUFFIX, "")
        return self.missing_initial.get(name, "")

    def _field_tools(self, f: FieldDef) -> str:
        """Missing-data code select, Today button, then the view's tools (H, query)."""
        parts = []
        if f.field_type != "calc" and not f.nomissing and self.missing_codes:
            chosen = self.missing_value(f.name)
            options = format_html_join(
                "",
                '<option value="{}"{} title="{}">{}</option>',
                [("", "", "", "no code")]
                + [
                    (
                        c["code"],
                        " selected" if c["code"] == chosen else "",
                        c.get("label", ""),
                        c["code"],
                    )
                    for c in self.missing_codes
                ],
            )
            parts.append(
                format_html(
                    MISSING_SELECT,
                    f.name,
                    MISSING_SUFFIX,
                    f.label or f.name,
                    " disabled" if self.readonly else "",
                    options,
                )
            )
        if f.is_date and not self.readonly and not f.readonly:
            parts.append(
                format_html(
                    '<button type="button" class="btn btn-sm btn-outline-secondary registry-today" '
                    'data-target="id_{}">Today</button>',
                    f.name,
                )
            )
        parts.append(self.tools.get(f.name, ""))
        return format_html(
            '<div class="registry-tools d-flex gap-2 align-items-center mt-1">{}</div>',
            format_html_join("", "{}", ((p,) for p in parts)),
        )

    def _layout(self) -> Layout:
        items = []
        for f in self.dictionary.fields_of(self.instrument):
            if f.name == self.dictionary.record_id_field.name:
                continue
            if f.section_header:
                items.append(
                    HTML(
                        format_html(
                            '<h3 class="h5 mt-4 border-bottom pb-1">{}</h3>', f.section_header
                        )
                    )
                )
            attrs = {
                "css_class": "registry-field mb-3" + (" d-none" if f.hidden else ""),
                "css_id": f"field-{f.name}",
                "data_field": f.name,
                "data_type": f.field_type,
            }
            if f.branching_logic:
                attrs["data_branching"] = f.branching_logic
            if f.field_type == "calc":
                attrs["data_calc"] = f.calculation
            if f.is_date:
                attrs["data_date"] = "1"
            if f.field_type == "descriptive":
                items.append(
                    Div(
                        HTML(format_html('<p class="alert alert-secondary">{}</p>', f.label)),
                        **attrs,
                    )
                )
                continue
            if f.field_type == "file":
                items.append(
                    Div(
                        HTML(
                            format_html(
                                "<p><strong>{}</strong>: file uploads are not available here.</p>",
                                f.label,
                            )
                        ),
                        **attrs,
                    )
                )
                continue
            if self.missing_value(f.name):
                attrs["css_class"] += " registry-has-code"
            items.append(Div(Field(f.name), HTML(self._field_tools(f)), **attrs))
        return Layout(*items)

    def submitted(self) -> dict:
        """The raw values, a chosen missing-data code replacing the field's own input."""
        values: dict = {}
        for f in self.fields_def:
            code = self.data.get(f.name + MISSING_SUFFIX, "")
            if f.is_checkbox:
                values[f.name] = [code] if code else self.data.getlist(f.name)
            else:
                values[f.name] = code or self.data.get(f.name, "")
        return values

    def clean(self) -> dict:
        cleaned = super().clean()
        status = cleaned.get(STATUS_FIELD)
        if status is None:
            return cleaned
        result = clean_instrument(
            dictionary=self.dictionary,
            instrument=self.instrument,
            submitted=self.submitted(),
            context=self.context,
            status=status,
            missing_codes=self.code_values,
            input_date_order="dmy",
        )
        self.cleaned_instrument = result
        for name, message in result.errors.items():
            self.add_error(name if name in self.fields else None, message)
        return cleaned

    @property
    def warnings(self) -> dict[str, str]:
        return self.cleaned_instrument.warnings if self.cleaned_instrument else {}
