"""Filters of the record dashboard and of the audit log (GET forms)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class DashboardFilterForm(forms.Form):
    LOCK_CHOICES = [("", _("Any")), ("locked", _("Locked")), ("unlocked", _("Not locked"))]

    center = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label=_("Centre"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    lock = forms.ChoiceField(
        required=False,
        choices=LOCK_CHOICES,
        label=_("Lock status"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    q = forms.CharField(
        required=False,
        max_length=32,
        label=_("Record id"),
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )

    def __init__(self, *args, centers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["center"].choices = [("", _("All"))] + [(c.pk, c.code) for c in centers]


class AuditFilterForm(forms.Form):
    center = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("Centre"))
    user = forms.CharField(required=False, max_length=150, label=_("User (name)"))
    record = forms.CharField(required=False, max_length=32, label=_("Record id"))
    action = forms.CharField(
        required=False,
        max_length=40,
        label=_("Action"),
        widget=forms.TextInput(attrs={"list": "audit-actions"}),
    )
    date_from = forms.DateField(
        required=False, label=_("From (dd/mm/yyyy)"), input_formats=["%d/%m/%Y", "%Y-%m-%d"]
    )
    date_to = forms.DateField(
        required=False, label=_("To (dd/mm/yyyy)"), input_formats=["%d/%m/%Y", "%Y-%m-%d"]
    )

    def __init__(self, *args, centers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["center"].choices = [("", _("All"))] + [(c.pk, c.code) for c in centers]
