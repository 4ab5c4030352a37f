"""The Data Import Tool's two forms: the upload (file and REDCap's options) and the confirmation.

Between the two, the file stays in the person's session; the confirmation carries a signed token
naming its SHA-256, the options, the digest of the preview and the state it was computed from, so
the import applies exactly the file and options that were previewed, to the data as previewed
(registry.services.data_import checks the state).
"""

from __future__ import annotations

from django import forms
from django.core import signing

from registry.services.data_import import (
    DATE_FORMATS,
    ImportOptions,
    ImportPreview,
    file_sha256,
)

MAX_BYTES = 5 * 1024 * 1024
SESSION_KEY = "registry_data_import"
SIGNING_SALT = "registry.data_import"  # a namespace for signing, not a secret
TOKEN_MAX_AGE = 2 * 3600
NOT_UTF8 = (
    "The file is not UTF-8 text (byte {}); save it from Excel as 'CSV UTF-8 (Comma delimited)'."
)
DATE_FORMAT_CHOICES = [
    ("DMY", "DD-MM-YYYY or DD/MM/YYYY (day first)"),
    ("MDY", "MM-DD-YYYY or MM/DD/YYYY (month first)"),
    ("YMD", "YYYY-MM-DD (ISO 8601)"),
]
OVERWRITE_CHOICES = [
    ("normal", "No, blank values in the file are ignored"),
    ("overwrite", "Yes, blank values in the file erase stored values"),
]
EXPIRED = "This preview has expired or belongs to another upload: upload the file again."


class DataImportForm(forms.Form):
    csv_file = forms.FileField(label="CSV file (REDCap's flat format, as the export writes it)")
    date_format = forms.ChoiceField(
        choices=DATE_FORMAT_CHOICES, label="How are dates written in the file?"
    )
    overwrite = forms.ChoiceField(
        choices=OVERWRITE_CHOICES,
        initial="normal",
        label="Allow blank values to overwrite existing values?",
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        upload = cleaned.get("csv_file")
        if not upload:
            return cleaned
        if upload.size > MAX_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB; split it into parts.")
        raw = upload.read()
        try:
            cleaned["csv_text"] = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(NOT_UTF8.format(exc.start + 1)) from None
        if not cleaned["csv_text"].strip():
            raise forms.ValidationError("The file is empty.")
        return cleaned

    def import_options(self) -> ImportOptions:
        return ImportOptions(
            date_format=self.cleaned_data["date_format"],
            overwrite=self.cleaned_data["overwrite"] == "overwrite",
        )


def keep_upload(session, csv_text: str, name: str) -> None:
    """The one file a person has in preview: a new upload replaces it."""
    session[SESSION_KEY] = {"sha256": file_sha256(csv_text), "csv": csv_text, "name": name[:200]}


def confirmation_token(user, preview: ImportPreview) -> str:
    return signing.dumps(
        {
            "user": user.pk,
            "sha256": preview.sha256,
            "date_format": preview.options.date_format,
            "overwrite": preview.options.overwrite,
            "digest": preview.digest,
            "state": preview.state,
            "changed_values": sum(len(r.changes) for r in preview.records),
        },
        salt=SIGNING_SALT,
    )


class ConfirmImportForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=2000)
    reason = forms.CharField(
        required=False,
        max_length=500,
        label="Reason (kept in the audit trail)",
        help_text="For example: corrected values from the pathology review. Optional.",
    )

    def __init__(self, *args, user, session, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.session = session

    def clean(self) -> dict:
        cleaned = super().clean()
        token = cleaned.get("token")
        if not token:
            raise forms.ValidationError(EXPIRED)
        try:
            payload = signing.loads(token, salt=SIGNING_SALT, max_age=TOKEN_MAX_AGE)
        except signing.BadSignature:
            raise forms.ValidationError(EXPIRED) from None
        kept = self.session.get(SESSION_KEY) or {}
        if (
            not isinstance(payload, dict)
            or payload.get("user") != self.user.pk
            or payload.get("date_format") not in DATE_FORMATS
            or not kept.get("csv")
            or kept.get("sha256") != payload.get("sha256")
            or file_sha256(kept["csv"]) != payload.get("sha256")
        ):
            raise forms.ValidationError(EXPIRED)
        cleaned["csv_text"] = kept["csv"]
        cleaned["file_name"] = kept.get("name", "")
        cleaned["digest"] = str(payload.get("digest", ""))
        cleaned["state"] = str(payload.get("state", ""))
        changed = payload.get("changed_values")
        cleaned["changed_values"] = changed if isinstance(changed, int) else 0
        cleaned["options"] = ImportOptions(
            date_format=payload["date_format"], overwrite=bool(payload.get("overwrite"))
        )
        return cleaned
