"""The headline's columns and the analysis dataset are built per run of records and reused at
the next recompute: whatever records come and go, they are what one pass over the records
gives, in the records' order."""

from __future__ import annotations

import gzip
import random
from collections import Counter
from itertools import chain
from types import SimpleNamespace

from analytics import analysis_dataset, columns, endpoints
from analytics.analysis_dataset import DATASET_COLUMNS, analysis_dataset_gz
from analytics.columns import endpoint_columns, headline_columns, runs
from analytics.endpoints import Exclusion, Observation, dataset_hash, runs_hash

CONFIG = {
    "endpoints": [{"key": "os", "label": "OS"}, {"key": "dfs", "label": "DFS"}],
    "subgroups": [{"key": "stage"}, {"key": "centre"}],
}


def fake_records(n: int, seed: int = 7) -> list[SimpleNamespace]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        rid = f"{rng.choice(['BOL', 'MIL'])}-{i:06d}"
        outcomes = {}
        for key in ("os", "dfs"):
            roll = rng.random()
            if roll < 0.7:
                outcomes[key] = Observation(rid, rid[:3], rng.uniform(0, 200), rng.randint(0, 1))
            elif roll < 0.85:
                outcomes[key] = Exclusion(rid, "date missing")
            else:
                outcomes[key] = None
        groups = {"stage": rng.choice(["Localized", "Metastatic", None]), "centre": rid[:3]}
        csv = f"{rid},{rng.random()}\n"
        counts = frozenset(rng.sample(["relapse", "salvage", "ned"], rng.randint(0, 2)))
        records.append(
            SimpleNamespace(
                record_id=rid,
                centre=rid[:3],
                counts=counts,
                outcomes=outcomes,
                groups=groups,
                csv=csv,
            )
        )
    return sorted(records, key=lambda r: r.record_id)


def one_pass(records):
    out = {}
    for key in ("os", "dfs"):
        found = [r.outcomes[key] for r in records if isinstance(r.outcomes[key], Observation)]
        excluded = [r.outcomes[key] for r in records if isinstance(r.outcomes[key], Exclusion)]
        groups = {
            sg: [r.groups.get(sg) for r in records if isinstance(r.outcomes[key], Observation)]
            for sg in ("stage", "centre")
        }
        out[key] = (found, excluded, groups)
    return out


def test_columns_and_dataset_are_one_pass_over_any_selection():
    records = fake_records(1500)
    selections = [
        records[:-2],
        records[:-1],  # a lock: one record more
        records[:700] + records[701:],  # an unlock in the middle
        records,
        records[400:401],
        [],
    ]
    for selection in selections:
        endpoints, groups = endpoint_columns(selection, CONFIG)
        for key, (found, excluded, by_group) in one_pass(selection).items():
            data = endpoints[key]
            # the observations are in the columns only: no list of 100,000 objects to build
            assert data.n_observed == len(found) and data.excluded == excluded
            assert data.population == len(found) + len(excluded)
            assert data.columns["time"].tolist() == [o.time_months for o in found]
            assert data.columns["event"].dtype == float
            assert data.columns["event"].tolist() == [float(o.event) for o in found]
            for sg, expected in by_group.items():
                assert data.columns[sg].tolist() == expected
        assert groups["stage"].tolist() == [r.groups["stage"] for r in selection]
        text = gzip.decompress(analysis_dataset_gz(selection)).decode()
        assert text == ",".join(DATASET_COLUMNS) + "\n" + "".join(r.csv for r in selection)


def test_a_changed_record_is_not_served_from_the_reused_runs():
    records = fake_records(300)
    endpoint_columns(records, CONFIG)
    analysis_dataset_gz(records)
    changed = list(records)
    old = changed[150]
    changed[150] = SimpleNamespace(
        record_id=old.record_id,
        centre="MIL",
        counts=frozenset(),
        outcomes={"os": Observation(old.record_id, "MIL", 1.5, 1), "dfs": None},
        groups={"stage": "Metastatic", "centre": "MIL"},
        csv=f"{old.record_id},changed\n",
    )
    endpoints, _ = endpoint_columns(changed, CONFIG)
    expected = one_pass(changed)
    at = [o.record_id for o in expected["os"][0]].index(old.record_id)
    assert endpoints["os"].columns["time"][at] == 1.5
    assert endpoints["os"].columns["stage"][at] == "Metastatic"
    assert endpoints["dfs"].n_observed == len(expected["dfs"][0])
    assert endpoints["dfs"].columns["time"].tolist() == [o.time_months for o in expected["dfs"][0]]
    assert f"{old.record_id},changed" in gzip.decompress(analysis_dataset_gz(changed)).decode()


