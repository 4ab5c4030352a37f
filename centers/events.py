"""Account events for the audit trail. The registry writes the audit trail and centers cannot
import it, so centers' services send this signal inside their transaction and
registry.auth_audit records it (as it does for log-ins and lockouts).

Arguments: ``action`` (the audit action), ``user`` (whose account), ``by`` (who acted; None for
an anonymous request such as a password reset), ``details`` (a dict, optional)."""

from django.dispatch import Signal

account_event = Signal()
