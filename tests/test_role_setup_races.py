"""Parallel test processes set up the application role at once on a fresh cluster (roles are
cluster-wide, each process migrates its own database): neither the migration's CREATE ROLE
nor allow_login's ALTER ROLE may fail because another process did the same a moment before."""

from __future__ import annotations

import importlib
import threading
import uuid

import psycopg
import pytest
from django.db import connection

from config.database_urls import allow_login, database_url
from tests.conftest import OWNER

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("registry.migrations.0002_integrity_triggers")


@pytest.fixture
def owner_url() -> str:
    return database_url(connection.settings_dict, user=OWNER["user"] or None)


@pytest.fixture
def role(owner_url):
    name = f"registry_race_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def test_a_create_role_racing_another_leaves_one_role_and_no_error(owner_url, role):
    create = MIGRATION.CREATE_ROLE_SQL.format(role=role)
    first = psycopg.connect(owner_url)
    first.execute(create)  # not committed yet: the second waits on the catalog's unique index
    outcome: list = []

    def second() -> None:
        try:
            with psycopg.connect(owner_url, autocommit=True) as conn:
                conn.execute(create)
            outcome.append("ok")
        except psycopg.Error as exc:  # what a bare CREATE ROLE raised here
            outcome.append(exc.sqlstate)

    waiting = threading.Thread(target=second)
    waiting.start()
    waiting.join(0.5)
    assert waiting.is_alive()  # it really waited for the first
    first.commit()
    first.close()
    waiting.join(10)
    assert outcome == ["ok"]
    with psycopg.connect(owner_url) as conn:
        found = conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", [role])
        assert found.fetchone() == (1,)


def test_allow_login_from_many_processes_on_two_databases_at_once(owner_url, role):
    """A smoke test: whether two ALTER ROLEs meet is up to the scheduler, so this passes most
    of the time without the retry too; the retry's reason is in allow_login's comment."""
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(MIGRATION.CREATE_ROLE_SQL.format(role=role))
    other = database_url(connection.settings_dict, user=OWNER["user"] or None, name="postgres")
    errors: list = []

    def login(url: str) -> None:
        try:
            allow_login(url, role)
        except psycopg.Error as exc:
            errors.append(exc)

    threads = [threading.Thread(target=login, args=(url,)) for url in [owner_url, other] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with psycopg.connect(owner_url) as conn:
        found = conn.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", [role])
        assert found.fetchone() == (True,)
