"""The person's own settings."""

from __future__ import annotations

from django import forms

from .models import User


class DateFormatForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["date_format"]
        labels = {"date_format": "How I type dates"}
