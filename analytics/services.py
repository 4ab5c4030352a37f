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

from registry.csv_safety import writer as safe_writer
from registry.models import DictionaryVersion, LockOutbox

from .cohort import patient_counts, subgroup_values, table_one
from .config import config_digest, resolve_config
from .endpoints import EndpointData, Patient, dataset_hash, derive_endpoints, load_locked_patients
from .models import StatisticsSnapshot
from .results import DEFAULT_CI, build_results

logger = logging.getLogger(__name__)
DATASET_COLUMNS = ["record_id", "centre", "endpoint", "time_months", "event", "stage",
                   "site_of_origin", "chemotherapy"]
YESNO = {"yesno": {"1": "Yes", "0": "No"}, "truefalse": {"1": "True", "0": "False"}}


@dataclass
class LoadedDataset:
    dataset_version: int
    dataset_created_at: datetime | None
    dictionary: DictionaryVersion
    config: dict[str, Any]
    patients: list[Patient]
    record_hashes: dict[str, str]


def library_versions() -> dict[str, str]:
    versions = {name: package_version(name) for name in ("lifelines", "numpy", "pandas", "scipy")}
    versions["python"] = platform.python_version()
    return versions


def load_dataset() -> LoadedDataset:
    """The locked records and the dataset version they are. The outbox table is share-locked
    while reading, so lock transactions still in flight finish first and cannot slip in with
    a lower version than one we have already seen."""
    fresh = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if fresh:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("LOCK TABLE registry_lockoutbox IN SHARE MODE")
        newest = LockOutbox.objects.order_by("-dataset_version").first()
        dictionary = DictionaryVersion.objects.current()
        if dictionary is None:
            raise LookupError("no data dictionary imported")
        config = resolve_config(dictionary.analysis)
        patients, hashes = load_locked_patients(config, dictionary.repeating_instruments)
    return LoadedDataset(
        dataset_version=newest.dataset_version if newest else 0,
        dataset_created_at=newest.created_at if newest else None,
        dictionary=dictionary, config=config, patients=patients, record_hashes=hashes,
    )


def choice_labels(dictionary: DictionaryVersion) -> dict[str, dict[str, str]]:
    return {
        f.name: f.choice_map if f.choices else YESNO.get(f.field_type, {})
        for f in dictionary.dictionary.fields
    }


def analysis_dataset_csv(endpoints: dict[str, EndpointData],
                         groups: dict[str, dict[str, str | None]]) -> bytes:
    """One row per record and endpoint, gzipped CSV (cells neutralised against formulas)."""
    text = io.StringIO()
    out = safe_writer(text, lineterminator="\n")
    out.writerow(DATASET_COLUMNS)
    stage, site, chemo = (groups.get(k, {}) for k in ("stage", "site_of_origin", "chemotherapy"))
    for key, data in endpoints.items():
        for o in data.observations:
            out.writerow([o.record_id, o.centre, key, repr(o.time_months), o.event,
                          stage.get(o.record_id) or "", site.get(o.record_id) or "",
                          chemo.get(o.record_id) or ""])
    return gzip.compress(text.getvalue().encode(), compresslevel=5, mtime=0)


def read_analysis_dataset(snapshot: StatisticsSnapshot) -> list[dict[str, str]]:
    text = gzip.decompress(bytes(snapshot.analysis_dataset_gz)).decode()
    return list(csv.DictReader(io.StringIO(text)))


def compute_statistics(loaded: LoadedDataset, *, ci_method: str = DEFAULT_CI
                       ) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """(results, curves, gzipped analysis dataset) for loaded data. No database access."""
    dictionary, config = loaded.dictionary, loaded.config
    missing = set(dictionary.missing_code_values)
    labels = choice_labels(dictionary)
    endpoints = derive_endpoints(loaded.patients, config, missing)
    groups = subgroup_values(loaded.patients, config, labels, missing)
    results, curves = build_results(endpoints, groups, config, ci_method=ci_method)
    field_labels = {f.name: f.label for f in dictionary.dictionary.fields}
    centres: dict[str, int] = {}
    for p in loaded.patients:
        centres[p.centre] = centres.get(p.centre, 0) + 1
    results.update(
        ci_method=ci_method,
        n_patients=len(loaded.patients),
        centres=dict(sorted(centres.items())),
        stage=_tally(groups.get("stage", {})),
        counts=patient_counts(loaded.patients, config),
        table1=table_one(loaded.patients, config, labels, field_labels, missing),
    )
    return results, curves, analysis_dataset_csv(endpoints, groups)


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
    existing = StatisticsSnapshot.objects.filter(dataset_version=loaded.dataset_version).first()
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
        n_locked_records=len(loaded.patients),
        results=results,
        curves=curves,
        record_hashes=loaded.record_hashes,
        analysis_dataset_gz=dataset_gz,
        load_ms=round((loaded_at - started) * 1000),
        statistics_ms=round((computed - loaded_at) * 1000),
        duration_ms=round((time.perf_counter() - started) * 1000),
    )
    StatisticsSnapshot.objects.bulk_create([snapshot], ignore_conflicts=True)
    stored = StatisticsSnapshot.objects.get(dataset_version=loaded.dataset_version)
    from .details import enqueue_details  # details imports this module

    enqueue_details(stored.dataset_version)
    logger.info("statistics for dataset v%s: %s records, load %s ms, statistics %s ms",
                stored.dataset_version, stored.n_locked_records, stored.load_ms,
                stored.statistics_ms)
    return stored


def recompute_for_version(*, dataset_version: int) -> StatisticsSnapshot | None:
    """The task's work: nothing if a snapshot for this version or a newer one exists (tasks
    for older versions, duplicates); otherwise a snapshot of the newest dataset version, so a
    burst of locks coalesces into one recompute."""
    newest = (StatisticsSnapshot.objects.order_by("-dataset_version")
              .values_list("dataset_version", flat=True).first())
    if newest is not None and newest >= dataset_version:
        return None
    return compute_snapshot()
