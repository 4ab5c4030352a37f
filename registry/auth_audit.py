"""Log-ins, log-outs, failed log-ins and lockouts go to the audit trail (Django's auth signals
and django-axes' lockout signal). Failed signature passwords are counted as failed log-ins
(centers.reauth) but audited by the signing service, with the records they were for."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from centers.events import account_event
from centers.reauth import SIGNATURE, lockout_cleared
from centers.tokens import api_token_issued


def _logged_in(sender, request, user, **kwargs):
    from .audit import record_event

    record_event("login", user=user)


def _logged_out(sender, request, user, **kwargs):
    from .audit import record_event

    if user is not None:
        record_event("logout", user=user)


def _login_failed(sender, credentials, request=None, **kwargs):
    from .audit import record_event

    if credentials.get("purpose") == SIGNATURE:
        return
    details = {"username": str(credentials.get("username", ""))[:150]}
    if credentials.get("purpose"):  # a password re-entered while logged in (centers.reauth)
        details["purpose"] = str(credentials["purpose"])
    record_event("login_failed", details=details)


def _locked_out(sender, request, username, ip_address, **kwargs):
    """Each refusal by the lockout (log-in page or signature) is one event."""
    from .audit import record_event

    user = getattr(request, "user", None)
    credentials = getattr(request, "axes_credentials", None) or {}
    record_event(
        "account_locked_out",
        user=user if user is not None and user.is_authenticated else None,
        details={
            "username": str(username or "")[:150],
            "ip_address": str(ip_address or ""),
            "during": str(credentials.get("purpose", "log-in")),
            "failures": getattr(request, "axes_failures_since_start", None),
        },
    )


def _lockout_cleared(sender, username, by, attempts, **kwargs):
    from .audit import record_event

    record_event(
        "lockout_cleared",
        user=by,
        details={"username": str(username)[:150], "failures_cleared": attempts},
    )


def _account_event(sender, action, user, by=None, details=None, **kwargs):
    """Second factor, password change and reset (centers.events): the person whose account it
    is goes in the details; the actor is who acted (None for an anonymous reset request)."""
    from .audit import record_event

    details = dict(details or {})
    if user is not None:
        details.setdefault("username", user.get_username())
    record_event(action, user=by, details=details)


def _api_token_issued(sender, user, last_four, **kwargs):
    from .audit import record_event

    record_event("api_token_issue", user=user, details={"last_four": last_four})


def connect() -> None:
    account_event.connect(_account_event, dispatch_uid="registry_audit_account_event")
    user_logged_in.connect(_logged_in, dispatch_uid="registry_audit_login")
    user_logged_out.connect(_logged_out, dispatch_uid="registry_audit_logout")
    user_login_failed.connect(_login_failed, dispatch_uid="registry_audit_login_failed")
    user_locked_out.connect(_locked_out, dispatch_uid="registry_audit_locked_out")
    lockout_cleared.connect(_lockout_cleared, dispatch_uid="registry_audit_lockout_cleared")
    api_token_issued.connect(_api_token_issued, dispatch_uid="registry_audit_api_token")
