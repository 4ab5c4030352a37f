"""Filters of the record dashboard and of the audit log (GET forms)."""

from __future__ import annotations

from django import forms


class DashboardFilterForm(forms.Form):
    LOCK_CHOICES = [("", "Any"), ("locked", "Locked"), ("unlocked", "Not locked")]

    center = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Centre",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    lock = forms.ChoiceField(
        required=False,
        choices=LOCK_CHOICES,
        label="Lock status",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    q = forms.CharField(
        required=False,
        max_length=32,
        label="Record id",
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )

    def __init__(self, *args, centers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["center"].choices = [("", "All")] + [(c.pk, c.code) for c in centers]


class AuditFilterForm(forms.Form):
    center = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Centre")
    user = forms.CharField(required=False, max_length=150, label="User (name)")
    record = forms.CharField(required=False, max_length=32, label="Record id")
    action = forms.CharField(
        required=False,
        max_length=40,
        label="Action",
        widget=forms.TextInput(attrs={"list": "audit-actions"}),
    )
    date_from = forms.DateField(
        required=False, label="From (dd/mm/yyyy)", input_formats=["%d/%m/%Y", "%Y-%m-%d"]
    )
    date_to = forms.DateField(
        required=False, label="To (dd/mm/yyyy)", input_formats=["%d/%m/%Y", "%Y-%m-%d"]
    )

    def __init__(self, *args, centers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["center"].choices = [("", "All")] + [(c.pk, c.code) for c in centers]
