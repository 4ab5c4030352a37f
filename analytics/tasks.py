"""Celery tasks: load by version, call the service. Importing this module (the worker does at
start-up) imports lifelines once, through analytics.services -> analytics.survival."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import DatabaseError, transaction

from registry.outbox import mark_computed

from . import details, paper_stage, services
from .models import SnapshotDetail, SnapshotPaper, StatisticsSnapshot

logger = logging.getLogger(__name__)

# Every task is idempotent, so a delivery lost with its whole worker is redelivered (acks_late)
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
        # A redelivery (the worker died after storing the snapshot, before its later stages
        # were sent) or a duplicate: send whatever stage the newest snapshot still lacks.
        send_missing_stages()
        return None
    send_stages_after_commit(snapshot.dataset_version)
    return snapshot.dataset_version


@shared_task(name="analytics.compute_snapshot_details", **RELIABLE)
def compute_snapshot_details(dataset_version: int) -> int | None:
    """Cox models and subgroup curves for a stored snapshot; idempotent."""
    detail = details.compute_details(dataset_version=int(dataset_version))
    return detail.snapshot_id if detail else None


@shared_task(name="analytics.compute_paper_tables", **RELIABLE)
def compute_paper_tables(dataset_version: int) -> int | None:
    """Table 1, drug response, PFS by line and competing risks for a stored snapshot;
    idempotent."""
    paper = paper_stage.compute_paper_tables(dataset_version=int(dataset_version))
    return paper.snapshot_id if paper else None


def send_stages_after_commit(dataset_version: int, stages: tuple = ()) -> None:
    """The later stages of a snapshot (the paper's tables first: the dashboard shows them; then
    Cox models and subgroup curves). A failure to reach the broker is logged, never raised: the
    headline figures are stored, and the dashboard says what is still being computed."""
    stages = stages or (compute_paper_tables, compute_snapshot_details)

    def send() -> None:
        for task in stages:
            try:
                task.delay(dataset_version)
            except Exception:
                logger.exception("could not send %s for dataset v%s", task.name, dataset_version)

    transaction.on_commit(send, robust=True)


def send_missing_stages() -> None:
    newest = StatisticsSnapshot.objects.only("pk", "dataset_version").order_by("-dataset_version")
    snapshot = newest.first()
    if snapshot is None:
        return
    missing = tuple(
        task
        for task, model in (
            (compute_paper_tables, SnapshotPaper),
            (compute_snapshot_details, SnapshotDetail),
        )
        if not model.objects.filter(snapshot=snapshot).exists()
    )
    if missing:
        send_stages_after_commit(snapshot.dataset_version, missing)