def test_columns_spliced_from_the_last_recompute_are_one_pass_through_random_edits():
    """Locks, unlocks and changes anywhere (several at once too): the columns kept from the
    last recompute, with the changed runs spliced in, are what one pass gives each time."""
    rng = random.Random(11)
    pool = fake_records(3000, seed=5)
    current = sorted(rng.sample(pool, 1200), key=lambda r: r.record_id)
    for _ in range(40):
        for _ in range(rng.choice([1, 1, 1, 3])):
            roll = rng.random()
            if roll < 0.5:
                current.append(rng.choice(pool))  # a lock (perhaps of one already in)
            elif roll < 0.8 and current:
                current.pop(rng.randrange(len(current)))  # an unlock
            elif current:
                at = rng.randrange(len(current))  # a change: a new object, same id
                old = current[at]
                current[at] = SimpleNamespace(**vars(old))
        current = sorted({r.record_id: r for r in current}.values(), key=lambda r: r.record_id)
        endpoints, groups = endpoint_columns(current, CONFIG)
        for key, (found, excluded, by_group) in one_pass(current).items():
            data = endpoints[key]
            assert data.n_observed == len(found) and data.excluded == excluded
            assert data.columns["time"].tolist() == [o.time_months for o in found]
            assert data.columns["event"].tolist() == [float(o.event) for o in found]
            for sg, expected in by_group.items():
                assert data.columns[sg].tolist() == expected
        assert groups["centre"].tolist() == [r.groups["centre"] for r in current]
        totals = headline_columns(current, CONFIG)
        assert totals.centres == dict(sorted(Counter(r.centre for r in current).items()))
        expected = Counter(chain.from_iterable(r.counts for r in current))
        assert {k: n for k, n in totals.counts.items() if n} == expected


def test_a_lock_walks_and_concatenates_only_the_run_it_joins():
    """The reuse itself, not only its results: after a recompute, one more record (or one
    changed record) builds and splices one run of about a hundred, not every run again."""
    pool = fake_records(3000, seed=3)
    selection = pool[:1500] + pool[1501:]
    endpoint_columns(selection, CONFIG)
    n_runs = len(list(runs(selection)))
    assert n_runs > 20
    assert columns.WORK == {"runs_built": n_runs, "runs_joined": n_runs, "runs_tallied": n_runs}
    endpoint_columns(pool, CONFIG)  # a lock in the middle: its run out, its run with it in
    assert columns.WORK == {"runs_built": 1, "runs_joined": 1, "runs_tallied": 2}
    changed = list(pool)
    changed[10] = SimpleNamespace(**vars(pool[10]))  # an unlock and a new lock near the start
    endpoints, _ = endpoint_columns(changed, CONFIG)
    assert columns.WORK == {"runs_built": 1, "runs_joined": 1, "runs_tallied": 2}
    assert endpoint_columns(changed, CONFIG)[0]["os"].n_observed == endpoints["os"].n_observed
    assert columns.WORK == {"runs_built": 0, "runs_joined": 0, "runs_tallied": 0}


def test_the_kept_columns_cannot_be_changed_by_their_readers():
    records = fake_records(200)
    endpoints, groups = endpoint_columns(records, CONFIG)
    assert not endpoints["os"].columns["time"].flags.writeable
    assert not groups["stage"].flags.writeable


def test_the_content_hash_run_by_run_is_the_hash_of_the_whole_text():
    rng = random.Random(2)
    pool = fake_records(2000, seed=9)
    for r in pool:
        r.digest = f"{rng.getrandbits(256):064x}"
    selections = [pool[:-2], pool[:-1], pool, pool[:900] + pool[901:], pool[5:6], []]
    changed = list(pool)
    changed[1000] = SimpleNamespace(record_id=pool[1000].record_id, digest="0" * 64)
    selections.append(changed)
    shuffled = list(pool)
    rng.shuffle(shuffled)  # not in id order: hashed the plain way, still the same text
    selections.append(shuffled)
    for selection in selections:
        expected = dataset_hash({r.record_id: r.digest for r in selection})
        assert runs_hash(runs(selection)) == expected


