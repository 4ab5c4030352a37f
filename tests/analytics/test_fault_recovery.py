"""Faults on a live stack (real PostgreSQL, Redis, Celery worker and beat): nothing a lock
announces is lost when the queue or a worker dies, and nothing is computed or built twice.
The drill (`make drill`, bench/drill.py) injects the same faults and measures them."""

from __future__ import annotations

import json
import re
import threading
import time

import psycopg
import pytest
import redis
import requests

from registry.services.locking import SIGNATURE_MEANINGS
from tests.analytics.test_worker_integration import (
    LOCK_ONE,
    newest_outbox,
    query,
    wait_for_snapshot,
)
from tests.live import (
    backends_waiting_on,
    kill_hard,
    live_stack,
    start_beat,
)
from tests.tools import require_redis

pytestmark = pytest.mark.worker
BROKER = "redis://127.0.0.1:6379/10"
FAST_SWEEP = {"OUTBOX_SWEEP_SECONDS": "1", "OUTBOX_RESEND_AFTER_SECONDS": "2"}
FAST_EXPORT_CHECKS = {"EXPORT_STALE_SECONDS": "2", "EXPORT_HEARTBEAT_SECONDS": "1"}
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
    """One seeded stack for every fault, each test locking or unlocking a record."""
    require_redis(BROKER)
    exports = tmp_path_factory.mktemp("exports")
    env = dict(FAST_SWEEP, EXPORT_ROOT=str(exports), **FAST_EXPORT_CHECKS)

    def prepare(live):
        live.schedule = tmp_path_factory.mktemp("beat") / "schedule"
        live.exports = exports
        live.start_server(workers=1)
        assert snapshots_of(live, newest_outbox(live)) == 1 and uncomputed(live) == 0

    with live_stack(
        django_db_blocker,
        seeded=True,
        prepare=prepare,
        serve=False,
        broker_url=BROKER,
        extra_env=env,
    ) as live:
        yield live


@pytest.fixture
def queue(stack):
    """The broker's queue, emptied of what earlier tests left (beat's sweeps)."""
    client = redis.Redis.from_url(BROKER)
    client.flushdb()
    return client


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
    processes = [start_beat(stack, stack.schedule), stack.start_worker()]
    try:
        wait_for_snapshot(stack, version, timeout=90)
        deadline = time.monotonic() + 10
        while uncomputed(stack) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert snapshots_of(stack, version) == 1 and uncomputed(stack) == 0
    finally:
        for proc in processes:
            stop(proc)


def test_worker_killed_mid_recompute_the_version_is_resent(stack, queue):
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


def test_redis_restarted_empty_the_version_is_resent(stack, queue):
    stack.shell(UNLOCK_ONE)
    version = newest_outbox(stack)
    assert queue.llen("celery") == 1
    queue.flushdb()  # Redis restarted without persistence: the queue is gone
    recovers(stack, version)


def test_a_task_delivered_twice_to_two_racing_workers_yields_one_snapshot(stack, queue):
    stack.shell(UNLOCK_ONE)
    version = newest_outbox(stack)
    stack.shell(SEND_AGAIN)  # four messages for one version, two workers taking them at once
    workers = [stack.start_worker(), stack.start_worker()]
    try:
        wait_for_snapshot(stack, version, timeout=90)
        deadline = time.monotonic() + 20
        while queue.llen("celery") and time.monotonic() < deadline:
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


