"""The demo server (`make run`: Django's development server) does not pile up PostgreSQL
connections however many requests it serves, and the browser's /favicon.ico is found."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.live import ROOT, create_live_stack, drop_live_stack, free_port

REQUESTS = 1000
CONCURRENCY = 4
TOKEN = """
from centers.models import User
from centers.tokens import issue_api_token
from registry.services.dictionary import import_default_dictionary
import_default_dictionary()
print(issue_api_token(user=User.objects.create_user("demo-api", password="pw-for-tests-123")))
"""


def connections(stack) -> int:
    with psycopg.connect(stack.owner_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (stack.name,),
        ).fetchone()
    return row[0]


@pytest.fixture
def runserver(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        stack = create_live_stack()
    try:
        token = stack.shell(TOKEN).strip().splitlines()[-1]
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=dict(stack.env, DATABASE_URL=stack.app_url, API_RATE_LIMIT_PER_MINUTE="100000"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.processes.append(server)
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                urllib.request.urlopen(url + "/favicon.ico", timeout=1)  # noqa: S310
                break
            except OSError:
                assert server.poll() is None, "runserver exited"
                time.sleep(0.1)
        else:
            raise RuntimeError("runserver did not start")
        yield stack, url, token
    finally:
        with django_db_blocker.unblock():
            drop_live_stack(stack)


def test_a_thousand_requests_leave_the_connection_count_small(runserver):
    stack, url, token = runserver
    body = urllib.parse.urlencode({"token": token, "content": "version"}).encode()

    def call(_n: int) -> int:
        with urllib.request.urlopen(url + "/api/", data=body, timeout=30) as response:  # noqa: S310
            return response.status

    peak = 0
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        for start in range(0, REQUESTS, 100):
            statuses = list(pool.map(call, range(start, start + 100)))
            assert set(statuses) == {200}
            peak = max(peak, connections(stack))
    time.sleep(0.5)
    after = connections(stack)
    # Persistent connections under runserver would leave one per finished request thread.
    assert peak <= CONCURRENCY + 1, peak
    assert after <= 1, after


def test_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
