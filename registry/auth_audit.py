"""Log-ins, log-outs and failed log-ins go to the audit trail (Django's auth signals)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed


def _logged_in(sender, request, user, **kwargs):
    from .audit import record_event

    record_event("login", user=user)


def _logged_out(sender, request, user, **kwargs):
    from .audit import record_event

    if user is not None:
        record_event("logout", user=user)


def _login_failed(sender, credentials, request=None, **kwargs):
    from .audit import record_event

    record_event("login_failed", details={"username": str(credentials.get("username", ""))[:150]})


def connect() -> None:
    user_logged_in.connect(_logged_in, dispatch_uid="registry_audit_login")
    user_logged_out.connect(_logged_out, dispatch_uid="registry_audit_logout")
    user_login_failed.connect(_login_failed, dispatch_uid="registry_audit_login_failed")
