"""A live stack for tests that need committed data seen by other processes: a fresh database
(migrated by the owner), the app served by a real server process logged in as the application
role, and optionally a real Celery worker. Everything is stopped and dropped afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.conf import settings

from config.database_urls import allow_login, database_url

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveStack:
    name: str
    owner_url: str
    app_url: str
    env: dict
    processes: list = field(default_factory=list)
    url: str = ""
    server_log: Path | None = None

    def manage(
        self, *args: str, as_owner: bool = False, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess:
        env = dict(self.env, DATABASE_URL=self.owner_url if as_owner else self.app_url)
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=check,
            capture_output=True,
            text=True,
            input=input,
            timeout=300,
        )

    def shell(self, code: str) -> str:
        """Run Python inside the app (as the application role) and return its stdout."""
        return self.manage("shell", "-v", "0", "-c", code).stdout

    def start_server(
        self,
        *,
        workers: int = 2,
        threads: int = 4,
        env: dict | None = None,
        probe_path: str = "/accounts/login/",
        probe_headers: dict | None = None,
        timeout: int = 120,
    ) -> str:
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            str(timeout),
        ]
        log = tempfile.NamedTemporaryFile(
            prefix=f"{self.name}-server-",
            suffix=".log",  # noqa: SIM115
            delete=False,
        )
        self.server_log = Path(log.name)
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(self.env, DATABASE_URL=self.app_url, **(env or {})),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(proc)
        self.url = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                probe = urllib.request.Request(self.url + probe_path, headers=probe_headers or {})
                urllib.request.urlopen(probe, timeout=1)  # noqa: S310
                return self.url
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(self.server_log.read_text()) from None
                time.sleep(0.1)
        raise RuntimeError("live server did not start")

    def start_worker(self, *extra: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "-n",
                f"{self.name}@%h",
                *extra,
            ],
            cwd=ROOT,
            env=dict(self.env, DATABASE_URL=self.app_url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.processes.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.processes.clear()


def create_live_stack(
    *, broker_url: str = "", extra_env: dict | None = None, seeded: bool = False
) -> LiveStack:
    """Create and migrate a fresh database (``seeded``: with `manage.py seed_demo`'s data too).
    Call .stop() and drop_live_stack() when done.

    Under pytest (LIVE_TEMPLATE_RUN set by tests/conftest.py) the database is a copy of a
    template migrated, or seeded, once per test run: the same result without migrating and
    seeding again for every module. Outside pytest (benchmarks) it is migrated here."""
    owner = settings.DATABASES["default"]
    owner_user = os.environ.get("LIVE_OWNER_USER") or _owner_user()
    name = f"live_{uuid.uuid4().hex[:10]}"
    admin_url = database_url(owner, user=owner_user, name="postgres")
    stack = _stack(name, owner, owner_user, _environment(broker_url, extra_env))
    run = os.environ.get("LIVE_TEMPLATE_RUN")
    if run:
        template = _template(admin_url, run, seeded=seeded)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return stack
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    _migrate(stack)
    if seeded:
        stack.manage("seed_demo")
    return stack


def _environment(broker_url: str, extra_env: dict | None) -> dict:
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings",
        CELERY_BROKER_URL=broker_url,
        REDIS_URL="",
        PYTHONUNBUFFERED="1",
        DJANGO_TEST_FAST_HASHER="1",
        **(extra_env or {}),
    )


def _stack(name: str, owner: dict, owner_user: str, env: dict) -> LiveStack:
    return LiveStack(
        name=name,
        owner_url=database_url(owner, user=owner_user, name=name),
        app_url=database_url(owner, user=settings.DATABASE_APP_ROLE, name=name),
        env=env,
    )


def _migrate(stack: LiveStack) -> None:
    stack.manage("migrate", "--noinput", as_owner=True)
    allow_login(stack.owner_url, settings.DATABASE_APP_ROLE)


TEMPLATE_PREFIX = "live_tmpl_"


def _template(admin_url: str, run: str, *, seeded: bool) -> str:
    """The run's template database, built by the first process that asks (an advisory lock
    makes the others wait for it). Nothing connects to a template once built, as
    CREATE DATABASE ... TEMPLATE requires."""
    name = f"{TEMPLATE_PREFIX}{run}_{'seeded' if seeded else 'migrated'}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (name,))
        try:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                return name
            source = _template(admin_url, run, seeded=False) if seeded else None
            clause = f' TEMPLATE "{source}"' if source else ""
            conn.execute(f'CREATE DATABASE "{name}"{clause}')
            owner = settings.DATABASES["default"]
            owner_user = os.environ.get("LIVE_OWNER_USER") or _owner_user()
            builder = _stack(name, owner, owner_user, _environment("", None))
            try:
                if seeded:
                    builder.manage("seed_demo")
                else:
                    _migrate(builder)
            except BaseException:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                raise
            return name
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (name,))


def drop_live_templates(run: str) -> None:
    """At the end of a test run: its template databases."""
    admin_url = database_url(settings.DATABASES["default"], user=_owner_user(), name="postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        names = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s",
            (f"{TEMPLATE_PREFIX}{run}_%",),
        ).fetchall()
        for (name,) in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_live_stack(stack: LiveStack) -> None:
    stack.stop()
    admin_url = database_url(settings.DATABASES["default"], user=_owner_user(), name="postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{stack.name}" WITH (FORCE)')


@contextmanager
def live_stack(
    django_db_blocker,
    *,
    prepare: Callable[[LiveStack], object] | None = None,
    serve: bool = True,
    seeded: bool = False,
    **create_kwargs,
) -> Iterator[LiveStack]:
    """A live stack for a fixture: created (``seeded``: with the demo data), prepared
    (`prepare(stack)`: more data, workers...),
    served by default, and dropped afterwards even when preparing fails. The test database's
    blocker is lifted only for creating and dropping, which use the owner's connection."""
    with django_db_blocker.unblock():
        stack = create_live_stack(seeded=seeded, **create_kwargs)
    try:
        if prepare is not None:
            prepare(stack)
        if serve:
            stack.start_server()
        yield stack
    finally:
        with django_db_blocker.unblock():
            drop_live_stack(stack)


def _owner_user() -> str:
    """The owner's user name: recorded by tests/conftest.py before tests switch to the app role;
    outside pytest (benchmarks) the configured user is the owner."""
    try:
        from tests.conftest import OWNER
    except ImportError:
        OWNER = {}
    return OWNER.get("user") or settings.DATABASES["default"]["USER"]


# Fault injection (tests/analytics/test_fault_recovery.py, bench/drill.py).


def start_beat(stack: LiveStack, schedule: Path) -> subprocess.Popen:
    """Celery beat as its own process, as in production (compose's `beat` service)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "beat", "--schedule", str(schedule)],
        cwd=ROOT,
        env=dict(stack.env, DATABASE_URL=stack.app_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stack.processes.append(proc)
    return proc


def kill_hard(proc: subprocess.Popen) -> None:
    """kill -9: no shutdown code runs, no message is acknowledged or rejected."""
    proc.kill()
    proc.wait(10)


def start_redis_server(port: int | None = None) -> tuple[subprocess.Popen, str]:
    """A redis-server of one's own, in memory only; restarting it on the same port loses the
    queue, as a Redis without persistence does."""
    port = port or free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def backends_waiting_on(owner_url: str, table: str) -> int:
    """Sessions of this database waiting for a lock on `table` (e.g. a recompute blocked by a
    lock the test holds, so that it can be killed mid-way at a known point)."""
    with psycopg.connect(owner_url, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = %s AND NOT l.granted "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (table,),
        ).fetchone()[0]
