"""How far a snapshot is behind the locked dataset: the locks and unlocks committed after the
dataset version its figures describe, so stale figures are never shown as current."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext, ngettext

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
            ngettext(singular, plural, n) % {"n": n}
            for n, singular, plural in (
                (self.locked, "%(n)s lock", "%(n)s locks"),
                (self.unlocked, "%(n)s unlock", "%(n)s unlocks"),
            )
            if n
        ] or [ngettext("%(n)s change", "%(n)s changes", self.behind_by) % {"n": self.behind_by}]
        what = gettext(" and ").join(parts)
        if not self.recomputing:
            return gettext("%(what)s not in these figures; newer figures include them.") % {
                "what": what
            }
        if self.pending_since is None:
            return gettext("%(what)s not yet in these figures, recomputing.") % {"what": what}
        return gettext("%(what)s not yet in these figures, recomputing (since %(since)s).") % {
            "what": what,
            "since": f"{timezone.localtime(self.pending_since):%H:%M}",
        }

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
