"""Uploading a new REDCap data dictionary (CSV)."""

from __future__ import annotations

from django import forms

MAX_BYTES = 5 * 1024 * 1024


class DictionaryUploadForm(forms.Form):
    csv_file = forms.FileField(required=False, label="REDCap data dictionary (CSV)")
    csv_text = forms.CharField(required=False, widget=forms.HiddenInput)
    note = forms.CharField(required=False, max_length=500, label="Note (what changed and why)")
    confirm_changes = forms.BooleanField(
        required=False,
        label="I confirm these changes to collected data (they will be audited)",
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        upload = cleaned.get("csv_file")
        if upload:
            if upload.size > MAX_BYTES:
                raise forms.ValidationError("The file is larger than 5 MB.")
            raw = upload.read()
            try:
                cleaned["csv_text"] = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                cleaned["csv_text"] = raw.decode("cp1252", errors="replace")
        if not cleaned.get("csv_text"):
            raise forms.ValidationError("Choose a CSV file to upload.")
        return cleaned
