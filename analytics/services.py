"""Computing and storing statistics snapshots: read the locked dataset (registry.dataset, which
owns what it is and how it is read consistently with its version), compute, store once per
dataset version. The snapshot's records (their hashes and the analysis dataset) are stored just
after it, by the same task; the paper's tables (paper_stage.py) and the details (details.py)
follow as their own tasks (tasks.py)."""

from __future__ import annotations

import logging
import platform
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version as package_version
from itertools import chain
from typing import Any

from django.db import connection

from registry.dataset import LockedDataset, read_locked_dataset
from registry.models import DictionaryVersion

from .analysis_dataset import analysis_dataset_gz
from .cohort import aggregate_table_one, count_results
from .columns import endpoint_columns, headline_columns, runs
from .config import config_digest, resolve_config
from .derived import CACHE, DerivedRecord
from .endpoints import runs_hash
from .models import SnapshotDataset, StatisticsSnapshot, store_stage
from .paper_results import competing_results, drug_results
from .reproduction import reproduction
from .results import DEFAULT_CI, build_results, split_curves

logger = logging.getLogger(__name__)
HEAVY = ("curves", "results")
YESNO = {"yesno": {"1": "Yes", "0": "No"}, "truefalse": {"1": "True", "0": "False"}}


@dataclass
class LoadedDataset:
    dataset_version: int
    dataset_created_at: datetime | None
    dictionary: DictionaryVersion
    config: dict[str, Any]
    records: list[DerivedRecord]
    loaded_now: int = 0
    #: columns.runs(records), where the loader kept them (DerivedCache); else walked on use
    record_runs: list[tuple[DerivedRecord, ...]] | None = None

    def runs(self) -> list[Sequence[DerivedRecord]]:
        """columns.runs(records): those the loader kept, else walked now."""
        return list(runs(self.records)) if self.record_runs is None else self.record_runs

    @property
    def record_hashes(self) -> dict[str, str]:
        return {r.record_id: r.digest for r in self.records}


def library_versions() -> dict[str, str]:
    versions = {name: package_version(name) for name in ("lifelines", "numpy", "pandas", "scipy")}
    versions["python"] = platform.python_version()
    return versions


def choice_labels(dictionary: DictionaryVersion) -> dict[str, dict[str, str]]:
    return {
        f.name: f.choice_map if f.choices else YESNO.get(f.field_type, {})
        for f in dictionary.dictionary.fields
    }


def load_dataset() -> LoadedDataset:
    """The locked records (derived, cached per process) and the dataset version they are."""
    if not connection.in_atomic_block and not CACHE.records:
        # A cold process reads every record: do that without holding back locks, so that
        # they wait only for the short, incremental consistent read below.
        with read_locked_dataset(wait_for_locks=False) as dataset:
            _derive(dataset, current_dictionary())
    with read_locked_dataset() as dataset:
        dictionary = current_dictionary()
        config, record_runs, loaded_now = _derive(dataset, dictionary)
    if dataset.rejected:
        logger.error(
            "left out of dataset v%s, signature does not match the content: %s",
            dataset.version,
            ", ".join(dataset.rejected),
        )
    return LoadedDataset(
        dataset_version=dataset.version,
        dataset_created_at=dataset.created_at,
        dictionary=dictionary,
        config=config,
        records=list(chain.from_iterable(record_runs)),
        loaded_now=loaded_now,
        record_runs=record_runs,
    )


def current_dictionary() -> DictionaryVersion:
    dictionary = DictionaryVersion.objects.current()
    if dictionary is None:
        raise LookupError("no data dictionary imported")
    return dictionary


def _derive(
    dataset: LockedDataset, dictionary: DictionaryVersion
) -> tuple[dict[str, Any], list[tuple[DerivedRecord, ...]], int]:
    config = resolve_config(dictionary.analysis)
    record_runs, loaded_now = CACHE.load(
        dataset,
        config,
        f"{dictionary.pk}:{config_digest(config)}",
        choice_labels(dictionary),
        set(dictionary.missing_code_values),
        dictionary.repeating_instruments,
    )
    return config, record_runs, loaded_now


def compute_statistics(
    loaded: LoadedDataset, *, ci_method: str = DEFAULT_CI
) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """(results, curves, gzipped analysis dataset) for loaded data, every stage together (the
    content a snapshot, its records and its paper tables store). No database access."""
    record_runs = loaded.runs()
    results, curves = compute_headline(loaded, ci_method=ci_method, record_runs=record_runs)
    paper, paper_curves = compute_paper(loaded.records, loaded, ci_method=ci_method)
    dataset_gz = analysis_dataset_gz(loaded.records, record_runs)
    return dict(results, **paper), dict(curves, **paper_curves), dataset_gz


