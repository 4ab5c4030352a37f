"""The instrument (CRF) form, built from the data dictionary at request time.

Rendering only decides how fields look; the values are checked by registry.entry.clean_instrument
(the same rules as every other write path), whose per-field errors are attached beside the fields.
Dates are typed and shown day first (dd/mm/yyyy) and stored ISO.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout
from django import forms
from django.utils.translation import gettext

from registry.dictionary import Dictionary, FieldDef
from registry.dictionary_text import dictionary_plain_text, render_dictionary_text
from registry.entry import CleanedInstrument, clean_instrument, entry_fields
from registry.models import FormStatus

from .instrument_fields import display_value, form_fields, missing_code
from .snippet import Snippet

STATUS_FIELD = "__status"
VERSION_FIELD = "__version"
REASON_FIELD = "__reason"
MISSING_SUFFIX = "__missing"


def meta_fields() -> dict[str, forms.Field]:
    """The form's own fields beside the instrument's: status, the version the person started
    from, and the reason for a change after Complete."""
    return {
        STATUS_FIELD: forms.TypedChoiceField(
            choices=FormStatus.choices,
            coerce=int,
            label=gettext("Form status"),
            initial=0,
        ),
        VERSION_FIELD: forms.IntegerField(widget=forms.HiddenInput, initial=0, min_value=0),
        REASON_FIELD: forms.CharField(
            required=False,
            label=gettext("Reason for change"),
            help_text=gettext("This form has been marked Complete before: say why you change it."),
            widget=forms.Textarea(attrs={"rows": 2}),
        ),
    }


def submitted_values(fields: list[FieldDef], data: Mapping, stored: Mapping) -> dict:
    """The raw values, a chosen missing-data code replacing the field's own input."""
    values: dict = {}
    for f in fields:
        if f.readonly and f.field_type != "calc":
            values[f.name] = stored.get(f.name, [] if f.is_checkbox else "")
            continue
        code = data.get(f.name + MISSING_SUFFIX, "")
        if f.is_checkbox:
            values[f.name] = [code] if code else data.getlist(f.name)
        else:
            values[f.name] = code or data.get(f.name, "")
    return values


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
        tools: Callable[[], Mapping[str, dict]] | None = None,
        date_order: str = "dmy",
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
        self._tools = tools
        self.date_order = date_order
        self.missing_initial: dict[str, str] = {}
        stored = stored or {}
        self.stored = stored
        self.fields.update(
            form_fields(dictionary, instrument, readonly=readonly, date_order=date_order)
        )
        for f in self.fields_def:
            if f.readonly and f.field_type != "calc":  # @READONLY: shown, never taken from input
                self.fields[f.name].disabled = True
            value = stored.get(f.name, "")
            code = missing_code(f, value, self.code_values)
            if code:
                self.missing_initial[f.name] = code
            else:
                self.initial[f.name] = display_value(f, value, date_order)
        self.fields.update(meta_fields())
        if readonly:
            for bound in self.fields.values():
                bound.disabled = True

    @cached_property
    def helper(self) -> FormHelper:
        """Built only when the form is rendered: a successful save never needs it."""
        helper = FormHelper()
        helper.form_tag = False
        helper.disable_csrf = True
        helper.layout = self._layout()
        return helper

    @cached_property
    def tools(self) -> Mapping[str, dict]:
        return self._tools() if self._tools else {}

    def missing_value(self, name: str) -> str:
        if self.is_bound:
            return self.data.get(name + MISSING_SUFFIX, "")
        return self.missing_initial.get(name, "")

    def _field_tools(self, f: FieldDef) -> dict:
        """The context of registry/form/_field_tools.html: Today on date fields, the missing-
        data codes, and the view's links (history, queries) in one menu."""
        locked = self.readonly or f.readonly
        has_codes = f.field_type != "calc" and not f.nomissing and bool(self.missing_codes)
        chosen = self.missing_value(f.name) if has_codes else ""
        labels = {c["code"]: c.get("label") or c["code"] for c in self.missing_codes}
        return {
            "name": f.name,
            "label": dictionary_plain_text(f.label) or f.name,
            "today": f.is_date and not locked,
            "codes": self.missing_codes if has_codes else [],
            "chosen": chosen,
            "chosen_label": f"{chosen} · {labels[chosen]}" if chosen in labels else chosen,
            "locked": locked,
            **self.tools.get(f.name, {}),
        }

    def _layout(self) -> Layout:
        items = []
        for f in self.dictionary.fields_of(self.instrument):
            if f.name == self.dictionary.record_id_field.name:
                continue
            if f.section_header:
                items.append(
                    Snippet(
                        "registry/form/_section_header.html",
                        text=render_dictionary_text(f.section_header),
                    )
                )
            attrs = {
                "css_class": "registry-field mb-3" + (" d-none" if f.hidden else ""),
                "css_id": f"field-{f.name}",
                "data_field": f.name,
                "data_type": f.field_type,
                "data_label": dictionary_plain_text(f.label) or f.name,
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
                        Snippet(
                            "registry/form/_descriptive.html", text=render_dictionary_text(f.label)
                        ),
                        **attrs,
                    )
                )
                continue
            if f.field_type == "file":
                items.append(
                    Div(
                        Snippet(
                            "registry/form/_file_field.html",
                            text=render_dictionary_text(f.label or f.name),
                        ),
                        **attrs,
                    )
                )
                continue
            if self.missing_value(f.name):
                attrs["css_class"] += " registry-has-code"
            tools = Snippet("registry/form/_field_tools.html", **self._field_tools(f))
            items.append(Div(Field(f.name), tools, **attrs))
        return Layout(*items)

    def submitted(self) -> dict:
        return submitted_values(self.fields_def, self.data, self.stored)

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
            input_date_order=self.date_order,
        )
        self.cleaned_instrument = result
        for name, message in result.errors.items():
            self.add_error(name if name in self.fields else None, message)
        return cleaned

    @property
    def warnings(self) -> dict[str, str]:
        return self.cleaned_instrument.warnings if self.cleaned_instrument else {}
