"""Resetting a forgotten password by an e-mailed link (Django's views and token), rate-limited
per client address and per e-mail address, answering the same whether or not an account has
that address, and audited. Choosing a password this way ends a one-time password."""

from __future__ import annotations

import hashlib

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.urls import reverse_lazy

from .audit_context import set_actor
from .events import account_event
from .mail import email_after_commit
from .models import User

WINDOW_SECONDS = 3600


def over_limit(request: HttpRequest, email: str) -> bool:
    """Count one request for this address and this e-mail (an hour's window each); True past
    PASSWORD_RESET_RATE_PER_HOUR for either. Counted in Django's cache (Redis in production,
    shared by all processes)."""
    email_key = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    keys = [
        f"password-reset:ip:{request.META.get('REMOTE_ADDR', '')}",
        f"password-reset:email:{email_key}",
    ]
    over = False
    for key in keys:
        cache.add(key, 0, WINDOW_SECONDS)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, WINDOW_SECONDS)
            count = 1
        over |= count > settings.PASSWORD_RESET_RATE_PER_HOUR
    return over


class ResetRequestForm(auth_forms.PasswordResetForm):
    """Django's form, with the e-mail sent by a Celery task after commit."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ) -> None:
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        email_after_commit(subject=subject, body=body, to=to_email)


class RequestResetView(auth_views.PasswordResetView):
    form_class = ResetRequestForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: ResetRequestForm) -> HttpResponse:
        email = form.cleaned_data["email"]
        if over_limit(self.request, email):
            account_event.send(__name__, action="password_reset_rate_limited", user=None, by=None)
            return render(
                self.request,
                "registration/password_reset_form.html",
                {"form": form, "rate_limited": True},
                status=429,
            )
        with transaction.atomic():
            users = list(form.get_users(email))
            for user in users:
                account_event.send(__name__, action="password_reset_requested", user=user, by=None)
            if not users:
                account_event.send(
                    __name__,
                    action="password_reset_requested",
                    user=None,
                    by=None,
                    details={"account_found": False},
                )
            return super().form_valid(form)


class ResetPasswordForm(auth_forms.SetPasswordForm):
    """The new password (twice, Django's validators); it is the person's own: not one-time."""

    def save(self, commit: bool = True) -> User:
        self.user.must_change_password = False
        return super().save(commit=commit)


class ConfirmResetView(auth_views.PasswordResetConfirmView):
    form_class = ResetPasswordForm
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form: ResetPasswordForm) -> HttpResponse:
        user = form.user
        with transaction.atomic():
            set_actor(user, reason="password reset by e-mail link")
            response = super().form_valid(form)
            # Proving the mailbox is proof enough to lift a log-in lockout.
            cleared = AxesProxyHandler.reset_attempts(username=user.get_username()) or 0
            account_event.send(
                __name__,
                action="password_reset_done",
                user=user,
                by=user,
                details={"lockout_failures_cleared": cleared},
            )
        return response
