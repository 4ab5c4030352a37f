"""Idle timeout and absolute session lifetime; a one-time password is changed first."""

from __future__ import annotations

import time

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
