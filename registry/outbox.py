"""Announcing locks to whoever computes statistics, without importing them: an outbox row in
the locking transaction, a Celery task sent by name after commit, a periodic sweep for misses."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import LockOutbox

logger = logging.getLogger(__name__)
RECOMPUTE_TASK = "analytics.recompute_statistics"


def announce_dataset_change(*, action: str, record_ids: list[str]) -> LockOutbox:
    """Call inside the transaction that locks/unlocks; the task is sent after commit."""
    entry = LockOutbox.objects.create(action=action, record_ids=record_ids)
    transaction.on_commit(lambda: send_outbox_entry(entry.dataset_version), robust=True)
    return entry


def send_outbox_entry(dataset_version: int) -> bool:
    """Send the recompute task by name. A broker failure is logged; the sweep retries later."""
    from config.celery import app

    LockOutbox.objects.filter(pk=dataset_version).update(send_attempts=F("send_attempts") + 1)
    try:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            app.loader.import_default_modules()
            app.tasks[RECOMPUTE_TASK].apply(args=[dataset_version], throw=True)
        else:
            app.send_task(RECOMPUTE_TASK, args=[dataset_version], retry=False)
    except Exception:
        logger.exception("could not send %s for dataset v%s", RECOMPUTE_TASK, dataset_version)
        return False
    LockOutbox.objects.filter(pk=dataset_version).update(sent_at=timezone.now())
    return True


def send_pending() -> int:
    """Send every outbox entry not yet sent (only the newest matters: tasks coalesce)."""
    pending = list(
        LockOutbox.objects.filter(sent_at__isnull=True).values_list("dataset_version", flat=True)
    )
    if not pending:
        return 0
    newest = max(pending)
    if send_outbox_entry(newest):
        LockOutbox.objects.filter(pk__in=pending, sent_at__isnull=True).update(
            sent_at=timezone.now()
        )
        return len(pending)
    return 0


def current_dataset_version() -> int:
    last = (
        LockOutbox.objects.order_by("-dataset_version")
        .values_list("dataset_version", flat=True)
        .first()
    )
    return last or 0
