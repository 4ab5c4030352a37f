"""The derived records as columns for the headline statistics, built per run of records and
reused: records are ordered by id and a lock adds one, so at the next recompute every run but
the one it joins is unchanged, and the per-patient work is that run's only. The columns of the
last recompute are kept too, and the changed runs spliced into them (the unchanged runs before
and after them are one slice each) rather than thousands of runs concatenated again."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, groupby
from operator import attrgetter
from typing import Any, Protocol

import numpy as np

from .endpoints import EndpointData, Exclusion, Observation


class HasId(Protocol):
    record_id: str


def runs(records: Iterable[HasId]) -> Iterator[list]:
    """Consecutive records whose ids share all but the last two characters (about a hundred
    of one centre); in the records' order."""
    for _, run in groupby(records, key=run_key):
        yield list(run)


def run_key(record: HasId) -> str:
    """The run a record belongs to (where the ids ascend, its records are consecutive)."""
    return record.record_id[:-2]


class RecordRuns:
    """Records kept in runs across recomputes: an update sorts only the runs that records
    joined or left, and hands the others on as the same tuples (headline_columns recognises
    them by identity), so a lock does not sort and walk every record again."""

    def __init__(self) -> None:
        self._members: dict[str, dict[Hashable, Any]] = {}  # run key -> {member: record}
        self._runs: dict[str, tuple] = {}  # run key -> its records, sorted by id

    def update(
        self, added: Iterable[tuple[Hashable, HasId]], removed: Iterable[tuple[Hashable, HasId]]
    ) -> list[tuple]:
        """runs() of every record now kept, after adding and removing (member, record) pairs
        (a member names one record, e.g. its record and signature)."""
        changed = set()
        for member, record in removed:
            del self._members[run_key(record)][member]
            changed.add(run_key(record))
        for member, record in added:
            self._members.setdefault(run_key(record), {})[member] = record
            changed.add(run_key(record))
        for key in changed:
            if self._members.get(key):
                self._runs[key] = tuple(sorted(self._members[key].values(), key=_record_id))
            else:
                self._members.pop(key, None)
                self._runs.pop(key, None)
        SORT_WORK["runs_sorted"] = len(changed)
        ordered = sorted(self._runs.values(), key=lambda run: run[0].record_id)
        for before, after in zip(ordered, ordered[1:], strict=False):
            if before[-1].record_id >= after[0].record_id:
                # ids of unequal lengths under one run key interleave: sort them all
                every = sorted(chain.from_iterable(ordered), key=_record_id)
                return [tuple(run) for run in runs(every)]
        return ordered


_record_id = attrgetter("record_id")


@dataclass(frozen=True)
class _Run:
    records: tuple  # kept alive, so the ids in its key cannot be reused by other objects
    # (and when the run was a tuple, it is that tuple: its key is its id)
    observations: dict[str, list[Observation]]
    excluded: dict[str, list[Exclusion]]
    columns: dict[str, dict[str, np.ndarray]]  # endpoint -> time, event, subgroups
    groups: np.ndarray  # records x subgroups
    centres: Counter  # records per centre
    counts: Counter  # records per count (DerivedRecord.counts)


_RUNS: dict[tuple, _Run] = {}

#: What the last endpoint_columns call had to do: runs walked into columns anew, runs whose
#: columns were concatenated (the changed ones spliced into the kept columns; every run when
#: nothing was kept) and runs whose centre and count tallies were added or taken out. Read by
#: tests, so that reuse is checked and not only its results.
WORK = {"runs_built": 0, "runs_joined": 0, "runs_tallied": 0}
#: How many runs the last RecordRuns.update sorted (records joined or left them).
SORT_WORK = {"runs_sorted": 0}


@dataclass
class _Joined:
    """Every run's columns of one recompute, concatenated (read-only: they are kept)."""

    shape: tuple
    parts: list[_Run]
    lengths: dict[str, np.ndarray]  # endpoint -> observations per run; "" -> records per run
    columns: dict[str, dict[str, np.ndarray]]
    excluded_lengths: dict[str, np.ndarray]  # endpoint -> exclusions per run
    excluded: dict[str, list[Exclusion]]
    groups: np.ndarray
    centres: Counter  # over every run (zero counts left in)
    counts: Counter


@dataclass
class HeadlineColumns:
    """endpoint_columns' result, with the records per centre ({centre: n}, sorted) and per
    count (DerivedRecord.counts) kept run by run as the columns are."""

    endpoints: dict[str, EndpointData]
    groups: dict[str, np.ndarray]
    centres: dict[str, int]
    counts: Counter


_JOINED: list[_Joined] = []  # the last one


def _run(records: tuple, endpoints: Sequence[str], subgroups: Sequence[str]) -> _Run:
    observations: dict[str, list[Observation]] = {key: [] for key in endpoints}
    excluded: dict[str, list[Exclusion]] = {key: [] for key in endpoints}
    positions: dict[str, list[int]] = {key: [] for key in endpoints}
    for i, record in enumerate(records):
        for key, outcome in record.outcomes.items():
            if isinstance(outcome, Observation):
                observations[key].append(outcome)
                positions[key].append(i)
            elif outcome is not None:
                excluded[key].append(outcome)
    groups = np.empty((len(records), len(subgroups)), dtype=object)
    for j, sg in enumerate(subgroups):
        groups[:, j] = [r.groups.get(sg) for r in records]
    columns = {}
    for key, found in observations.items():
        at = np.array(positions[key], dtype=np.intp)
        columns[key] = {
            "time": np.fromiter(map(attrgetter("time_months"), found), float, len(found)),
            "event": np.fromiter(map(attrgetter("event"), found), float, len(found)),
            **{sg: groups[at, j] for j, sg in enumerate(subgroups)},
        }
    centres = Counter(map(attrgetter("centre"), records))
    counts = Counter(chain.from_iterable(map(attrgetter("counts"), records)))
    return _Run(records, observations, excluded, columns, groups, centres, counts)


