from __future__ import annotations

from django.db import models


class StatisticsSnapshot(models.Model):
    """The pooled statistics for one dataset version. Written once, never changed."""

    dataset_version = models.BigIntegerField(unique=True)
    content_sha256 = models.CharField(max_length=64, help_text="Hash of the locked records' data.")
    dictionary_version = models.PositiveIntegerField()
    analysis_config = models.JSONField(default=dict)
    library_versions = models.JSONField(default=dict)
    n_locked_records = models.PositiveIntegerField()
    results = models.JSONField()
    analysis_dataset = models.JSONField(default=list)
    computed_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.PositiveIntegerField()
    load_ms = models.PositiveIntegerField(default=0)
    statistics_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-dataset_version"]
        get_latest_by = "dataset_version"

    def __str__(self) -> str:
        return f"statistics for dataset v{self.dataset_version}"
