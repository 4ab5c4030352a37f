"""The record ids of one import, kept on disk so that what an import holds in memory does not
grow with its number of records.

`IdIndex`: each id of the import, in the order it first appears, with the number of its last
row and, once resolved, what it stands for; a private SQLite database in a temporary file (its
page cache stays at SQLite's default 2 MB). `WrittenIds`: the ids written, in order, spooled
for the answer (REDCap's returnContent=ids and auto_ids list every one of them).
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Iterator
from typing import NamedTuple, Self

NOTE_ROWS = 2000  # rows noted per insert
READ_IDS = 5000  # ids read back per query
KEEP_FIRST = 1000  # written ids kept in memory for the audit and error messages


class Resolved(NamedTuple):
    """What an import id stands for, before any value is read."""

    order: int  # the record's place in the import (from 1, by its first row)
    record_pk: int | None  # an existing record
    center_pk: int | None  # a new record's centre
    planned: bool  # a new record that must get the id the import gives it


class IdIndex:
    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # "": private, on disk, deleted when closed
        self.db.executescript(
            """
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            CREATE TABLE ids (
                ord INTEGER PRIMARY KEY, rid TEXT NOT NULL UNIQUE, last_row INTEGER NOT NULL,
                resolved INTEGER NOT NULL DEFAULT 0, record_pk INTEGER, center_pk INTEGER,
                planned INTEGER NOT NULL DEFAULT 0
            );
            """
        )
        self.notes: list[tuple[str, int]] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.db.close()

    def note(self, rid: str, row: int) -> None:
        """The id's row ``row``; rows are noted in increasing order."""
        self.notes.append((rid, row))
        if len(self.notes) >= NOTE_ROWS:
            self._flush()

    def finish(self) -> None:
        """Every row noted: ready to be read."""
        self._flush()
        self.db.execute("CREATE INDEX ids_last_row ON ids (last_row)")

    def _flush(self) -> None:
        # a new id takes the next ord (max + 1): ords count the ids in order of first appearance
        self.db.executemany(
            "INSERT INTO ids (rid, last_row) VALUES (?, ?) "
            "ON CONFLICT (rid) DO UPDATE SET last_row = excluded.last_row",
            self.notes,
        )
        self.notes = []

    def chunks(self) -> Iterator[list[tuple[int, str]]]:
        """(order, id) of every id, in order, READ_IDS at a time."""
        after = 0
        while True:
            chunk = self.db.execute(
                "SELECT ord, rid FROM ids WHERE ord > ? ORDER BY ord LIMIT ?", (after, READ_IDS)
            ).fetchall()
            if not chunk:
                return
            yield chunk
            after = chunk[-1][0]

    def last_rows(self) -> Iterator[int]:
        """The number of each id's last row, in increasing order."""
        after = 0
        while True:
            chunk = self.db.execute(
                "SELECT last_row FROM ids WHERE last_row > ? ORDER BY last_row LIMIT ?",
                (after, READ_IDS),
            ).fetchall()
            if not chunk:
                return
            for (row,) in chunk:
                yield row
            after = chunk[-1][0]

    def resolve(self, found: list[Resolved]) -> None:
        self.db.executemany(
            "UPDATE ids SET resolved = 1, record_pk = ?, center_pk = ?, planned = ? WHERE ord = ?",
            [(r.record_pk, r.center_pk, r.planned, r.order) for r in found],
        )

    def resolved(self, rids: list[str]) -> dict[str, Resolved]:
        """What each of ``rids`` stands for; an id refused by the resolution is left out."""
        marks = ",".join("?" * len(rids))
        rows = self.db.execute(
            "SELECT rid, ord, record_pk, center_pk, planned FROM ids "
            f"WHERE resolved = 1 AND rid IN ({marks})",  # noqa: S608 - only placeholders
            rids,
        )
        return {rid: Resolved(order, pk, center, bool(p)) for rid, order, pk, center, p in rows}


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