def endpoint_columns(
    records: Sequence, config: dict[str, Any], record_runs: Iterable[list] | None = None
) -> tuple[dict[str, EndpointData], dict[str, np.ndarray]]:
    """({endpoint: its exclusions, columns and number of observations}, {subgroup: each
    record's group}), in the records' order: what a single pass over the records gives. The
    observations themselves are not listed (the columns hold them). record_runs: runs(records),
    where the caller has them already."""
    found = headline_columns(records, config, record_runs)
    return found.endpoints, found.groups


def headline_columns(
    records: Sequence, config: dict[str, Any], record_runs: Iterable[list] | None = None
) -> HeadlineColumns:
    """endpoint_columns, and the records per centre and per count. Records: objects with
    record_id, centre, counts, outcomes and groups (DerivedRecord)."""
    endpoints = {
        ep["key"]: EndpointData(ep["key"], ep["label"], bool(ep.get("reverse")))
        for ep in config["endpoints"]
    }
    subgroups = [sg["key"] for sg in config.get("subgroups", [])]
    shape = (tuple(endpoints), tuple(subgroups))
    used: dict[tuple, _Run] = {}
    built = 0
    for run in runs(records) if record_runs is None else record_runs:
        # a tuple (RecordRuns) is the same object while its records are: known by itself
        key = (shape, id(run)) if isinstance(run, tuple) else (shape, *map(id, run))
        found = _RUNS.get(key)
        if found is None or (isinstance(run, tuple) and found.records is not run):
            found = _run(tuple(run), list(endpoints), subgroups)
            built += 1
        used[key] = found
    WORK["runs_built"] = built
    _RUNS.clear()
    _RUNS.update(used)
    joined = _join(list(used.values()), shape, list(endpoints), subgroups)
    for key, data in endpoints.items():
        data.n_observed = int(joined.lengths[key].sum())
        data.excluded = list(joined.excluded[key])
        data.columns = dict(joined.columns[key])
    return HeadlineColumns(
        endpoints,
        {sg: joined.groups[:, j] for j, sg in enumerate(subgroups)},
        {centre: n for centre, n in sorted(joined.centres.items()) if n > 0},
        joined.counts,
    )


def _join(parts: list[_Run], shape: tuple, endpoints: list[str], subgroups: list[str]) -> _Joined:
    """The runs' columns concatenated: the last recompute's, with the runs that differ from
    its runs (by identity) spliced in between the unchanged first and last ones."""
    last = _JOINED[0] if _JOINED and _JOINED[0].shape == shape else None
    before, after = 0, 0
    if last is not None:
        old = last.parts
        most = min(len(parts), len(old))
        while before < most and parts[before] is old[before]:
            before += 1
        while after < most - before and parts[-1 - after] is old[-1 - after]:
            after += 1
    middle = parts[before : len(parts) - after]
    WORK["runs_joined"] = WORK["runs_tallied"] = len(middle)
    if last is None or before == after == 0:
        centres, counts = Counter(), Counter()
    else:  # the last totals, less the runs taken out, plus the runs put in
        centres, counts = Counter(last.centres), Counter(last.counts)
        for gone in last.parts[before : len(last.parts) - after]:
            centres.subtract(gone.centres)
            counts.subtract(gone.counts)
            WORK["runs_tallied"] += 1
    for new in middle:
        centres.update(new.centres)
        counts.update(new.counts)

    def spliced(kept: np.ndarray | None, lengths: np.ndarray | None, new: list, empty):
        if kept is None or lengths is None:
            pieces = new
        else:
            start, end = lengths[:before].sum(), len(kept) - lengths[len(lengths) - after :].sum()
            pieces = [kept[:start], *new, kept[end:]]
        out = np.concatenate(pieces) if pieces else empty
        out.flags.writeable = False
        return out

    def counted(kept: np.ndarray | None, new: list[int]) -> np.ndarray:
        if kept is None:
            return np.array(new, dtype=np.intp)
        return np.concatenate([kept[:before], new, kept[len(kept) - after :]]).astype(np.intp)

    lengths = {"": counted(last and last.lengths[""], [len(p.records) for p in middle])}
    columns: dict[str, dict[str, np.ndarray]] = {}
    for key in endpoints:
        lengths[key] = counted(
            last and last.lengths[key], [len(p.observations[key]) for p in middle]
        )
        columns[key] = {
            name: spliced(
                last and last.columns[key][name],
                last and last.lengths[key],
                [p.columns[key][name] for p in middle],
                np.empty(0, dtype=float if name in ("time", "event") else object),
            )
            for name in ("time", "event", *subgroups)
        }
    excluded_lengths, excluded = {}, {}
    for key in endpoints:
        kept = last and last.excluded_lengths[key]
        excluded_lengths[key] = counted(kept, [len(p.excluded[key]) for p in middle])
        new = list(chain.from_iterable(p.excluded[key] for p in middle))
        if last is None or kept is None:
            excluded[key] = new
        else:
            start = kept[:before].sum()
            end = len(last.excluded[key]) - kept[len(kept) - after :].sum()
            excluded[key] = last.excluded[key][:start] + new + last.excluded[key][end:]
    groups = spliced(
        last and last.groups,
        last and last.lengths[""],
        [p.groups for p in middle],
        np.empty((0, len(subgroups)), dtype=object),
    )
    joined = _Joined(
        shape, parts, lengths, columns, excluded_lengths, excluded, groups, centres, counts
    )
    _JOINED[:] = [joined]
    return joined
