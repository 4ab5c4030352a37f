"""Data-resolution queries: opening one on a field, answering, closing."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class OpenQueryForm(forms.Form):
    field = forms.ChoiceField(label=_("Field"))
    instance = forms.IntegerField(min_value=1, initial=1, label=_("Instance"))
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label=_("Question to the site")
    )

    def __init__(self, *args, field_choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = field_choices


class QueryMessageForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label=_("Message"), required=False
    )