def compute_headline(
    loaded: LoadedDataset,
    *,
    ci_method: str = DEFAULT_CI,
    record_runs: Sequence[Sequence[DerivedRecord]] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first stage, what the dashboard's headline needs: KM per endpoint (medians, rates,
    reverse-KM follow-up), log-rank tests, counts and the published figures beside them.
    record_runs: columns.runs(loaded.records), where the caller has them already (default:
    loaded.runs())."""
    config, records = loaded.config, loaded.records
    if record_runs is None:
        record_runs = loaded.runs()
    columns = headline_columns(records, config, record_runs)
    groups = columns.groups
    results, curves = build_results(columns.endpoints, groups, config, ci_method=ci_method)
    results.update(
        ci_method=ci_method,
        n_patients=len(records),
        centres=columns.centres,
        stage=_tally(groups.get("stage", [])),
        site_of_origin=_tally(groups.get("site_of_origin", [])),
        counts=count_results(columns.counts, len(records), config),
    )
    results["reproduction"] = reproduction(results)
    return results, curves


def compute_paper(
    records: list[DerivedRecord], loaded: LoadedDataset, *, ci_method: str = DEFAULT_CI
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The later stage, the paper's tables: Table 1 with its tests, drug response, PFS by line
    and competing risks (results keyed as presentation.PAPER_KEYS, and the cumulative incidence
    curves)."""
    dictionary, config = loaded.dictionary, loaded.config
    field_labels = {f.name: f.label for f in dictionary.dictionary.fields}
    table1 = aggregate_table_one(
        [r.table1 for r in records],
        config,
        choice_labels(dictionary),
        field_labels,
        set(dictionary.missing_code_values),
    )
    drug, pfs = drug_results(
        [(r.record_id, line) for r in records for line in r.lines], ci_method=ci_method
    )
    competing, cif = competing_results([r.competing for r in records], config)
    results = dict(table1=table1, drug_response=drug, pfs_by_line=pfs, competing_risks=competing)
    return results, ({"competing_risks": cif} if cif is not None else {})


def _tally(groups: Iterable[str | None]) -> dict[str, int]:
    """{group: how many}, in the order groups are first seen; None and "" are "Unknown"."""
    out: dict[str, int] = {}
    for value, count in Counter(groups).items():  # Counter keeps first-seen order
        key = value or "Unknown"
        out[key] = out.get(key, 0) + count
    return out


def compute_snapshot() -> StatisticsSnapshot:
    """Compute the statistics of the current locked dataset and store them (once per dataset
    version: a concurrent duplicate loses the insert race and the stored one is returned)."""
    started = time.perf_counter()
    loaded = load_dataset()
    existing = (
        StatisticsSnapshot.objects.defer(*HEAVY)
        .filter(dataset_version=loaded.dataset_version)
        .first()
    )
    if existing is not None:
        return existing
    loaded_at = time.perf_counter()
    record_runs = loaded.runs()
    results, curves = compute_headline(loaded, record_runs=record_runs)
    drawn, later_curves = split_curves(curves)
    computed = time.perf_counter()
    snapshot = StatisticsSnapshot(
        dataset_version=loaded.dataset_version,
        dataset_created_at=loaded.dataset_created_at,
        content_sha256=runs_hash(record_runs),
        dictionary_version=loaded.dictionary.number,
        analysis_config=loaded.config,
        analysis_config_sha256=config_digest(loaded.config),
        ci_method=results["ci_method"],
        library_versions=library_versions(),
        n_locked_records=len(loaded.records),
        results=results,
        curves=drawn,
        load_ms=round((loaded_at - started) * 1000),
        statistics_ms=round((computed - loaded_at) * 1000),
        duration_ms=round((time.perf_counter() - started) * 1000),
    )
    StatisticsSnapshot.objects.bulk_create([snapshot], ignore_conflicts=True)
    stored = StatisticsSnapshot.objects.defer(*HEAVY).get(dataset_version=loaded.dataset_version)
    logger.info(
        "statistics for dataset v%s: %s records, load %s ms, statistics %s ms",
        stored.dataset_version,
        stored.n_locked_records,
        stored.load_ms,
        stored.statistics_ms,
    )
    # Committed already (a task runs outside a transaction): the dashboard shows the headline
    # figures while the records and the other curves are stored.
    store_dataset(stored, loaded.records, record_runs, curves=later_curves)
    return stored


def store_dataset(
    snapshot: StatisticsSnapshot,
    records: list[DerivedRecord],
    record_runs: list[list] | None = None,
    *,
    curves: dict[str, Any] | None = None,
) -> SnapshotDataset:
    """The records behind `snapshot` (exactly those it was computed from): their hashes, the
    analysis dataset and the curves not stored with the snapshot (results.DRAWN_CURVES are),
    stored once. curves: those the snapshot's own task computed; otherwise computed again
    from the records, as the snapshot's."""
    started = time.perf_counter()
    if curves is None:
        config = snapshot.analysis_config
        endpoints, groups = endpoint_columns(records, config, record_runs)
        _, every = build_results(endpoints, groups, config, ci_method=snapshot.ci_method)
        curves = split_curves(every)[1]
    return store_stage(
        SnapshotDataset,
        snapshot,
        started,
        record_hashes={r.record_id: r.digest for r in records},
        analysis_dataset_gz=analysis_dataset_gz(records, record_runs),
        curves=curves,
    )


def recompute_for_version(*, dataset_version: int) -> StatisticsSnapshot | None:
    """The task's work: nothing if a snapshot for this version or a newer one exists (tasks
    for older versions, duplicates); otherwise a snapshot of the newest dataset version, so a
    burst of locks coalesces into one recompute."""
    newest = (
        StatisticsSnapshot.objects.order_by("-dataset_version")
        .values_list("dataset_version", flat=True)
        .first()
    )
    if newest is not None and newest >= dataset_version:
        return None
    return compute_snapshot()
