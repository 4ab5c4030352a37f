"""Uploading a new REDCap data dictionary (CSV).

The file is kept exactly as uploaded (byte-order mark and line endings included), so the stored
version and its CSV download are byte for byte what the data manager sent. When the upload must
be confirmed, the page carries the bytes in base64: a browser would rewrite the line endings of
a plain text field.
"""

from __future__ import annotations

import base64
import binascii

from django import forms
from django.utils.translation import gettext_lazy as _

MAX_BYTES = 5 * 1024 * 1024
NOT_UTF8 = _(
    "The file is not UTF-8 text (byte %(byte)s); save it from Excel as "
    "'CSV UTF-8 (Comma delimited)'."
)


def carried_upload(csv_text: str) -> str:
    """The value of the hidden field that carries an upload to its confirmation."""
    return base64.b64encode(csv_text.encode("utf-8")).decode("ascii")


class DictionaryUploadForm(forms.Form):
    csv_file = forms.FileField(required=False, label=_("REDCap data dictionary (CSV)"))
    csv_base64 = forms.CharField(required=False, widget=forms.HiddenInput)
    note = forms.CharField(required=False, max_length=500, label=_("Note (what changed and why)"))
    confirm_changes = forms.BooleanField(
        required=False,
        label=_("I confirm these changes to collected data (they will be audited)"),
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        upload = cleaned.get("csv_file")
        raw = b""
        if upload:
            if upload.size > MAX_BYTES:
                raise forms.ValidationError(_("The file is larger than 5 MB."))
            raw = upload.read()
        elif cleaned.get("csv_base64"):
            try:
                raw = base64.b64decode(cleaned["csv_base64"], validate=True)
            except (binascii.Error, ValueError):
                raise forms.ValidationError(_("Choose a CSV file to upload.")) from None
        try:
            cleaned["csv_text"] = raw.decode(
                "utf-8"
            )  # a byte-order mark stays: the parser skips it
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(NOT_UTF8 % {"byte": exc.start + 1}) from None
        if not cleaned["csv_text"]:
            raise forms.ValidationError(_("Choose a CSV file to upload."))
        return cleaned


class DictionaryTranslationForm(forms.Form):
    """A translation file for the current dictionary version (registry.dictionary.translations)."""

    language = forms.ChoiceField(label=_("Language"))
    csv_file = forms.FileField(label=_("Translation file (CSV)"))
    note = forms.CharField(required=False, max_length=500, label=_("Note"))

    def __init__(self, *args, languages: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = languages

    def clean_csv_file(self) -> str:
        upload = self.cleaned_data["csv_file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(NOT_UTF8 % {"byte": exc.start + 1}) from None
