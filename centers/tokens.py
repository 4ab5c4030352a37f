"""REDCap-style API tokens: 32 hex characters, shown once, stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from .models import ApiToken, User

# Sent inside the issuing transaction; registry.auth_audit writes the audit event (centers
# cannot import the registry).
api_token_issued = Signal()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.strip().upper().encode()).hexdigest()


def issue_api_token(*, user: User) -> str:
    """Revoke the user's previous token and return a new one (REDCap: one token per user)."""
    token = secrets.token_hex(16).upper()
    with transaction.atomic():
        user.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        ApiToken.objects.create(user=user, token_sha256=token_digest(token), last_four=token[-4:])
        api_token_issued.send(sender=ApiToken, user=user, last_four=token[-4:])
    return token


def user_for_token(token: str) -> User | None:
    if not token or len(token.strip()) != 32:
        return None
    found = (
        ApiToken.objects.select_related("user")
        .filter(token_sha256=token_digest(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    return found.user if found else None
