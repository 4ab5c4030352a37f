"""The derived records as columns for the headline statistics, built per run of records and
reused: records are ordered by id and a lock adds one, so at the next recompute every run but
the one it joins is unchanged, and the per-patient work is that run's only (the rest is
concatenating arrays)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
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
    for _, run in groupby(records, key=_run_key):
        yield list(run)


def _run_key(record: HasId) -> str:
    return record.record_id[:-2]


@dataclass(frozen=True)
class _Run:
    records: tuple  # kept alive, so the ids in its key cannot be reused by other objects
    observations: dict[str, list[Observation]]
    excluded: dict[str, list[Exclusion]]
    columns: dict[str, dict[str, np.ndarray]]  # endpoint -> time, event, subgroups
    groups: np.ndarray  # records x subgroups


_RUNS: dict[tuple, _Run] = {}


def _run(records: list, endpoints: Sequence[str], subgroups: Sequence[str]) -> _Run:
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
    return _Run(tuple(records), observations, excluded, columns, groups)


def endpoint_columns(
    records: Sequence, config: dict[str, Any], record_runs: Iterable[list] | None = None
) -> tuple[dict[str, EndpointData], dict[str, np.ndarray]]:
    """({endpoint: its exclusions, columns and number of observations}, {subgroup: each
    record's group}), in the records' order: what a single pass over the records gives. The
    observations themselves are not listed (the columns hold them). record_runs: runs(records),
    where the caller has them already."""
    endpoints = {
        ep["key"]: EndpointData(ep["key"], ep["label"], bool(ep.get("reverse")))
        for ep in config["endpoints"]
    }
    subgroups = [sg["key"] for sg in config.get("subgroups", [])]
    shape = (tuple(endpoints), tuple(subgroups))
    used: dict[tuple, _Run] = {}
    for run in runs(records) if record_runs is None else record_runs:
        key = (shape, *map(id, run))
        found = _RUNS.get(key)
        if found is None:
            found = _run(run, list(endpoints), subgroups)
        used[key] = found
    _RUNS.clear()
    _RUNS.update(used)
    parts = list(used.values())
    for key, data in endpoints.items():
        data.n_observed = sum(len(p.observations[key]) for p in parts)
        data.excluded = list(chain.from_iterable(p.excluded[key] for p in parts))
        data.columns = {
            name: _concat(
                [p.columns[key][name] for p in parts],
                float if name in ("time", "event") else object,
            )
            for name in ("time", "event", *subgroups)
        }
    groups = _concat([p.groups for p in parts], object, width=len(subgroups))
    return endpoints, {sg: groups[:, j] for j, sg in enumerate(subgroups)}


def _concat(arrays: list[np.ndarray], dtype: Any, width: int | None = None) -> np.ndarray:
    if arrays:
        return np.concatenate(arrays)
    return np.empty((0, width) if width is not None else 0, dtype=dtype)
