"""Announcing locks to whoever computes statistics, without importing them: an outbox row in
the locking transaction, a Celery task sent by name after commit, a periodic sweep for misses.

A version is done when its statistics exist, not when its message was sent: the statistics side
calls mark_computed() once a snapshot is stored, and the sweep resends the newest version still
without computed_at (a message lost with its worker or with Redis), with back-off and a cap."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .audit import record_event
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
    """The sweep: send every outbox entry not yet sent (only the newest matters: tasks
    coalesce), then resend the newest version still not computed once its grace is over."""
    pending = list(
        LockOutbox.objects.filter(sent_at__isnull=True).values_list("dataset_version", flat=True)
    )
    if pending:
        newest = max(pending)
        if send_outbox_entry(newest):
            LockOutbox.objects.filter(pk__in=pending, sent_at__isnull=True).update(
                sent_at=timezone.now()
            )
            return len(pending)
        return 0
    return resend_uncomputed()


def resend_delay(send_attempts: int) -> float:
    """Seconds to wait after the last send before resending: the grace period, doubled per
    resend already made, so a worker that is merely busy gets a few messages, not a flood."""
    return settings.OUTBOX_RESEND_AFTER_SECONDS * 2 ** max(send_attempts - 1, 0)


def resend_uncomputed() -> int:
    """Resend the newest version without statistics (computing it covers every older one). After
    OUTBOX_MAX_SEND_ATTEMPTS sends it is given up: logged and audited once, not looped on; the
    next lock's version (computed from the same data plus the new lock) supersedes it."""
    entry = LockOutbox.objects.order_by("-dataset_version").first()
    if entry is None or entry.computed_at is not None or entry.sent_at is None:
        return 0
    waited = (timezone.now() - entry.sent_at).total_seconds()
    if waited < resend_delay(entry.send_attempts):
        return 0
    cap = settings.OUTBOX_MAX_SEND_ATTEMPTS
    if entry.send_attempts >= cap:
        # Passing the cap by one marks "given up" so that this is logged and audited once.
        if LockOutbox.objects.filter(pk=entry.pk, send_attempts=cap).update(send_attempts=cap + 1):
            logger.error(
                "dataset v%s has no statistics after %s sends; giving up (the next lock retries)",
                entry.dataset_version,
                cap,
            )
            record_event(
                "recompute_abandoned",
                details={"dataset_version": entry.dataset_version, "send_attempts": cap},
            )
        return 0
    logger.warning(
        "dataset v%s has no statistics %.0f s after it was sent; resending",
        entry.dataset_version,
        waited,
    )
    return 1 if send_outbox_entry(entry.dataset_version) else 0


def mark_computed(dataset_version: int) -> int:
    """Called by the statistics side once the snapshot of `dataset_version` is stored (or found
    stored): that snapshot covers this version and every older one."""
    return LockOutbox.objects.filter(
        dataset_version__lte=dataset_version, computed_at__isnull=True
    ).update(computed_at=timezone.now())


def current_dataset_version() -> int:
    last = (
        LockOutbox.objects.order_by("-dataset_version")
        .values_list("dataset_version", flat=True)
        .first()
    )
    return last or 0
