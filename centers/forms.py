"""The person's own settings and password, and the admin's one-time password form."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AdminPasswordChangeForm, PasswordChangeForm
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import User
from .reauth import PASSWORD_CHANGE, PasswordCheck, recheck_password


class DateFormatForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["date_format"]
        labels = {"date_format": _("How I type dates")}


class LanguageForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["language"]
        labels = {"language": _("Language of the pages and forms")}
        help_texts = {"language": ""}


class NotificationsForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["email_notifications"]
        widgets = {"email_notifications": forms.RadioSelect}


class OneTimePasswordForm(AdminPasswordChangeForm):
    """A password set for a person (in the admin, without their old password) is one-time:
    they must change it at their next log-in, and sign nothing until then."""

    def save(self, commit: bool = True) -> User:
        self.user.must_change_password = self.cleaned_data.get("set_usable_password", True)
        return super().save(commit=commit)


class OwnPasswordChangeForm(PasswordChangeForm):
    """The person changes their own password (the old one, the new one twice, the validators);
    this ends a one-time password. A wrong old password counts toward the log-in lockout."""

    def __init__(self, user: User, *args, request: HttpRequest | None = None, **kwargs) -> None:
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self) -> str:
        old_password = self.cleaned_data["old_password"]
        check = recheck_password(
            user=self.user, password=old_password, request=self.request, purpose=PASSWORD_CHANGE
        )
        if check is PasswordCheck.LOCKED_OUT:
            minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
            raise forms.ValidationError(
                gettext(
                    "Your account is locked after too many wrong passwords; try again in "
                    "%(minutes)s minutes or ask a data manager."
                )
                % {"minutes": minutes},
                code="locked_out",
            )
        if check is not PasswordCheck.OK:
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password

    def clean(self) -> dict:
        cleaned = super().clean()
        new_password = cleaned.get("new_password1")
        if new_password and "old_password" in cleaned and self.user.check_password(new_password):
            self.add_error(
                "new_password1", gettext("Choose a password different from the current one.")
            )
        return cleaned

    def save(self, commit: bool = True) -> User:
        self.user.must_change_password = False
        return super().save(commit=commit)


class SecondFactorCodeForm(forms.Form):
    code = forms.CharField(
        max_length=20,
        label=_("Code from your authenticator app, or a recovery code"),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )
