"""Deleting and restoring data, renaming records: each needs a reason for the audit trail."""

from __future__ import annotations

from django import forms


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason (mandatory, kept in the audit trail)",
    )


class RenameForm(ReasonForm):
    new_id = forms.CharField(max_length=32, label="New record id")

    field_order = ["new_id", "reason"]