def log_in(stack, username: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{stack.url}/accounts/login/", timeout=10)
    session.post(
        f"{stack.url}/accounts/login/",
        data={
            "username": username,
            "password": "demo-password",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=10,
    )
    return session


def post(session: requests.Session, url: str, data: dict) -> requests.Response:
    return session.post(
        url, data={**data, "csrfmiddlewaretoken": session.cookies["csrftoken"]}, timeout=10
    )


def test_worker_killed_mid_export_the_job_fails_and_its_retry_builds_it(stack, queue):
    dm = log_in(stack, "datamanager")
    form = {"which": "all", "dates": "shift", "raw_or_label": "raw", "header": "raw"}
    assert post(dm, f"{stack.url}/exports/", {**form, "formats": ["csv"]}).status_code == 200
    (job,) = [p.name for p in stack.exports.iterdir()]
    with psycopg.connect(stack.owner_url) as blocker:
        # The export counts its records first: an exclusive lock stops it there.
        blocker.execute("LOCK TABLE registry_record IN ACCESS EXCLUSIVE MODE")
        worker = stack.start_worker()
        deadline = time.monotonic() + 90
        while not backends_waiting_on(stack.owner_url, "registry_record"):
            assert time.monotonic() < deadline, "the worker never started the export"
            time.sleep(0.1)
        kill_hard(worker)
        blocker.rollback()
    worker = stack.start_worker()  # as a supervisor would; it must not pick the job up again
    try:
        time.sleep(3)  # longer than EXPORT_STALE_SECONDS
        page = dm.get(f"{stack.url}/exports/", timeout=10).text
        assert "The worker building this export stopped" in page
        assert f"/exports/{job}/retry/" in page
        retried = post(dm, f"{stack.url}/exports/{job}/retry/", {})
        assert retried.status_code == 200 and retried.url.endswith("/exports/")
        (new,) = [p for p in stack.exports.iterdir() if p.name != job]
        deadline = time.monotonic() + 90
        while json.loads((new / "status.json").read_text())["state"] != "done":
            assert time.monotonic() < deadline, (new / "status.json").read_text()
            time.sleep(0.2)
        assert json.loads((stack.exports / job / "status.json").read_text())["state"] == "failed"
        with psycopg.connect(stack.owner_url) as conn:
            (records,) = conn.execute(
                "SELECT count(*) FROM registry_record WHERE deleted_at IS NULL"
            ).fetchone()
        assert json.loads((new / "status.json").read_text())["message"].startswith(
            f"{records} records,"
        )
    finally:
        stop(worker)


INSERT_WAITING = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO \"registry_lockoutbox\"%'"
)


def test_the_apps_connection_terminated_mid_lock_the_lock_is_still_accepted(stack, queue):
    record_id = re.search(r"UNLOCKED (\S+)", stack.shell(UNLOCK_ONE)).group(1)
    before = newest_outbox(stack)
    investigator = log_in(stack, f"investigator-{record_id[:3].lower()}")
    data = {"password": "demo-password", "meaning": SIGNATURE_MEANINGS[0]}
    answers: list[int] = []
    admin = psycopg.connect(stack.owner_url, autocommit=True)  # pg_stat_activity, fresh each time
    with psycopg.connect(stack.owner_url) as blocker, admin:
        # The lock's outbox insert waits behind this; its backend is then terminated mid-request.
        blocker.execute("LOCK TABLE registry_lockoutbox IN EXCLUSIVE MODE")
        request = threading.Thread(
            target=lambda: answers.append(
                post(investigator, f"{stack.url}/records/{record_id}/lock/", data).status_code
            )
        )
        request.start()
        deadline = time.monotonic() + 30
        while not (waiting := admin.execute(INSERT_WAITING).fetchall()):
            assert time.monotonic() < deadline, "the lock never reached the outbox"
            time.sleep(0.05)
        admin.execute("SELECT pg_terminate_backend(%s)", waiting[0])
        blocker.rollback()
        request.join(30)
    assert answers == [200]  # redirected to the record, now locked
    assert query(
        stack, "SELECT is_locked FROM registry_record WHERE record_id = %s", record_id
    ) == [(True,)]
    assert query(
        stack,
        "SELECT count(*) FROM registry_signature s JOIN registry_record r ON r.id = s.record_id "
        "WHERE r.record_id = %s AND s.voided_at IS NULL",
        record_id,
    ) == [(1,)]
    assert newest_outbox(stack) == before + 1
