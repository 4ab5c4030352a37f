from __future__ import annotations

import time

from django.db import models


class StatisticsSnapshot(models.Model):
    """The pooled statistics for one dataset version. Written once, never changed (a database
    trigger refuses UPDATE and DELETE)."""

    dataset_version = models.BigIntegerField(unique=True)
    dataset_created_at = models.DateTimeField(
        null=True, blank=True, help_text="When the lock/unlock of this dataset version committed."
    )
    content_sha256 = models.CharField(max_length=64, help_text="Hash of the locked records' data.")
    dictionary_version = models.PositiveIntegerField()
    analysis_config = models.JSONField(default=dict)
    analysis_config_sha256 = models.CharField(max_length=64, blank=True)
    ci_method = models.CharField(max_length=16, default="log-log")
    library_versions = models.JSONField(default=dict)
    n_locked_records = models.PositiveIntegerField()
    results = models.JSONField(help_text="Summaries only (no curve arrays).")
    curves = models.JSONField(default=dict, help_text="Kaplan-Meier curves, per endpoint/subgroup.")
    computed_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.PositiveIntegerField()
    load_ms = models.PositiveIntegerField(default=0)
    statistics_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-dataset_version"]
        get_latest_by = "dataset_version"

    def __str__(self) -> str:
        return f"statistics for dataset v{self.dataset_version}"


class SnapshotDataset(models.Model):
    """The records behind a snapshot: each one's content hash (the paper stage takes exactly
    these records; two snapshots are compared by them) and the analysis dataset (read by the
    details stage, other CI methods and the downloads), and the curves the dashboard does not
    draw at once. Stored by the snapshot's own task just after the snapshot, so that writing
    them (about 16 MB at 100,000 records) does not hold back the dashboard's headline figures.
    Written once."""

    snapshot = models.OneToOneField(
        StatisticsSnapshot, on_delete=models.PROTECT, related_name="dataset"
    )
    record_hashes = models.JSONField(default=dict, help_text="record_id -> SHA-256 of its data.")
    analysis_dataset_gz = models.BinaryField(
        default=bytes, help_text="The analysis dataset behind the figures, as gzipped CSV."
    )
    curves = models.JSONField(
        default=dict,
        help_text="The Kaplan-Meier curves of the endpoints the dashboard does not draw at once "
        "(results.DRAWN_CURVES stay with the snapshot).",
    )
    computed_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"records of dataset v{self.snapshot.dataset_version}"


class SnapshotDetail(models.Model):
    """The slower part of a snapshot's statistics (univariable Cox models, subgroup curves),
    computed by a second task from the snapshot's own analysis dataset. Written once."""

    snapshot = models.OneToOneField(
        StatisticsSnapshot, on_delete=models.PROTECT, related_name="detail"
    )
    results = models.JSONField(help_text="cox and subgroups, keyed like the snapshot's logrank.")
    curves = models.JSONField(default=dict)
    computed_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"details for dataset v{self.snapshot.dataset_version}"


class SnapshotPaper(models.Model):
    """The paper's tables for a snapshot (Table 1 with its tests, drug response, PFS by line,
    competing risks), computed by a later task from the same locked records, so that a lock
    reaches the dashboard's headline figures first. Written once."""

    snapshot = models.OneToOneField(
        StatisticsSnapshot, on_delete=models.PROTECT, related_name="paper"
    )
    results = models.JSONField(help_text="table1, drug_response, pfs_by_line, competing_risks.")
    curves = models.JSONField(default=dict, help_text="Cumulative incidence curves.")
    computed_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"paper tables for dataset v{self.snapshot.dataset_version}"


def store_stage(
    model: type[SnapshotDataset] | type[SnapshotDetail] | type[SnapshotPaper],
    snapshot: StatisticsSnapshot,
    started: float,
    **values,
):
    """A later stage of `snapshot` with its `values`, written once: a concurrent duplicate
    task's row wins. Returned without its values (the caller has them, or reads what it needs).
    `started`: time.perf_counter() when its computation began."""
    row = model(
        snapshot=snapshot, duration_ms=round((time.perf_counter() - started) * 1000), **values
    )
    model.objects.bulk_create([row], ignore_conflicts=True)
    return model.objects.only("pk", "snapshot", "computed_at", "duration_ms").get(snapshot=snapshot)
