"""Celery tasks: load by version, call the service. Importing this module (the worker does at
start-up) imports lifelines once, through analytics.services -> analytics.survival."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.utils import timezone

from registry.outbox import mark_computed

from . import dataset_stage, details, paper_stage, services
from .models import SnapshotDataset, SnapshotDetail, SnapshotPaper, StatisticsSnapshot

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
        # A redelivery (the worker died after storing the snapshot, before its records or its
        # later stages) or a duplicate: send whatever stage the newest snapshot still lacks.
        send_missing_stages()
        return None
    send_stages_after_commit(snapshot.dataset_version)
    return snapshot.dataset_version


@shared_task(name="analytics.store_snapshot_dataset", **RELIABLE)
def store_snapshot_dataset(dataset_version: int) -> int | None:
    """The records of a stored snapshot (hashes, analysis dataset) that its own task did not
    store; then the stages that read them. Idempotent."""
    stored = dataset_stage.compute_snapshot_dataset(dataset_version=int(dataset_version))
    if stored is None:
        return None
    send_stages_after_commit(int(dataset_version))
    return stored.snapshot_id


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


def send_missing_stages() -> int:
    """Send the later stages the newest snapshot lacks; how many were sent. Without its
    records, only their stage (the others read them, and it sends them when it is done)."""
    snapshot = StatisticsSnapshot.objects.only("pk", "dataset_version", "computed_at").first()
    if snapshot is None:
        return 0
    if not SnapshotDataset.objects.filter(snapshot=snapshot).exists():
        send_stages_after_commit(snapshot.dataset_version, (store_snapshot_dataset,))
        return 1
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
    return len(missing)


@shared_task(name="analytics.sweep_snapshot_stages", ignore_result=True)
def sweep_snapshot_stages() -> int:
    """Periodic: resend the later stages of the newest snapshot still missing some once
    SNAPSHOT_STAGES_RESEND_AFTER_SECONDS have passed since it was stored (a worker killed
    during a stage would otherwise leave it to Redis's redelivery, an hour later). Given up an
    hour after the snapshot, so a stage that keeps failing is not rerun forever."""
    newest = StatisticsSnapshot.objects.only("dataset_version", "computed_at").first()
    if newest is None:
        return 0
    grace = settings.SNAPSHOT_STAGES_RESEND_AFTER_SECONDS
    age = (timezone.now() - newest.computed_at).total_seconds()
    if not grace <= age <= 3600:
        return 0
    # At most once per grace period: a busy worker gets one more message, not one per sweep.
    if not cache.add(f"analytics:stages-resent:{newest.dataset_version}", 1, timeout=grace):
        return 0
    sent = send_missing_stages()
    if sent:
        logger.warning("resent %s later stage(s) of dataset v%s", sent, newest.dataset_version)
    return sent
