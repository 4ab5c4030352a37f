"""Authentication: Django's model backend, except that the demo password is refused in
production, so demo users left in a production database cannot log in with it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend


class RegistryBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if settings.PRODUCTION and password == settings.DEMO_PASSWORD:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def password_is_valid(user, password: str) -> bool:
    """The password check for electronic signatures, with the same production rule."""
    if settings.PRODUCTION and password == settings.DEMO_PASSWORD:
        return False
    return user.check_password(password)
