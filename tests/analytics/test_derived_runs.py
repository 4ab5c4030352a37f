"""The derived records are kept in runs with the per-process cache: a recompute after a lock
sorts only the run the record joins and hands the others on as the same tuples, which the
headline's columns reuse without walking every record into runs again."""

from __future__ import annotations

from analytics import columns, services
from analytics.derived import DerivedCache
from registry.services.locking import unlock_record


def test_a_lock_or_an_unlock_sorts_and_builds_only_its_run(make_records, people, monkeypatch):
    monkeypatch.setattr(services, "CACHE", DerivedCache())
    make_records(2)  # MIL-0001.. (the on-commit recompute does not run here)
    make_records(2, centre="BOL")
    first = services.load_dataset()
    assert [[r.record_id for r in run] for run in first.record_runs] == [
        ["BOL-0001", "BOL-0002"],
        ["MIL-0001", "MIL-0002"],
    ]
    assert columns.SORT_WORK["runs_sorted"] == 2
    services.compute_headline(first)
    assert columns.WORK["runs_built"] == 2

    walks = []

    def walked(records):
        walks.append(1)
        return real_runs(records)

    real_runs = columns.runs
    monkeypatch.setattr(columns, "runs", walked)
    monkeypatch.setattr(services, "runs", walked)
    (third,) = make_records(1)
    locked = services.load_dataset()
    assert locked.loaded_now == 1 and columns.SORT_WORK["runs_sorted"] == 1
    assert locked.record_runs[0] is first.record_runs[0]  # BOL's run: the same tuple
    assert [r.record_id for r in locked.records] == [
        "BOL-0001",
        "BOL-0002",
        "MIL-0001",
        "MIL-0002",
        "MIL-0003",
    ]
    results, _ = services.compute_headline(locked)
    assert columns.WORK["runs_built"] == 1 and results["n_patients"] == 5
    snapshot = services.compute_snapshot()  # the worker's task: stored, records stored after it
    assert snapshot.n_locked_records == 5 and columns.WORK["runs_built"] == 0
    assert not walks  # the records were not walked into runs again

    unlock_record(user=people["dm"], record=third, reason="correct a date")
    unlocked = services.load_dataset()
    assert unlocked.loaded_now == 0 and columns.SORT_WORK["runs_sorted"] == 1
    assert unlocked.record_runs[0] is first.record_runs[0]
    assert [r.record_id for r in unlocked.records] == [
        "BOL-0001",
        "BOL-0002",
        "MIL-0001",
        "MIL-0002",
    ]
    assert services.load_dataset().record_runs == unlocked.record_runs
    assert columns.SORT_WORK["runs_sorted"] == 0


def test_a_load_that_fails_halfway_leaves_no_record_out_of_the_runs(make_records, monkeypatch):
    from analytics import derived

    monkeypatch.setattr(services, "CACHE", DerivedCache())
    make_records(3)
    real = derived.derive_record
    calls = []

    def failing(*args):
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("the connection dropped while reading")
        return real(*args)

    monkeypatch.setattr(derived, "derive_record", failing)
    try:
        services.load_dataset()
    except ConnectionError:
        pass
    else:
        raise AssertionError("the load did not fail")
    monkeypatch.setattr(derived, "derive_record", real)
    loaded = services.load_dataset()  # the task's retry, in the same process
    assert [r.record_id for r in loaded.records] == ["MIL-0001", "MIL-0002", "MIL-0003"]
    assert [r.record_id for run in loaded.record_runs for r in run] == [
        "MIL-0001",
        "MIL-0002",
        "MIL-0003",
    ]
