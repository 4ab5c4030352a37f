"""The record ids of one import, kept out of memory so that what an import holds does not grow
with its number of records.

`IdIndex`: each id of the import, in the order it first appears, with the number of its last
row and, once resolved, what it stands for; a PostgreSQL temporary table on the import's own
connection (one database engine everywhere), filled with COPY and read back in chunks.
`WrittenIds`: the ids written, in order, spooled for the answer (REDCap's returnContent=ids and
auto_ids list every one of them).
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Iterator
from typing import NamedTuple, Self

from django.db import DatabaseError, connection

NOTE_ROWS = 2000  # rows noted per COPY
READ_IDS = 5000  # ids read back per query
KEEP_FIRST = 1000  # written ids kept in memory for the audit and error messages
SHOWN_IDS = 20  # ids named in a message


class Resolved(NamedTuple):
    """What an import id stands for, before any value is read."""

    order: int  # the record's place in the import (from 1, by its first row)
    record_pk: int | None  # an existing record
    center_pk: int | None  # a new record's centre
    planned: bool  # a new record that must get the id the import gives it


class IdIndex:
    """Two temporary tables with names of their own (a connection kept with CONN_MAX_AGE may
    serve other imports): the rows noted, one line each (COPY cannot merge an id's rows, and
    copying then grouping once is about 3x cheaper than merging as they come), then in
    `finish` the ids, numbered 1, 2, ... by their first row.

    Created, used and dropped within the plan's one transaction (record_import), before any
    write batch begins, so they stay on one server connection (behind a pooler in transaction
    mode too) and no batch's rollback can touch them; dropped on exit, unless the transaction
    is already bound to roll back, which removes them anyway."""

    def __init__(self) -> None:
        name = f"import_ids_{uuid.uuid4().hex}"
        self.table, self.rows_table = name, f"{name}_rows"
        self._execute(
            f"CREATE TEMP TABLE {self.rows_table} (rid text NOT NULL, row integer NOT NULL) "
            "ON COMMIT PRESERVE ROWS"
        )
        self.notes: list[tuple[str, int]] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if connection.needs_rollback:
            return
        try:
            self._execute(f"DROP TABLE IF EXISTS {self.rows_table}, {self.table}")
        except DatabaseError:
            if exc_type is None:
                raise  # else the import's own error is the one to see

    def note(self, rid: str, row: int) -> None:
        """The id's row ``row``; rows are noted in increasing order."""
        self.notes.append((rid, row))
        if len(self.notes) >= NOTE_ROWS:
            self._flush()

    def finish(self) -> None:
        """Every row noted: ready to be read."""
        self._flush()
        for statement in (
            f"CREATE TEMP TABLE {self.table} ON COMMIT PRESERVE ROWS AS "
            "SELECT row_number() OVER (ORDER BY min(row))::integer AS ord, rid, "
            "max(row) AS last_row, false AS resolved, NULL::bigint AS record_pk, "
            "NULL::bigint AS center_pk, false AS planned "
            f"FROM {self.rows_table} GROUP BY rid",
            f"DROP TABLE {self.rows_table}",
            f"ALTER TABLE {self.table} ADD PRIMARY KEY (ord)",
            f"CREATE UNIQUE INDEX ON {self.table} (rid)",
            f"CREATE INDEX ON {self.table} (last_row)",
            f"ANALYZE {self.table}",  # temporary tables are never analysed by autovacuum
        ):
            self._execute(statement)

    def _flush(self) -> None:
        if self.notes:
            with connection.cursor() as cursor:
                with cursor.copy(f"COPY {self.rows_table} (rid, row) FROM STDIN") as copy:
                    for note in self.notes:
                        copy.write_row(note)
        self.notes = []

    def chunks(self) -> Iterator[list[tuple[int, str]]]:
        """(order, id) of every id, in order, READ_IDS at a time."""
        after = 0
        while chunk := self._fetch(
            f"SELECT ord, rid FROM {self.table} WHERE ord > %s ORDER BY ord LIMIT %s",
            [after, READ_IDS],
        ):
            yield chunk
            after = chunk[-1][0]

    def last_rows(self) -> Iterator[int]:
        """The number of each id's last row, in increasing order."""
        after = 0
        while chunk := self._fetch(
            f"SELECT last_row FROM {self.table} WHERE last_row > %s ORDER BY last_row LIMIT %s",
            [after, READ_IDS],
        ):
            for (row,) in chunk:
                yield row
            after = chunk[-1][0]

    def resolve(self, found: list[Resolved]) -> None:
        if not found:
            return
        self._execute(
            f"UPDATE {self.table} AS ids SET resolved = true, record_pk = u.record_pk, "
            "center_pk = u.center_pk, planned = u.planned "
            "FROM unnest(%s::integer[], %s::bigint[], %s::bigint[], %s::boolean[]) "
            "AS u (ord, record_pk, center_pk, planned) WHERE ids.ord = u.ord",
            [[getattr(r, column) for r in found] for column in Resolved._fields],
        )

    def resolved(self, rids: list[str]) -> dict[str, Resolved]:
        """What each of ``rids`` stands for; an id refused by the resolution is left out."""
        rows = self._fetch(
            f"SELECT rid, ord, record_pk, center_pk, planned FROM {self.table} "
            "WHERE resolved AND rid = ANY(%s::text[])",
            [rids],
        )
        return {
            rid: Resolved(order, pk, center, planned) for rid, order, pk, center, planned in rows
        }

    @staticmethod
    def _execute(sql: str, params: list | None = None) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    @staticmethod
    def _fetch(sql: str, params: list) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


def listed_ids(first: list[str], count: int) -> str:
    """The first written ids for a message: "MIL-0004, MIL-0005, ..." (SHOWN_IDS at most)."""
    return ", ".join(first[:SHOWN_IDS]) + (", ..." if count > SHOWN_IDS else "")


class WrittenIds:
    """The records an import wrote, in order: each new id with the id the import gave."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.count = 0
        self.first: list[str] = []  # the first KEEP_FIRST ids

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()

    def add(self, record_id: str, given_id: str) -> None:
        self.file.write(json.dumps([record_id, given_id]) + "\n")
        self.count += 1
        if len(self.first) < KEEP_FIRST:
            self.first.append(record_id)

    def ids(self) -> Iterator[str]:
        for record_id, _given in self._pairs():
            yield record_id

    def auto_ids(self) -> Iterator[str]:
        """forceAutoNumber's answer: "new id,id given" each."""
        for record_id, given in self._pairs():
            yield f"{record_id},{given}"

    def _pairs(self) -> Iterator[tuple[str, str]]:
        self.file.flush()
        self.file.seek(0)
        for line in self.file:
            yield tuple(json.loads(line))
        self.file.seek(0, 2)  # further ids are added at the end
