"""Data-resolution queries: opening one on a field, answering, closing."""

from __future__ import annotations

from django import forms


class OpenQueryForm(forms.Form):
    field = forms.ChoiceField(label="Field")
    instance = forms.IntegerField(min_value=1, initial=1, label="Instance")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Question to the site")

    def __init__(self, *args, field_choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = field_choices


class QueryMessageForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label="Message", required=False
    )
