"""Real PostgreSQL + Redis + a real Celery worker (tests/live.py): a lock committed by one
process becomes a snapshot computed by the worker and shown by the web server; with the broker
down at lock time, the lock still succeeds and the periodic sweep catches up."""

from __future__ import annotations

import re
import time
from contextlib import contextmanager

import psycopg
import pytest
import requests

from tests.live import live_stack
from tests.tools import require_redis

pytestmark = pytest.mark.worker
BROKER = "redis://127.0.0.1:6379/5"
DEAD_BROKER = "redis://127.0.0.1:6390/0"

SEED = "from registry.services.demo import seed_demo; print(seed_demo())"
LOCK_ONE = """
from django.conf import settings
from centers.models import User
from registry.models import Record
from registry.services.dictionary import current_dictionary_version
from registry.services.locking import SIGNATURE_MEANINGS, lock_record, lock_blockers
version = current_dictionary_version()
record = next(r for r in Record.objects.filter(is_locked=False).order_by("record_id")
              if not lock_blockers(r, version))
user = User.objects.get(username=f"investigator-{record.center.code.lower()}")
lock_record(user=user, record=record, password=settings.DEMO_PASSWORD,
            meaning=SIGNATURE_MEANINGS[0], dictionary_version=version)
print("LOCKED", record.record_id)
"""
TOKEN = (
    "from centers.models import User; from centers.tokens import issue_api_token; "
    "print('TOKEN', issue_api_token(user=User.objects.get(username='pi')))"
)


@contextmanager
def worker_stack(django_db_blocker, tmp_path, *, seeded: bool):
    require_redis(BROKER)

    def prepare(live):
        live.beat_schedule = str(tmp_path / "beat-schedule")

    env = {"OUTBOX_SWEEP_SECONDS": "1"}
    with live_stack(
        django_db_blocker,
        seeded=seeded,
        prepare=prepare,
        serve=False,
        broker_url=BROKER,
        extra_env=env,
    ) as live:
        yield live


@pytest.fixture
def stack(django_db_setup, django_db_blocker, tmp_path):
    with worker_stack(django_db_blocker, tmp_path, seeded=False) as live:
        yield live


@pytest.fixture
def seeded_stack(django_db_setup, django_db_blocker, tmp_path):
    """The demo data locked and their snapshot stored (eagerly, when the template was seeded)."""
    with worker_stack(django_db_blocker, tmp_path, seeded=True) as live:
        yield live


def query(stack, sql: str, *params):
    with psycopg.connect(stack.owner_url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def newest_outbox(stack) -> int:
    return query(stack, "SELECT max(dataset_version) FROM registry_lockoutbox")[0][0]


def wait_for_snapshot(stack, version: int, timeout: float = 60) -> float:
    """Seconds until the snapshot for `version` is stored."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if query(
            stack, "SELECT 1 FROM analytics_statisticssnapshot WHERE dataset_version = %s", version
        ):
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"no snapshot for dataset v{version} within {timeout} s")


def wait_for(stack, sql: str, *params, timeout: float = 20) -> list:
    """The rows of `sql` once there are any."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        rows = query(stack, sql, *params)
        if rows:
            return rows
        time.sleep(0.05)
    raise AssertionError(f"no rows within {timeout} s: {sql}")


def log_in(stack, username: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{stack.url}/accounts/login/", timeout=10)
    response = session.post(
        f"{stack.url}/accounts/login/",
        timeout=10,
        data={
            "username": username,
            "password": "demo-password",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        allow_redirects=False,
    )
    assert response.status_code == 302 and "sessionid" in session.cookies
    return session


def test_lock_becomes_a_snapshot_shown_on_the_dashboard(seeded_stack):
    stack = seeded_stack
    stack.start_worker()
    stack.start_server()

    out = stack.shell(LOCK_ONE)
    record_id = re.search(r"LOCKED (\S+)", out).group(1)
    version = newest_outbox(stack)
    seconds = wait_for_snapshot(stack, version, timeout=20)
    assert seconds < 10  # measured in bench/analytics_benchmark.py; well under 2 s here

    ((n_locked, hashes),) = wait_for(
        stack,
        "SELECT n_locked_records, record_hashes FROM analytics_statisticssnapshot s "
        "JOIN analytics_snapshotdataset d ON d.snapshot_id = s.id WHERE dataset_version = %s",
        version,
    )  # the records are stored just after the snapshot
    assert n_locked == 34 and record_id in hashes

    pi = log_in(stack, "pi")
    html = pi.get(f"{stack.url}/analytics/", timeout=30).text
    assert f"As of dataset version {version}" in html
    assert "34 locked records" in html
    token = re.search(r"TOKEN (\S+)", stack.shell(TOKEN)).group(1)
    summary = requests.get(
        f"{stack.url}/analytics/summary.json",
        timeout=30,
        headers={"Authorization": f"Token {token}"},
    ).json()
    assert summary["dataset_version"] == version
    assert summary["endpoints"]["os"]["n"] + len(summary["endpoints"]["os"]["excluded"]) == 34
    coordinator = log_in(stack, "coordinator-mil")
    assert coordinator.get(f"{stack.url}/analytics/", timeout=10).status_code == 403


def test_broker_down_at_lock_time_then_the_sweep_catches_up(stack):
    stack.env["CELERY_BROKER_URL"] = DEAD_BROKER
    out = stack.shell(SEED)  # every lock commits although no task can be sent
    assert "33 locked" in out
    pending = query(stack, "SELECT count(*) FROM registry_lockoutbox WHERE sent_at IS NULL")
    assert pending[0][0] == 6
    assert query(stack, "SELECT count(*) FROM analytics_statisticssnapshot")[0][0] == 0

    stack.env["CELERY_BROKER_URL"] = BROKER
    stack.start_worker("-B", "--schedule", stack.beat_schedule)
    wait_for_snapshot(stack, newest_outbox(stack), timeout=60)
    assert query(stack, "SELECT count(*) FROM registry_lockoutbox WHERE sent_at IS NULL") == [(0,)]
    # The burst of six locks coalesced into one recompute of the newest version.
    assert query(
        stack, "SELECT dataset_version, n_locked_records FROM analytics_statisticssnapshot"
    ) == [(newest_outbox(stack), 33)]
