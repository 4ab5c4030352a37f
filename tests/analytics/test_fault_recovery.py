"""Faults on a live stack (real PostgreSQL, Redis, Celery worker and beat): nothing a lock
announces is lost when the queue or a worker dies, and nothing is computed or built twice.
The drill (`make drill`, bench/drill.py) injects the same faults and measures them."""

from __future__ import annotations

import json
import re
import time

import psycopg
import pytest
import redis
import requests

from tests.analytics.test_worker_integration import (
    LOCK_ONE,
    SEED,
    newest_outbox,
    query,
    wait_for_snapshot,
)
from tests.live import (
    backends_waiting_on,
    create_live_stack,
    drop_live_stack,
    kill_hard,
    start_beat,
)
from tests.tools import require_redis

pytestmark = pytest.mark.worker
BROKER = "redis://127.0.0.1:6379/10"
EXPORT_BROKER = "redis://127.0.0.1:6379/11"
FAST_SWEEP = {"OUTBOX_SWEEP_SECONDS": "1", "OUTBOX_RESEND_AFTER_SECONDS": "2"}
UNLOCK_ONE = """
from centers.models import User
from registry.models import Record
from registry.services.locking import unlock_record
record = Record.objects.filter(is_locked=True).order_by("-record_id").first()
unlock_record(user=User.objects.get(username="datamanager"), record=record, reason="drill")
print("UNLOCKED", record.record_id)
"""
SEND_AGAIN = """
from config.celery import app
from registry.outbox import current_dataset_version
for _ in range(3):
    app.send_task("analytics.recompute_statistics", args=[current_dataset_version()])
"""


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, tmp_path_factory):
    """One seeded stack for the recompute faults, each test locking or unlocking a record."""
    require_redis(BROKER)
    with django_db_blocker.unblock():
        live = create_live_stack(broker_url=BROKER, extra_env=FAST_SWEEP)
    live.schedule = tmp_path_factory.mktemp("beat") / "schedule"
    try:
        worker = live.start_worker()
        live.shell(SEED)
        wait_for_snapshot(live, newest_outbox(live), timeout=60)
        stop(worker)
        yield live
    finally:
        with django_db_blocker.unblock():
            drop_live_stack(live)


def stop(proc) -> None:
    proc.terminate()
    proc.wait(20)


def snapshots_of(stack, version: int) -> int:
    sql = "SELECT count(*) FROM analytics_statisticssnapshot WHERE dataset_version = %s"
    return query(stack, sql, version)[0][0]


def uncomputed(stack) -> int:
    return query(stack, "SELECT count(*) FROM registry_lockoutbox WHERE computed_at IS NULL")[0][0]


def recovers(stack, version: int) -> None:
    """A fresh worker and beat, as a process supervisor would restart them, compute `version`."""
    processes = [stack.start_worker(), start_beat(stack, stack.schedule)]
    try:
        wait_for_snapshot(stack, version, timeout=90)
        deadline = time.monotonic() + 10
        while uncomputed(stack) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert snapshots_of(stack, version) == 1 and uncomputed(stack) == 0
    finally:
        for proc in processes:
            stop(proc)


def test_worker_killed_mid_recompute_the_version_is_resent(stack):
    stack.shell(LOCK_ONE)  # the task waits in Redis: no worker runs
    version = newest_outbox(stack)
    with psycopg.connect(stack.owner_url) as blocker:
        # The recompute reads the dataset under a share lock on the outbox: holding a conflicting
        # lock stops it there, so the worker is killed mid-recompute at a known point.
        blocker.execute("LOCK TABLE registry_lockoutbox IN EXCLUSIVE MODE")
        worker = stack.start_worker()
        deadline = time.monotonic() + 90
        while not backends_waiting_on(stack.owner_url, "registry_lockoutbox"):
            assert time.monotonic() < deadline, "the worker never started the recompute"
            time.sleep(0.1)
        kill_hard(worker)
        blocker.rollback()
    # The message is unacknowledged in Redis for the visibility timeout (an hour); the outbox
    # says it was sent. Only "no statistics yet" can bring it back.
    recovers(stack, version)


def test_redis_restarted_empty_the_version_is_resent(stack):
    stack.shell(UNLOCK_ONE)
    version = newest_outbox(stack)
    client = redis.Redis.from_url(BROKER)
    assert client.llen("celery") == 1
    client.flushdb()  # Redis restarted without persistence: the queue is gone
    recovers(stack, version)


