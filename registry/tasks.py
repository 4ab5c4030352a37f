import logging

from celery import shared_task
from django.db import transaction

from . import integrity, notify, outbox
from .audit import record_event

logger = logging.getLogger(__name__)


@shared_task(name="registry.sweep_lock_outbox", ignore_result=True)
def sweep_lock_outbox() -> int:
    return outbox.send_pending()


@shared_task(name="registry.verify_integrity", ignore_result=True)
def verify_integrity() -> bool:
    """Nightly (celery beat): re-walk the audit chain and re-check every dictionary version and
    signature, as `manage.py verify_audit` does. The result is itself an audit event; a break is
    logged at CRITICAL so that the server's log monitoring raises it and e-mailed to the data
    managers (registry.notify), and the chain head is
    logged (and kept in the event) to be kept as an anchor outside the database."""
    report = integrity.check_all()
    with transaction.atomic():
        record_event("integrity_check", details=report)
        if not report["ok"]:
            notify.integrity_failed(report)
    if not report["ok"]:
        logger.critical("registry integrity check failed: %s", report["problem"])
    else:
        logger.info("registry integrity check passed; audit chain head %s", report["chain_head"])
    return report["ok"]


# The export task lives with the exports; importing it here registers it with the worker.
from .exports import tasks as export_tasks  # noqa: E402, F401
