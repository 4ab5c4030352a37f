"""The export's read-ahead: a thread reads the dataset a few chunks ahead of the CSV writer.
All items in order, memory bounded, an early stop (a client that disconnects) ends the thread
and closes the source in it, and an error in the source (the database) is raised, not hung on."""

from __future__ import annotations

import threading
from unittest import mock

import psycopg
import pytest
from django.db import connection, connections

from registry.exports import stream
from registry.exports.csvfile import ExportCounts, iter_flat_csv
from registry.exports.options import ExportOptions
from registry.exports.readahead import ReadAhead
from registry.exports.rows import RowBuilder
from registry.exports.stream import iter_bundles
from registry.models import Record
from registry.services.dictionary import current_dictionary_version
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture


class Source:
    """A generator's protocol, recording how far it was read, where it was closed."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at = n, fail_at
        self.produced = 0
        self.closed_in: threading.Thread | None = None

    def __iter__(self):
        return self._items()

    def _items(self):
        try:
            for i in range(self.n):
                if i == self.fail_at:
                    raise ValueError("the database went away")
                self.produced += 1
                yield i
        finally:
            self.closed_in = threading.current_thread()


def test_every_item_in_order():
    source = Source(5000)
    reader = ReadAhead(iter(source), depth=3)
    assert list(reader) == list(range(5000))
    assert not reader._thread.is_alive()
    assert source.closed_in is reader._thread


def test_an_early_stop_ends_the_thread_and_closes_the_source_in_it():
    source = Source(100_000)
    reader = ReadAhead(iter(source), depth=2)
    assert [next(reader) for _ in range(3)] == [0, 1, 2]
    reader.close()
    assert not reader._thread.is_alive()
    assert source.closed_in is reader._thread  # a cursor is closed by the thread that used it
    assert source.produced <= 3 + 2 + 1  # read ahead by at most the queue and one in hand
    assert list(reader) == []


def test_an_abandoned_reader_is_stopped_when_collected():
    source = Source(100_000)
    reader = ReadAhead(iter(source), depth=2)
    next(reader)
    thread = reader._thread
    del reader
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert source.closed_in is thread


def test_an_error_in_the_source_is_raised_in_the_consumer():
    source = Source(10, fail_at=4)
    reader = ReadAhead(iter(source), depth=2)
    got = []
    with pytest.raises(ValueError, match="went away"):
        for item in reader:
            got.append(item)
    assert got == [0, 1, 2, 3]
    assert not reader._thread.is_alive()


def _export_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "export-reader" and t.is_alive()]


@pytest.mark.django_db
def test_bundles_come_in_record_id_byte_order_with_every_row(dataset):
    """One record a chunk: several batches, each record with all its rows, as the ORM reads."""
    records = Record.objects.filter(deleted_at__isnull=True)
    bundles = list(iter_bundles(records, chunk_size=1))
    ids = [b.record_id for b in bundles]
    assert len(ids) == records.count() >= 4
    assert ids == sorted(ids, key=lambda s: s.encode())
    for bundle in bundles:
        assert bundle.rows == stored_rows(bundle.pk)
    assert not _export_threads()


@pytest.mark.django_db
def test_a_client_that_disconnects_stops_the_reader(dataset):
    """A streamed response closes its iterator when the client goes away."""
    options = ExportOptions(locked_only=False)
    builder = RowBuilder(current_dictionary_version(), options)
    records = Record.objects.filter(deleted_at__isnull=True)
    chunks = iter_flat_csv(
        iter_bundles(records, chunk_size=1), builder, options, counts=ExportCounts()
    )
    with mock.patch("registry.exports.csvfile.FLUSH_ROWS", 1):
        assert next(chunks)
        assert _export_threads()
        chunks.close()
    assert not _export_threads()
    with connection.cursor() as cursor:  # the connection is usable, the cursors gone
        cursor.execute("SELECT count(*) FROM pg_cursors")
        assert cursor.fetchone() == (0,)


@pytest.mark.django_db
def test_a_database_error_is_raised_not_waited_on(dataset):
    records = Record.objects.extra(where=["1 / (registry_record.id - registry_record.id) = 1"])
    with pytest.raises(psycopg.errors.DivisionByZero):
        list(iter_bundles(records))
    assert not _export_threads()


@pytest.mark.django_db
def test_outside_a_transaction_one_snapshot_on_a_connection_of_its_own():
    """Outside a transaction the two queries share one read-only REPEATABLE READ snapshot on
    a connection of the export's own, closed at the end (the caller's is left alone)."""
    opened = []
    real_connect = psycopg.connect

    def connect(*args, **kwargs):
        opened.append(real_connect(*args, **kwargs))
        return opened[-1]

    wrapper = connections["default"]
    wrapper.ensure_connection()
    in_atomic_block, wrapper.in_atomic_block = wrapper.in_atomic_block, False  # as outside one
    try:
        with (
            mock.patch.object(wrapper, "get_autocommit", return_value=True),
            mock.patch.object(stream.psycopg, "connect", connect),
            stream._reading_connection() as conn,
        ):
            assert conn is opened[0] and conn is not connection.connection
            isolation, read_only = conn.execute(
                "SELECT current_setting('transaction_isolation'), "
                "current_setting('transaction_read_only')"
            ).fetchone()
            assert (isolation, read_only) == ("repeatable read", "on")
    finally:
        wrapper.in_atomic_block = in_atomic_block
    assert opened[0].closed
    assert not connection.connection.closed


def test_the_reader_thread_is_a_daemon():
    """A reader left blocked can never keep the worker process from exiting."""
    reader = ReadAhead(iter(Source(10)), depth=1)
    assert reader._thread.daemon
    reader.close()


@pytest.mark.django_db
@pytest.mark.parametrize("chunk_size", [1, 1000])
def test_a_record_with_a_float_is_decoded_alone_in_its_chunk(dataset, chunk_size):
    """A chunk is decoded at once by orjson when all its data are plain; one record holding a
    float sends that record (only) to the standard library, and every record keeps its rows
    and its plain flag, as one record a chunk."""
    from registry.fastjson import all_plain
    from registry.models import InstrumentData

    live = InstrumentData.objects.filter(deleted_at__isnull=True, record__is_locked=False)
    row = live.order_by("pk").first()
    InstrumentData.objects.filter(pk=row.pk).update(data={**row.data, "x_float": 1e-05})
    records = Record.objects.filter(deleted_at__isnull=True)
    bundles = list(iter_bundles(records, chunk_size=chunk_size))
    assert len(bundles) == records.count() >= 4
    for bundle in bundles:
        expected = stored_rows(bundle.pk)
        assert bundle.rows == expected
        assert bundle.plain == all_plain([data for *_, data in expected])
        assert bundle.plain == (bundle.pk != row.record_id)


def stored_rows(record_pk: int) -> list[list]:
    """A record's live rows as an export bundle holds them, read through the ORM."""
    stored = Record.objects.get(pk=record_pk).instruments.filter(deleted_at__isnull=True)
    return [
        [i.instrument, i.instance, i.status, i.data]
        for i in stored.order_by("instrument", "instance")
    ]