def test_a_task_delivered_twice_to_two_racing_workers_yields_one_snapshot(stack):
    stack.shell(UNLOCK_ONE)
    version = newest_outbox(stack)
    stack.shell(SEND_AGAIN)  # four messages for one version, two workers taking them at once
    workers = [stack.start_worker(), stack.start_worker()]
    try:
        wait_for_snapshot(stack, version, timeout=90)
        deadline = time.monotonic() + 20
        while redis.Redis.from_url(BROKER).llen("celery") and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # let the last deliveries finish
        assert snapshots_of(stack, version) == 1
        assert query(stack, "SELECT count(*) FROM analytics_statisticssnapshot")[0][0] == len(
            query(stack, "SELECT DISTINCT dataset_version FROM analytics_statisticssnapshot")
        )
        assert uncomputed(stack) == 0
    finally:
        for proc in workers:
            stop(proc)


EXPORT_SETUP = """
from centers.models import Center, Membership, Role, User
from registry.exports.jobs import create_job
from registry.exports.options import ExportOptions
from registry.exports.views import send_export_job
from registry.services.dictionary import import_default_dictionary
from registry.services.records import create_record
v = import_default_dictionary()
mil = Center.objects.create(code="MIL", name="Milano", city="Milano")
dm = User.objects.create_user("dm", password="pw-for-tests-123")
Membership.objects.create(user=dm, center=None, role=Role.DATA_MANAGER)
coord = User.objects.create_user("coord", password="pw-for-tests-123")
Membership.objects.create(user=coord, center=mil, role=Role.SITE_COORDINATOR)
for n in range(3):
    create_record(user=coord, center=mil)
job = create_job(user=dm, options=ExportOptions(locked_only=False, formats=("csv",)))
send_export_job(job)
print("JOB", job)
"""


def test_worker_killed_mid_export_the_job_fails_and_its_retry_builds_it(
    django_db_setup, django_db_blocker, tmp_path
):
    require_redis(EXPORT_BROKER)
    root = tmp_path / "exports"
    env = {"EXPORT_ROOT": str(root), "EXPORT_STALE_SECONDS": "2", "EXPORT_HEARTBEAT_SECONDS": "1"}
    with django_db_blocker.unblock():
        stack = create_live_stack(broker_url=EXPORT_BROKER, extra_env=env)
    try:
        job = stack.shell(EXPORT_SETUP).split("JOB")[-1].strip()
        with psycopg.connect(stack.owner_url) as blocker:
            blocker.execute("LOCK TABLE registry_record IN ACCESS EXCLUSIVE MODE")
            worker = stack.start_worker()
            deadline = time.monotonic() + 90
            while not backends_waiting_on(stack.owner_url, "registry_record"):
                assert time.monotonic() < deadline, "the worker never started the export"
                time.sleep(0.1)
            kill_hard(worker)
            blocker.rollback()
        time.sleep(3)  # longer than EXPORT_STALE_SECONDS
        stack.start_server(workers=1)
        session = requests.Session()
        session.get(f"{stack.url}/accounts/login/", timeout=10)
        session.post(
            f"{stack.url}/accounts/login/",
            data={
                "username": "dm",
                "password": "pw-for-tests-123",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            timeout=10,
        )
        page = session.get(f"{stack.url}/exports/", timeout=10).text
        assert "The worker building this export stopped" in page
        assert f"/exports/{job}/retry/" in page
        retried = session.post(
            f"{stack.url}/exports/{job}/retry/",
            data={"csrfmiddlewaretoken": session.cookies["csrftoken"]},
            timeout=10,
        )
        assert retried.status_code == 200 and retried.url.endswith("/exports/")
        stack.start_worker()
        new = next(p for p in root.iterdir() if p.name != job)
        deadline = time.monotonic() + 60
        while json.loads((new / "status.json").read_text())["state"] != "done":
            assert time.monotonic() < deadline, (new / "status.json").read_text()
            time.sleep(0.2)
        assert json.loads((root / job / "status.json").read_text())["state"] == "failed"
        assert re.search(r"3 records", (new / "status.json").read_text())
    finally:
        with django_db_blocker.unblock():
            drop_live_stack(stack)
