"""Idle timeout and absolute session lifetime; a one-time password is changed first; the second
factor before any page."""

from __future__ import annotations

import functools
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils import translation

IDLE_KEY = "_last_seen"
STARTED_KEY = "_session_started"
REFRESH_SECONDS = 60


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            started = request.session.get(STARTED_KEY, now)
            last_seen = request.session.get(IDLE_KEY, now)
            idle = settings.SESSION_IDLE_TIMEOUT.total_seconds()
            absolute = settings.SESSION_ABSOLUTE_LIFETIME.total_seconds()
            if now - last_seen > idle or now - started > absolute:
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                return redirect(f"{resolve_url(settings.LOGIN_URL)}?expired=1")
            if STARTED_KEY not in request.session:
                request.session[STARTED_KEY] = started
            # Refreshing the idle clock at most once a minute spares a session write per request.
            if now - last_seen > REFRESH_SECONDS or IDLE_KEY not in request.session:
                request.session[IDLE_KEY] = now
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """A person whose password was set by someone else changes it before anything else: every
    page sends them to the password change page (log-out stays open; the API refuses their
    signatures itself, see centers.reauth)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and user.must_change_password
            and not request.path.startswith("/api/")
            and request.path not in {reverse("password_change"), reverse("logout")}
        ):
            return redirect("password_change")
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """After the password, the second factor: a person who has an authenticator, or whose role
    requires one (centers.two_factor.required_for), is sent to enter a code, or to set one up,
    before any page. Open meanwhile: log-out, the two-factor pages, the one-time password
    change (a new person chooses a password first) and the API (its token is the credential)."""

    OPEN = ("two_factor_verify", "two_factor_enrol", "logout", "password_change", "login")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith("/api/")
            and request.path not in self._open_paths()
            and not user.is_verified()
        ):
            target = self._second_step(request)
            if target is not None:
                return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    @functools.cache
    def _open_paths() -> frozenset[str]:
        return frozenset(reverse(name) for name in TwoFactorRequiredMiddleware.OPEN)

    @staticmethod
    def _second_step(request) -> str | None:
        from . import two_factor

        user = request.user
        # Whether a person without a second factor has one is kept for the session (the
        # enrolment page clears it), sparing a query per request.
        if not request.session.get(two_factor.NOT_NEEDED_SESSION):
            if two_factor.has_device(user):
                return "two_factor_verify"
        if two_factor.required_for(user):
            return "two_factor_enrol"
        if not request.session.get(two_factor.NOT_NEEDED_SESSION):  # a write only the first time
            request.session[two_factor.NOT_NEEDED_SESSION] = True
        return None


class PersonLanguageMiddleware:
    """The language a person chose on their profile wins over the browser's (LocaleMiddleware
    chose that one before the person was known); blank keeps the browser's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        chosen = getattr(user, "language", "") if user is not None else ""
        if chosen and user.is_authenticated:
            translation.activate(chosen)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
