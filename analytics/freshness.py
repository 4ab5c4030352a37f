"""How far a snapshot is behind the locked dataset: the locks and unlocks committed after the
dataset version its figures describe, so stale figures are never shown as current."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.template.defaultfilters import pluralize
from django.utils import timezone

from registry.dataset import changes_since

from .models import StatisticsSnapshot


@dataclass(frozen=True)
class Freshness:
    dataset_version: int  # the version the figures describe (0: no figures yet)
    latest_dataset_version: int
    behind_by: int  # dataset versions (lock/unlock actions) not in the figures
    locked: int  # records locked since
    unlocked: int  # records unlocked since
    pending_since: datetime | None  # when the first change not in the figures committed
    recomputing: bool  # no snapshot covers the latest version yet

    @property
    def message(self) -> str:
        """E.g. '2 locks not yet in these figures, recomputing (since 14:02).'"""
        if not self.behind_by:
            return ""
        parts = [
            f"{n} {word}{pluralize(n)}"
            for n, word in ((self.locked, "lock"), (self.unlocked, "unlock"))
            if n
        ] or [f"{self.behind_by} change{pluralize(self.behind_by)}"]
        what = " and ".join(parts)
        if not self.recomputing:
            return f"{what} not in these figures; newer figures include them."
        since = ""
        if self.pending_since is not None:
            since = f" (since {timezone.localtime(self.pending_since):%H:%M})"
        return f"{what} not yet in these figures, recomputing{since}."

    def as_json(self) -> dict:
        return {
            "latest_dataset_version": self.latest_dataset_version,
            "behind_by": self.behind_by,
            "not_yet_included": {"locked": self.locked, "unlocked": self.unlocked},
            "recomputing": self.recomputing,
        }


def freshness_of(snapshot: StatisticsSnapshot | None) -> Freshness:
    version = snapshot.dataset_version if snapshot else 0
    changes = changes_since(version)
    covered = (
        StatisticsSnapshot.objects.filter(dataset_version__gte=changes.latest_version).exists()
        if changes.versions
        else True
    )
    return Freshness(
        dataset_version=version,
        latest_dataset_version=max(version, changes.latest_version),
        behind_by=changes.versions,
        locked=changes.locked,
        unlocked=changes.unlocked,
        pending_since=changes.oldest_at,
        recomputing=not covered,
    )
