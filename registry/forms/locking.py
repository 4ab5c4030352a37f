"""Signing (lock), unlocking and acknowledging data-quality findings."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from centers.two_factor import has_device
from registry.services.locking import SIGNATURE_MEANINGS

MEANING_CHOICES = [(m, _(m)) for m in SIGNATURE_MEANINGS]  # the English text is stored


class SecondFactorMixin:
    """A signer who set up two-factor log-in also gives a code (authenticator or recovery);
    for anyone else the field is not there."""

    def add_code_field(self, signer) -> None:
        if signer is not None and has_device(signer):
            self.fields["code"] = forms.CharField(
                max_length=20,
                label=_("Code from your authenticator app (or a recovery code)"),
                widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
            )


class SignatureForm(SecondFactorMixin, forms.Form):
    """An electronic signature: the signer re-enters their password (and a second-factor code
    if they have one) and chooses a meaning."""

    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        label=_("Your password (electronic signature)"),
    )
    meaning = forms.ChoiceField(
        choices=MEANING_CHOICES,
        widget=forms.RadioSelect,
        label=_("Meaning of your signature"),
        initial=SIGNATURE_MEANINGS[0],
    )

    def __init__(self, *args, signer=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.add_code_field(signer)


class BulkLockForm(SignatureForm):
    records = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, label=_("Records to lock")
    )

    def __init__(self, *args, record_ids: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["records"].choices = [(r, r) for r in record_ids]


class FormLockForm(SecondFactorMixin, forms.Form):
    """Locking one form instance (REDCap's per-form lock): the password (and second-factor
    code, if the person has one) confirms who locks."""

    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        label=_("Your password"),
    )

    def __init__(self, *args, signer=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.add_code_field(signer)


class UnlockForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Reason for unlocking"),
        help_text=_("Mandatory; kept in the audit trail with the voided signature."),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give a reason for unlocking."))
        return reason


class AcknowledgeForm(forms.Form):
    rule_key = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), label=_("Why is this finding correct as it is?")
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give a reason."))
        return reason
