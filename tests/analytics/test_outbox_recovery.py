"""A dataset version is done when its snapshot exists, not when its message was sent: the
statistics side stamps computed_at, and the sweep resends a sent version still without
statistics (its message lost with a worker or with Redis) after a grace period, with back-off,
giving up once (logged and audited) after a cap. In-process (Celery eager); the live faults are
in test_fault_recovery.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import StatisticsSnapshot
from analytics.tasks import recompute_statistics
from registry.models import AuditEvent, LockOutbox
from registry.outbox import send_pending

pytestmark = pytest.mark.django_db


def lost_message(*, seconds_ago: float, attempts: int = 1) -> LockOutbox:
    """The newest version as a lost message leaves it: sent, never computed."""
    LockOutbox.objects.update(
        sent_at=timezone.now() - timedelta(seconds=seconds_ago),
        send_attempts=attempts,
        computed_at=None,
    )
    return LockOutbox.objects.order_by("-dataset_version").first()


def test_a_computed_version_is_stamped_with_every_older_one(make_records):
    make_records(1)  # two outbox versions; on_commit never ran, so no task, no snapshot
    make_records(1)
    first, second = LockOutbox.objects.order_by("dataset_version")
    assert recompute_statistics(first.dataset_version) == second.dataset_version
    assert all(e.computed_at for e in LockOutbox.objects.all())
    # Delivered again (a duplicate, or a resend after the stamp was lost): one snapshot, no-op.
    LockOutbox.objects.update(computed_at=None)
    assert recompute_statistics(second.dataset_version) is None
    assert StatisticsSnapshot.objects.count() == 1
    assert all(e.computed_at for e in LockOutbox.objects.all())


def test_the_sweep_resends_a_version_whose_message_was_lost(make_records, settings):
    settings.OUTBOX_RESEND_AFTER_SECONDS = 60
    make_records(3)
    entry = lost_message(seconds_ago=61)
    assert send_pending() == 1
    snapshot = StatisticsSnapshot.objects.get()
    assert snapshot.dataset_version == entry.dataset_version and snapshot.n_locked_records == 3
    entry.refresh_from_db()
    assert entry.computed_at is not None and entry.send_attempts == 2
    assert send_pending() == 0  # done: nothing more is sent


def test_within_the_grace_period_and_the_back_off_nothing_is_resent(make_records, settings):
    settings.OUTBOX_RESEND_AFTER_SECONDS = 60
    make_records(1)
    entry = lost_message(seconds_ago=50)
    assert send_pending() == 0
    entry = lost_message(seconds_ago=100, attempts=2)  # second wait is 120 s
    assert send_pending() == 0
    entry.refresh_from_db()
    assert entry.send_attempts == 2 and not StatisticsSnapshot.objects.exists()
    lost_message(seconds_ago=121, attempts=2)
    assert send_pending() == 1 and StatisticsSnapshot.objects.exists()


def test_a_poison_version_is_given_up_once_logged_and_audited(make_records, settings, caplog):
    settings.OUTBOX_RESEND_AFTER_SECONDS = 1
    settings.OUTBOX_MAX_SEND_ATTEMPTS = 4
    make_records(1)
    entry = lost_message(seconds_ago=10_000, attempts=4)
    assert send_pending() == 0
    assert send_pending() == 0
    entry.refresh_from_db()
    assert entry.computed_at is None and not StatisticsSnapshot.objects.exists()
    abandoned = AuditEvent.objects.filter(action="recompute_abandoned")
    assert [e.details for e in abandoned] == [
        {"dataset_version": entry.dataset_version, "send_attempts": 4}
    ]
    assert "giving up" in caplog.text