def test_the_content_hash_and_the_dataset_rebuild_only_the_changed_run():
    rng = random.Random(4)
    pool = fake_records(2000, seed=6)
    for r in pool:
        r.digest = f"{rng.getrandbits(256):064x}"
    selection = pool[:700] + pool[701:]
    n_runs = len(list(runs(selection)))
    runs_hash(runs(selection))
    analysis_dataset_gz(selection)
    assert endpoints.HASH_WORK["blocks_built"] == n_runs > 20
    assert analysis_dataset.GZ_WORK["blocks_compressed"] == n_runs
    assert runs_hash(runs(pool)) == dataset_hash({r.record_id: r.digest for r in pool})
    analysis_dataset_gz(pool)  # one lock: the run it joins, only
    assert endpoints.HASH_WORK["blocks_built"] == 1
    assert analysis_dataset.GZ_WORK["blocks_compressed"] == 1


def kept_runs_through_random_edits(seed: int):
    """(the runs RecordRuns hands on, the records they should be) after each of 40 rounds of
    locks, unlocks and changes (a change: a new object under the same id, another member)."""
    rng = random.Random(seed)
    pool = fake_records(3000, seed=seed)
    kept = columns.RecordRuns()
    current = {r.record_id: (i, r) for i, r in enumerate(rng.sample(pool, 1200))}
    yield (
        kept.update(list(current.values()), []),
        sorted((r for _, r in current.values()), key=lambda r: r.record_id),
    )
    members = len(pool)
    for _ in range(40):
        added, removed = [], []
        for _ in range(rng.choice([1, 1, 1, 3])):
            roll = rng.random()
            record = rng.choice(pool)
            if record.record_id in current:
                removed.append(current.pop(record.record_id))
                if roll < 0.5:  # an unlock and a new lock: a new member, a new object
                    members += 1
                    current[record.record_id] = (members, SimpleNamespace(**vars(record)))
                    added.append(current[record.record_id])
            elif roll < 0.7:
                current[record.record_id] = (record.record_id, record)
                added.append(current[record.record_id])
        yield (
            kept.update(added, removed),
            sorted((r for _, r in current.values()), key=lambda r: r.record_id),
        )


def test_runs_kept_across_recomputes_are_the_runs_of_the_sorted_records():
    for found, records in kept_runs_through_random_edits(13):
        assert [list(run) for run in found] == [list(run) for run in runs(records)]
        assert all(isinstance(run, tuple) for run in found)


def test_runs_kept_are_the_runs_of_the_sorted_records_when_ids_interleave():
    """Ids of unequal lengths under one run key ("A-1" and "A-100" share "A-"): whatever the
    kept runs, they are what one pass over the records sorted by id gives."""
    records = [SimpleNamespace(record_id=rid) for rid in ("A-100", "A-101", "A-19", "A-2")]
    kept = columns.RecordRuns().update([(r.record_id, r) for r in records], [])
    ordered = sorted(records, key=lambda r: r.record_id)
    assert [list(run) for run in kept] == [list(run) for run in runs(ordered)]


def test_a_lock_sorts_one_kept_run_and_the_columns_build_only_that_one():
    """The reuse itself: a lock sorts only the run it joins, hands every other run on as the
    same tuple (the columns' cache knows them by it), and the columns build that run only."""
    pool = fake_records(3000, seed=3)
    kept = columns.RecordRuns()
    first = kept.update([(r.record_id, r) for r in pool[:1500] + pool[1501:]], [])
    assert columns.SORT_WORK["runs_sorted"] == len(first) > 20
    endpoint_columns(list(chain.from_iterable(first)), CONFIG, first)
    assert columns.WORK["runs_built"] == len(first)
    second = kept.update([(pool[1500].record_id, pool[1500])], [])
    assert columns.SORT_WORK["runs_sorted"] == 1
    assert sum(run not in first for run in second) == 1
    assert sum(any(run is old for old in first) for run in second) == len(second) - 1
    endpoints, _ = endpoint_columns(pool, CONFIG, second)
    assert columns.WORK == {"runs_built": 1, "runs_joined": 1, "runs_tallied": 2}
    assert endpoints["os"].columns["time"].tolist() == [
        o.time_months for o in one_pass(pool)["os"][0]
    ]
    third = kept.update([], [(pool[1500].record_id, pool[1500])])
    assert columns.SORT_WORK["runs_sorted"] == 1 and third == first
