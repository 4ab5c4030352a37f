"""Re-entering one's password while logged in (an electronic signature, a password change),
counted as a log-in attempt.

Every signature (web lock, bulk lock, per-form lock, API ``content=lock``) and the password
change page re-check the password here, and only here. A wrong password is a failed log-in for
django-axes (same username-based counter, limit and cool-off as the log-in page), and a
locked-out account is refused even with the right password, so no page is a side door for
guessing passwords. A password set by someone else signs nothing until the person changed it.
"""

from __future__ import annotations

import enum

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.dispatch import Signal
from django.http import HttpRequest

from .backends import password_is_valid
from .models import User

# The purpose travels with the failure, so the audit can tell a signature from a log-in.
SIGNATURE = "electronic signature"
PASSWORD_CHANGE = "password change"  # noqa: S105 - a label, not a password


# Sent when a data manager lifts someone's lockout (registry.auth_audit writes the audit event;
# centers cannot import the registry).
lockout_cleared = Signal()


class PasswordCheck(enum.Enum):  # the values are audit labels, not passwords
    OK = "ok"
    WRONG_PASSWORD = "wrong password"  # noqa: S105
    LOCKED_OUT = "locked out"
    MUST_CHANGE_PASSWORD = "must change password"  # noqa: S105
    WRONG_CODE = "wrong second-factor code"


def recheck_password(
    *, user: User, password: str, request: HttpRequest | None, purpose: str
) -> PasswordCheck:
    """Check a logged-in person's password under the log-in lockout; a failure counts.

    ``request`` is the HTTP request the password came with (axes records its address and user
    agent); in-process callers (the demo seed, tests) pass None and are counted under an
    "in-process" request, so no path checks a password uncounted.
    """
    request = request if request is not None else _in_process_request()
    credentials = {"username": user.get_username(), "purpose": purpose}
    if not AxesProxyHandler.is_allowed(request, credentials):
        _count_failure(request, credentials)  # as on the log-in page: a try while locked counts
        return PasswordCheck.LOCKED_OUT
    if not password_is_valid(user, password):
        locked_now = _count_failure(request, credentials)
        return PasswordCheck.LOCKED_OUT if locked_now else PasswordCheck.WRONG_PASSWORD
    if settings.AXES_RESET_ON_SUCCESS:  # as a successful log-in does
        AxesProxyHandler.reset_attempts(username=user.get_username())
    return PasswordCheck.OK


def check_signing_password(
    *, user: User, password: str, request: HttpRequest | None, code: str = ""
) -> PasswordCheck:
    """The password of an electronic signature, and a code from the second factor when the
    person has one (both components of the signature, as at log-in); a one-time password signs
    nothing. A wrong code counts toward the lockout as a wrong password does."""
    from . import two_factor

    if user.must_change_password:
        return PasswordCheck.MUST_CHANGE_PASSWORD
    check = recheck_password(user=user, password=password, request=request, purpose=SIGNATURE)
    if check is not PasswordCheck.OK or not two_factor.has_device(user):
        return check
    if two_factor.check_code(user=user, code=code, purpose=SIGNATURE) is not None:
        return PasswordCheck.OK
    request = request if request is not None else _in_process_request()
    credentials = {"username": user.get_username(), "purpose": SIGNATURE}
    locked_now = _count_failure(request, credentials)
    return PasswordCheck.LOCKED_OUT if locked_now else PasswordCheck.WRONG_CODE


def clear_lockout(*, username: str, by: User) -> int:
    """Lift a person's log-in lockout (the lockout page sends them to a data manager): their
    recorded failures are removed, and the clearing is audited with `by` as actor."""
    cleared = AxesProxyHandler.reset_attempts(username=username) or 0
    lockout_cleared.send(sender=__name__, username=username, by=by, attempts=cleared)
    return cleared


def _count_failure(request: HttpRequest, credentials: dict) -> bool:
    """Send Django's failed-log-in signal, which axes counts; True if the account is locked."""
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    locked = bool(getattr(request, "axes_locked_out", False))
    # axes' middleware would swap the page for its log-in lockout page; the sign page, the
    # password change page and the API answer the lockout themselves.
    request.axes_locked_out = False
    return locked


def _in_process_request() -> HttpRequest:
    request = HttpRequest()
    request.method = "POST"
    request.path = request.path_info = "(in-process)"
    request.META = {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": "in-process"}
    return request
