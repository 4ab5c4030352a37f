"""registry.api.import_ids.IdIndex: an import's ids in a PostgreSQL temporary table of its
own, numbered densely by first appearance, gone once the import ends, inside a transaction or
not."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from registry.api import import_ids
from registry.api.import_ids import IdIndex, Resolved

pytestmark = pytest.mark.django_db


def temporary_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = pg_my_temp_schema() "
            "AND relkind = 'r' AND relname LIKE 'import_ids_%%'"
        )
        return [name for (name,) in cursor.fetchall()]


def test_ids_are_numbered_densely_by_first_row_with_their_last_row(monkeypatch):
    monkeypatch.setattr(import_ids, "NOTE_ROWS", 3)  # several COPYs, an id across them
    monkeypatch.setattr(import_ids, "READ_IDS", 2)  # several chunks
    rows = ["B", "A", "B", "C", "A", "A", "D", "C", "E"]
    with IdIndex() as index:
        for number, rid in enumerate(rows, 1):
            index.note(rid, number)
        index.finish()
        assert [pair for chunk in index.chunks() for pair in chunk] == [
            (1, "B"),
            (2, "A"),
            (3, "C"),
            (4, "D"),
            (5, "E"),
        ]
        assert list(index.last_rows()) == [3, 6, 7, 8, 9]  # B, A, D, C, E
        index.resolve([Resolved(1, 41, None, False), Resolved(3, None, 7, True)])
        assert index.resolved(["A", "B", "C", "Z"]) == {
            "B": Resolved(1, 41, None, False),
            "C": Resolved(3, None, 7, True),
        }


def test_the_index_is_a_temporary_table_dropped_when_the_import_ends():
    with IdIndex() as index:
        index.note("MIL-0001", 1)
        index.finish()
        assert temporary_tables() == [index.table]
        with IdIndex() as other:  # a name of its own
            assert other.table != index.table
    assert temporary_tables() == []


def test_an_index_inside_a_transaction_rolled_back_leaves_nothing():
    # The Data Import Tool's preview: the import inside a transaction that rolls back.
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        with IdIndex() as index:
            index.note("MIL-0001", 1)
            index.finish()
            # bound to roll back (no query may run, a drop would fail): the exit tries none
            transaction.set_rollback(True)
        raise ZeroDivisionError
    assert temporary_tables() == []
    with IdIndex() as index:  # the connection still serves the next import
        index.finish()
        assert list(index.chunks()) == []
