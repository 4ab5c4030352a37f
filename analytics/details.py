"""The second stage of a snapshot: univariable Cox models and the subgroup curves, computed from
the snapshot's own analysis dataset (so they describe exactly the same data) after the headline
figures are already stored and shown."""

from __future__ import annotations

import time

from .analysis_dataset import read_analysis_dataset
from .endpoints import EndpointData, Exclusion, Observation
from .models import SnapshotDataset, SnapshotDetail, StatisticsSnapshot, store_stage
from .results import build_details

GROUP_COLUMNS = ("stage", "site_of_origin", "chemotherapy", "centre")


def dataset_from_snapshot(
    snapshot: StatisticsSnapshot,
) -> tuple[dict[str, EndpointData], dict[str, dict[str, str | None]]]:
    """The endpoints and subgroup membership behind a snapshot, rebuilt from its dataset."""
    config = snapshot.analysis_config
    endpoints = {
        ep["key"]: EndpointData(ep["key"], ep["label"], bool(ep.get("reverse")))
        for ep in config["endpoints"]
    }
    found: dict[str, dict[str, str | None]] = {k: {} for k in GROUP_COLUMNS}
    for row in read_analysis_dataset(snapshot):
        rid = row["record_id"]
        endpoints[row["endpoint"]].observations.append(
            Observation(rid, row["centre"], float(row["time_months"]), int(row["event"]))
        )
        for column in GROUP_COLUMNS:
            found[column][rid] = row[column] or None
    for key, summary in snapshot.results["endpoints"].items():
        endpoints[key].excluded = [
            Exclusion(x["record"], x["reason"]) for x in summary.get("excluded", [])
        ]
    groups = {sg["key"]: found.get(sg["key"], {}) for sg in config.get("subgroups", [])}
    return endpoints, groups


def compute_details(*, dataset_version: int) -> SnapshotDetail | None:
    """Idempotent: nothing if the details exist, the snapshot does not, a newer snapshot has
    superseded it (its own details task will run), or its records are not stored yet (their
    stage sends this one once they are)."""
    snapshot = StatisticsSnapshot.objects.filter(dataset_version=dataset_version).first()
    if snapshot is None or SnapshotDetail.objects.filter(snapshot=snapshot).exists():
        return None
    if not SnapshotDataset.objects.filter(snapshot=snapshot).exists():
        return None
    if StatisticsSnapshot.objects.filter(dataset_version__gt=dataset_version).exists():
        return None
    started = time.perf_counter()
    endpoints, groups = dataset_from_snapshot(snapshot)
    results, curves = build_details(
        endpoints, groups, snapshot.analysis_config, ci_method=snapshot.ci_method
    )
    return store_stage(SnapshotDetail, snapshot, started, results=results, curves=curves)
