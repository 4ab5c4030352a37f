"""A POST to an instrument checked without building its form.

InstrumentForm checks a submission in two steps: each Django field's clean() (a choice must be one
of the field's codes, the version a whole number, the status one of three), then
registry.entry.clean_instrument. A save that succeeds renders nothing, so building the form (a
copy of every field, bound fields, widgets) is wasted there. InstrumentSubmission runs the same
two steps on the built fields themselves (registry.forms.instrument_fields.built_fields: clean()
reads them, never changes them); when it finds anything wrong, the view builds the whole form,
which finds the same and shows it. Read-only forms and @READONLY fields (cleaned from their
initial values when disabled) always take the whole form.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from django import forms
from django.core.exceptions import ValidationError

from registry.dictionary import Dictionary
from registry.entry import CleanedInstrument, clean_instrument, entry_fields

from .instrument import STATUS_FIELD, meta_fields, submitted_values
from .instrument_fields import built_fields


@cache
def _meta() -> dict[str, forms.Field]:
    return meta_fields()  # cleaning does not read labels, so one set serves every language


class InstrumentSubmission:
    def __init__(
        self,
        data: Mapping,
        *,
        dictionary: Dictionary,
        instrument: str,
        context: Mapping,
        missing_codes: list[dict],
        stored: Mapping | None = None,
        readonly: bool = False,
        date_order: str = "dmy",
        **_form_only,
    ) -> None:
        self.data = data
        self.dictionary = dictionary
        self.instrument = instrument
        self.context = dict(context)
        self.code_values = [c["code"] for c in missing_codes]
        self.stored = stored or {}
        self.readonly = readonly
        self.date_order = date_order
        self.fields_def = entry_fields(dictionary, instrument)
        self.cleaned_data: dict = {}
        self.cleaned_instrument: CleanedInstrument | None = None
        self._valid: bool | None = None

    def is_valid(self) -> bool:
        """True only when InstrumentForm would also be valid with the same cleaned values."""
        if self._valid is None:
            self._valid = self._check()
        return self._valid

    def _check(self) -> bool:
        if self.readonly or any(f.readonly and f.field_type != "calc" for f in self.fields_def):
            return False
        fields = built_fields(
            self.dictionary, self.instrument, readonly=False, date_order=self.date_order
        )
        try:
            for name, field in fields.items():
                field.clean(field.widget.value_from_datadict(self.data, {}, name))
            meta = {
                name: field.clean(field.widget.value_from_datadict(self.data, {}, name))
                for name, field in _meta().items()
            }
        except ValidationError:
            return False
        result = clean_instrument(
            dictionary=self.dictionary,
            instrument=self.instrument,
            submitted=submitted_values(self.fields_def, self.data, self.stored),
            context=self.context,
            status=meta[STATUS_FIELD],
            missing_codes=self.code_values,
            input_date_order=self.date_order,
        )
        if result.errors:
            return False
        self.cleaned_data, self.cleaned_instrument = meta, result
        return True
