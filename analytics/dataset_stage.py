"""The records behind a stored snapshot (their hashes and the analysis dataset) when its own task
did not store them after it (the worker died in between, or the write failed): computed again
from the locked records, if they are still exactly the snapshot's."""

from __future__ import annotations

import logging

from .models import SnapshotDataset, StatisticsSnapshot
from .paper_stage import records_of
from .services import HEAVY, load_dataset, store_dataset

logger = logging.getLogger(__name__)


def compute_snapshot_dataset(*, dataset_version: int) -> SnapshotDataset | None:
    """Idempotent: nothing if they are stored or the snapshot does not exist. Also nothing
    when the locked records have changed since the snapshot (a record locked or unlocked): the
    snapshot's own records can then no longer be told apart, and the newer snapshot (on its
    way) has its own."""
    snapshot = (
        StatisticsSnapshot.objects.defer(*HEAVY).filter(dataset_version=dataset_version).first()
    )
    if snapshot is None or SnapshotDataset.objects.filter(snapshot=snapshot).exists():
        return None
    records = records_of(snapshot, load_dataset())
    if records is None:
        logger.warning(
            "records of dataset v%s not stored: the locked records changed since", dataset_version
        )
        return None
    return store_dataset(snapshot, records)
