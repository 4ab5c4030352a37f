"""A data-quality rule written in REDCap logic: a record is flagged where the logic is TRUE."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from registry.dictionary import Dictionary
from registry.logic import LogicSyntaxError, field_references, parse


class RuleForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Rule name"))
    logic = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace"}),
        label=_("Logic (flag the record where this is TRUE)"),
        help_text=_("REDCap syntax, e.g. [tumour_size_mm] > 300"),
    )

    def __init__(self, *args, dictionary: Dictionary | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.dictionary = dictionary

    def clean_logic(self) -> str:
        logic = self.cleaned_data["logic"].strip()
        try:
            parse(logic)
        except LogicSyntaxError as exc:
            marker = logic[: exc.position] + " ⟶ " + logic[exc.position :]
            raise forms.ValidationError(
                _("%(message)s at position %(position)s: %(marker)s")
                % {"message": exc.message, "position": exc.position, "marker": marker}
            ) from None
        if self.dictionary is not None:
            unknown = [n for n in field_references(logic) if n not in self.dictionary]
            if unknown:
                raise forms.ValidationError(
                    _("Unknown field(s): %(names)s") % {"names": ", ".join(unknown)}
                )
        return logic
