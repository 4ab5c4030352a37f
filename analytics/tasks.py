"""Celery tasks: load by version, call the service. Importing this module (the worker does at
start-up) imports lifelines once, through analytics.services -> analytics.survival."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import DatabaseError, transaction

from registry.outbox import mark_computed

from . import details, services

logger = logging.getLogger(__name__)

# Both tasks are idempotent, so a delivery lost with its whole worker is redelivered (acks_late)
# and database hiccups are retried with back-off. A task whose child process died is not
# requeued (it may have killed it: no endless loop); the outbox sweep resends the version.
RELIABLE = dict(
    acks_late=True,
    reject_on_worker_lost=False,
    autoretry_for=(DatabaseError,),
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
    ignore_result=True,
)


@shared_task(name="analytics.recompute_statistics", **RELIABLE)
def recompute_statistics(dataset_version: int) -> int | None:
    """Idempotent, keyed by dataset version; returns the version of the snapshot it stored."""
    snapshot = services.recompute_for_version(dataset_version=int(dataset_version))
    mark_computed(snapshot.dataset_version if snapshot else int(dataset_version))
    if snapshot is None:
        return None
    send_details_after_commit(snapshot.dataset_version)
    return snapshot.dataset_version


@shared_task(name="analytics.compute_snapshot_details", **RELIABLE)
def compute_snapshot_details(dataset_version: int) -> int | None:
    """Cox models and subgroup curves for a stored snapshot; idempotent."""
    detail = details.compute_details(dataset_version=int(dataset_version))
    return detail.snapshot_id if detail else None


def send_details_after_commit(dataset_version: int) -> None:
    """The second stage of a snapshot. A failure to reach the broker is logged, never raised:
    the headline figures are stored, and the dashboard says when details are missing."""

    def send() -> None:
        try:
            compute_snapshot_details.delay(dataset_version)
        except Exception:
            logger.exception("could not send the details task for dataset v%s", dataset_version)

    transaction.on_commit(send, robust=True)
