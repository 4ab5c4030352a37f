"""Computing and storing statistics snapshots: load the locked records (consistently with the
dataset version they belong to), compute, store once per dataset version."""

from __future__ import annotations

import csv
import gzip
import io
import logging
import platform
import time
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version as package_version
from typing import Any

from django.db import connection, transaction

from registry.csv_safety import unguard
from registry.models import DictionaryVersion, LockOutbox

from .cohort import aggregate_counts, aggregate_table_one
from .config import config_digest, resolve_config
from .derived import CACHE, DerivedRecord
from .endpoints import EndpointData, Observation, dataset_hash
from .models import StatisticsSnapshot
from .results import DEFAULT_CI, build_results

logger = logging.getLogger(__name__)
DATASET_COLUMNS = [
    "record_id",
    "centre",
    "endpoint",
    "time_months",
    "event",
    "stage",
    "site_of_origin",
    "chemotherapy",
]
HEAVY = ("curves", "record_hashes", "analysis_dataset_gz", "results")
YESNO = {"yesno": {"1": "Yes", "0": "No"}, "truefalse": {"1": "True", "0": "False"}}


@dataclass
class LoadedDataset:
    dataset_version: int
    dataset_created_at: datetime | None
    dictionary: DictionaryVersion
    config: dict[str, Any]
    records: list[DerivedRecord]
    loaded_now: int = 0

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
    """The locked records (derived, cached per process) and the dataset version they are. The
    outbox table is share-locked while reading, so lock transactions still in flight finish
    first and cannot slip in with a lower version than one we have already seen."""
    fresh = not connection.in_atomic_block
    if fresh and not CACHE.records:
        # A cold process reads every record: do that without holding the outbox lock, so
        # that locks wait only for the short, incremental read below.
        _derive_locked()
    with transaction.atomic():
        with connection.cursor() as cursor:
            if fresh:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("LOCK TABLE registry_lockoutbox IN SHARE MODE")
        newest = LockOutbox.objects.order_by("-dataset_version").first()
        dictionary = DictionaryVersion.objects.current()
        if dictionary is None:
            raise LookupError("no data dictionary imported")
        config, records, loaded_now = _derive_locked(dictionary)
    return LoadedDataset(
        dataset_version=newest.dataset_version if newest else 0,
        dataset_created_at=newest.created_at if newest else None,
        dictionary=dictionary,
        config=config,
        records=records,
        loaded_now=loaded_now,
    )


def _derive_locked(
    dictionary: DictionaryVersion | None = None,
) -> tuple[dict[str, Any], list[DerivedRecord], int]:
    dictionary = dictionary or DictionaryVersion.objects.current()
    if dictionary is None:
        raise LookupError("no data dictionary imported")
    config = resolve_config(dictionary.analysis)
    records, loaded_now = CACHE.load(
        config,
        f"{dictionary.pk}:{config_digest(config)}",
        choice_labels(dictionary),
        set(dictionary.missing_code_values),
        dictionary.repeating_instruments,
    )
    return config, records, loaded_now


def analysis_dataset_gz(records: list[DerivedRecord]) -> bytes:
    """One row per record and endpoint, gzipped CSV."""
    text = ",".join(DATASET_COLUMNS) + "\n" + "".join(r.csv for r in records)
    return gzip.compress(text.encode(), compresslevel=1, mtime=0)


def read_analysis_dataset(snapshot: StatisticsSnapshot) -> list[dict[str, str]]:
    """The stored rows, values as they are (the stored CSV's formula neutralising undone)."""
    text = gzip.decompress(bytes(snapshot.analysis_dataset_gz)).decode()
    return [{k: unguard(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


def compute_statistics(
    loaded: LoadedDataset, *, ci_method: str = DEFAULT_CI
) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """(results, curves, gzipped analysis dataset) for loaded data. No database access."""
    dictionary, config, records = loaded.dictionary, loaded.config, loaded.records
    endpoints = {
        ep["key"]: EndpointData(ep["key"], ep["label"], bool(ep.get("reverse")))
        for ep in config["endpoints"]
    }
    for record in records:
        for key, outcome in record.outcomes.items():
            if isinstance(outcome, Observation):
                endpoints[key].observations.append(outcome)
            elif outcome is not None:
                endpoints[key].excluded.append(outcome)
    groups = {
        sg["key"]: {r.record_id: r.groups.get(sg["key"]) for r in records}
        for sg in config.get("subgroups", [])
    }
    results, curves = build_results(endpoints, groups, config, ci_method=ci_method)
    field_labels = {f.name: f.label for f in dictionary.dictionary.fields}
    centres: dict[str, int] = {}
    for r in records:
        centres[r.centre] = centres.get(r.centre, 0) + 1
    results.update(
        ci_method=ci_method,
        n_patients=len(records),
        centres=dict(sorted(centres.items())),
        stage=_tally(groups.get("stage", {})),
        counts=aggregate_counts([r.counts for r in records], config),
        table1=aggregate_table_one(
            [r.table1 for r in records],
            config,
            choice_labels(dictionary),
            field_labels,
            set(dictionary.missing_code_values),
        ),
    )
    return results, curves, analysis_dataset_gz(records)


def _tally(membership: dict[str, str | None]) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in membership.values():
        key = value or "Unknown"
        out[key] = out.get(key, 0) + 1
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
    results, curves, dataset_gz = compute_statistics(loaded)
    computed = time.perf_counter()
    snapshot = StatisticsSnapshot(
        dataset_version=loaded.dataset_version,
        dataset_created_at=loaded.dataset_created_at,
        content_sha256=dataset_hash(loaded.record_hashes),
        dictionary_version=loaded.dictionary.number,
        analysis_config=loaded.config,
        analysis_config_sha256=config_digest(loaded.config),
        ci_method=results["ci_method"],
        library_versions=library_versions(),
        n_locked_records=len(loaded.records),
        results=results,
        curves=curves,
        record_hashes=loaded.record_hashes,
        analysis_dataset_gz=dataset_gz,
        load_ms=round((loaded_at - started) * 1000),
        statistics_ms=round((computed - loaded_at) * 1000),
        duration_ms=round((time.perf_counter() - started) * 1000),
    )
    StatisticsSnapshot.objects.bulk_create([snapshot], ignore_conflicts=True)
    stored = StatisticsSnapshot.objects.defer(*HEAVY).get(dataset_version=loaded.dataset_version)
    from .details import enqueue_details  # details imports this module

    enqueue_details(stored.dataset_version)
    logger.info(
        "statistics for dataset v%s: %s records, load %s ms, statistics %s ms",
        stored.dataset_version,
        stored.n_locked_records,
        stored.load_ms,
        stored.statistics_ms,
    )
    return stored


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
