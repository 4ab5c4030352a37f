"""Two-factor log-in (django-otp): an authenticator app (TOTP) and single-use recovery codes.

Who must use it: the roles in settings.TWO_FACTOR_REQUIRED_ROLES (by default the PI, data
managers, monitors and site investigators: they see every centre or sign records) when
settings.TWO_FACTOR_ENFORCED (always in production; the demo leaves it off). Anyone who set up a
device, a coordinator too, is asked for a code at every log-in, enforced or not. The API is not
concerned: a token is its own credential.

A person's devices: one confirmed TOTPDevice ("authenticator") and one StaticDevice
("recovery") holding the unused recovery codes (django-otp deletes a code when it is used).
Every change and every code checked is audited (centers.events).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import django_otp
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from .access import access_for
from .audit_context import set_actor
from .events import account_event
from .models import User

AUTHENTICATOR = "authenticator"
RECOVERY = "recovery"
PENDING_KEY_SESSION = "_two_factor_pending_key"
NOT_NEEDED_SESSION = "_two_factor_not_needed"


class TwoFactorError(Exception):
    """A second-factor action refused (wrong code, not allowed); the message is for the person."""


def required_for(user: User) -> bool:
    """Must this person set up and use a second factor?"""
    if not settings.TWO_FACTOR_ENFORCED:
        return False
    return bool(access_for(user).roles & set(settings.TWO_FACTOR_REQUIRED_ROLES))


def has_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY).count()


# --- enrolment --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingAuthenticator:
    """A secret offered for enrolment, kept in the session until the person confirms a code."""

    key_hex: str
    username: str

    @property
    def key_base32(self) -> str:
        return base64.b32encode(binascii.unhexlify(self.key_hex)).decode()

    @property
    def key_grouped(self) -> str:
        key = self.key_base32
        return " ".join(key[i : i + 4] for i in range(0, len(key), 4))

    @property
    def uri(self) -> str:
        issuer = settings.OTP_TOTP_ISSUER
        label = quote(f"{issuer}:{self.username}")
        query = urlencode({"secret": self.key_base32, "issuer": issuer, "digits": 6})
        return f"otpauth://totp/{label}?{query}"

    def qr_svg(self) -> str:
        import qrcode
        import qrcode.image.svg

        return qrcode.make(self.uri, image_factory=qrcode.image.svg.SvgPathImage).to_string(
            encoding="unicode"
        )

    def matching_step(self, code: str) -> int | None:
        """The time step whose code this is (now, or one step either side), or None."""
        totp = TOTP(binascii.unhexlify(self.key_hex), step=30, t0=0, digits=6)
        for offset in (-1, 0, 1):  # the same tolerance as a confirmed device
            totp.drift = offset
            if code.isdigit() and totp.token() == int(code):
                return totp.t()
        return None


def pending_authenticator(request: HttpRequest) -> PendingAuthenticator:
    """The secret offered on the enrolment page: one per session until confirmed, so reloading
    the page does not invalidate a QR code already scanned."""
    key = request.session.get(PENDING_KEY_SESSION)
    if not key:
        key = random_hex(20)
        request.session[PENDING_KEY_SESSION] = key
    return PendingAuthenticator(key_hex=key, username=request.user.get_username())


def enrol_authenticator(*, request: HttpRequest, code: str) -> list[str]:
    """Confirm the pending secret with a code from the app: the person's authenticator is
    replaced, new recovery codes made (returned, shown once), the session verified; audited."""
    user = request.user
    pending = pending_authenticator(request)
    step = pending.matching_step(code.strip())
    if step is None:
        raise TwoFactorError(
            gettext("The code does not match. Check the time on your phone and retry.")
        )
    with transaction.atomic():
        set_actor(user, reason="two-factor log-in set up")
        TOTPDevice.objects.filter(user=user).delete()
        # last_t: the code used here cannot be used again (django-otp refuses steps <= last_t).
        device = TOTPDevice.objects.create(
            user=user, name=AUTHENTICATOR, key=pending.key_hex, confirmed=True, last_t=step
        )
        codes = _new_recovery_codes(user)
        account_event.send(__name__, action="two_factor_enrolled", user=user, by=user)
    del request.session[PENDING_KEY_SESSION]
    request.session.pop(NOT_NEEDED_SESSION, None)
    django_otp.login(request, device)
    return codes


def renew_recovery_codes(*, user: User) -> list[str]:
    """New recovery codes; the old ones stop working. Audited."""
    with transaction.atomic():
        set_actor(user, reason="recovery codes renewed")
        codes = _new_recovery_codes(user)
        account_event.send(__name__, action="recovery_codes_renewed", user=user, by=user)
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.TWO_FACTOR_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def reset_two_factor(*, person: User, by: User) -> int:
    """A data manager removes a person's authenticator and recovery codes (a lost phone): the
    person sets up a new one at the next log-in. Audited with the data manager as actor."""
    if not (by.is_superuser or access_for(by).is_data_manager):
        raise TwoFactorError(gettext("Only a data manager can reset a second factor."))
    with transaction.atomic():
        set_actor(by, reason="second factor reset")
        removed = TOTPDevice.objects.filter(user=person).delete()[0]
        StaticDevice.objects.filter(user=person).delete()
        account_event.send(
            __name__,
            action="two_factor_reset",
            user=person,
            by=by,
            details={"had_authenticator": bool(removed)},
        )
    return removed


# --- checking a code --------------------------------------------------------------------------


def check_code(*, user: User, code: str, purpose: str) -> Device | None:
    """A code from the authenticator app or an unused recovery code (which is then spent); the
    device that accepted it, or None. django-otp throttles each device after failures; every
    outcome is audited."""
    code = "".join(code.split())
    device = None
    if code:
        for candidate in [
            *TOTPDevice.objects.filter(user=user, confirmed=True),
            *StaticDevice.objects.filter(user=user, confirmed=True),
        ]:
            device = django_otp.verify_token(user, candidate.persistent_id, code)
            if device is not None:
                break
    if device is None:
        account_event.send(
            __name__, action="two_factor_failed", user=user, by=user, details={"during": purpose}
        )
        return None
    action = "recovery_code_used" if isinstance(device, StaticDevice) else "two_factor_verified"
    details = {"during": purpose}
    if isinstance(device, StaticDevice):
        details["codes_left"] = codes_left(user)
    account_event.send(__name__, action=action, user=user, by=user, details=details)
    return device


def verify_login(*, request: HttpRequest, code: str) -> bool:
    """The second step of a log-in: a good code marks the session verified."""
    device = check_code(user=request.user, code=code, purpose="log-in")
    if device is None:
        return False
    request.session.pop(NOT_NEEDED_SESSION, None)
    django_otp.login(request, device)
    return True
