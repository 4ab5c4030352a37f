"""The export pauses automatic garbage collection while it builds a block of CSV, and only then:
the collector runs whenever a chunk is handed out, after a client disconnects, after an error,
and a collector someone else disabled stays disabled."""

from __future__ import annotations

import gc
import threading
from unittest import mock

import pytest

from registry.exports.collector import collection_paused
from registry.exports.csvfile import ExportCounts, iter_flat_csv
from registry.exports.options import ExportOptions
from registry.exports.rows import RowBuilder
from registry.exports.stream import iter_bundles
from registry.models import Record
from registry.services.dictionary import current_dictionary_version
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture


@pytest.fixture(autouse=True)
def _collector_enabled():
    assert gc.isenabled()
    yield
    enabled = gc.isenabled()
    gc.enable()  # whatever a failing test left, the rest of the run collects
    assert enabled


def test_paused_inside_and_resumed_after_the_block_and_after_an_error():
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), collection_paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled():
    gc.disable()
    try:
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_nested_and_on_two_threads_resumed_when_the_last_leaves():
    with collection_paused():
        with collection_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()

    entered, leave = threading.Event(), threading.Event()

    def other_export():
        with collection_paused():
            entered.set()
            leave.wait(5)

    thread = threading.Thread(target=other_export)
    with collection_paused():
        thread.start()
        assert entered.wait(5)
    assert not gc.isenabled()  # the other thread is still inside
    leave.set()
    thread.join(5)
    assert gc.isenabled()


def _export(**options):
    options = ExportOptions(locked_only=False, **options)
    builder = RowBuilder(current_dictionary_version(), options)
    records = Record.objects.filter(deleted_at__isnull=True)
    chunks = iter_flat_csv(
        iter_bundles(records, chunk_size=1), builder, options, counts=ExportCounts()
    )
    return builder, chunks


def _recording(builder: RowBuilder) -> list[bool]:
    """Whether the collector was enabled each time a record's rows were built."""
    seen = []
    build = builder.rows

    def rows(bundle):
        seen.append(gc.isenabled())
        return build(bundle)

    builder.rows = rows
    return seen


@pytest.mark.django_db
def test_rows_are_built_paused_and_every_chunk_is_handed_out_with_the_collector_on(dataset):
    builder, chunks = _export()
    seen = _recording(builder)
    with mock.patch("registry.exports.csvfile.FLUSH_ROWS", 1):
        handed_out = []
        for chunk in chunks:
            handed_out.append(gc.isenabled())
            assert chunk is not None
    assert len(seen) == Record.objects.filter(deleted_at__isnull=True).count() >= 4
    assert seen == [False] * len(seen)
    assert handed_out == [True] * len(handed_out) and len(handed_out) > len(seen)


@pytest.mark.django_db
def test_a_client_that_disconnects_leaves_the_collector_on(dataset):
    builder, chunks = _export()
    with mock.patch("registry.exports.csvfile.FLUSH_ROWS", 1):
        assert next(chunks)
        assert gc.isenabled()
        chunks.close()
    assert gc.isenabled()
    del chunks  # an abandoned export, never closed, is the same: paused only inside a block


@pytest.mark.django_db
def test_an_error_while_building_leaves_the_collector_on(dataset):
    builder, chunks = _export()
    calls = []

    def fail(bundle):
        calls.append(gc.isenabled())
        raise RuntimeError("a row that cannot be built")

    builder.rows = fail
    with pytest.raises(RuntimeError):
        list(chunks)
    assert calls == [False]
    assert gc.isenabled()
