"""config.prepared_statements: the constant statements every request runs are prepared once per
connection, and otherwise behave as Django's own cursor (errors, query log, transactions)."""

from __future__ import annotations

import pytest
from django.db import DEFAULT_DB_ALIAS, DataError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from centers.backends import RegistryBackend
from config.prepared_statements import _wrapped_cursor, prepared_cursor
from registry.models import Record
from registry.services.records import create_record
from tests import factories

pytestmark = pytest.mark.django_db

ONE_PLUS = "SELECT %s::int + 1"


def _prepared(prefix: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            [prefix + "%"],
        )
        return cursor.fetchall()


def test_a_statement_is_prepared_once_and_reused():
    for n in range(3):
        with prepared_cursor() as cursor:
            cursor.execute(ONE_PLUS, [n])
            assert cursor.fetchone() == (n + 1,)
    [(statement, executions)] = _prepared("SELECT $1::int + 1")
    assert executions == 3


def test_the_record_and_user_reads_are_prepared():
    factories.gi_lms_dictionary()
    mil = factories.six_centers()["MIL"]
    coordinator = factories.coordinator(mil)
    record = create_record(user=factories.data_manager(), center=mil)
    for _ in range(2):
        assert Record.objects.visible_with_rows(coordinator, record.record_id)[0].pk == record.pk
        assert RegistryBackend().get_user(coordinator.pk).preloaded_memberships[0].center == mil
    assert [n for _, n in _prepared('SELECT r."id", r."record_id"')] == [2]
    assert [n for _, n in _prepared("\nSELECT u.")] == [2]


def test_the_query_log_shows_the_statement_with_its_values():
    with CaptureQueriesContext(connection) as queries, prepared_cursor() as cursor:
        cursor.execute(ONE_PLUS, [41])
    assert queries[0]["sql"] == "SELECT 41::int + 1"


def test_errors_are_djangos_and_a_rolled_back_transaction_leaves_the_statement_usable():
    with pytest.raises(DataError), transaction.atomic(), prepared_cursor() as cursor:
        cursor.execute("SELECT 1 / %s::int", [0])
    for attempt in range(2):
        with pytest.raises(DataError), transaction.atomic(), prepared_cursor() as cursor:
            cursor.execute(ONE_PLUS, [attempt])  # prepared inside the transaction
            cursor.execute("SELECT 1 / %s::int", [0])
    with prepared_cursor() as cursor:
        cursor.execute(ONE_PLUS, [1])
        assert cursor.fetchone() == (2,)


def test_one_cursor_per_connection_is_reused_and_a_new_connection_gets_its_own():
    with prepared_cursor() as first:
        kept = first.cursor._cursor
    with prepared_cursor() as second:
        assert second.cursor._cursor is kept
        second.execute(ONE_PLUS, [1])
        assert second.fetchone() == (2,)
    other = connections.create_connection(DEFAULT_DB_ALIAS)  # outside the test's transaction
    try:
        with _wrapped_cursor(other) as cursor:
            before = cursor.cursor._cursor
            assert before is not kept
        other.close()
        with _wrapped_cursor(other) as cursor:
            assert cursor.cursor._cursor is not before
            cursor.execute(ONE_PLUS, [2])
            assert cursor.fetchone() == (3,)
    finally:
        other.close()
