"""The paper's tables for a stored snapshot (Table 1 with exact tests, drug response, PFS by line,
competing risks): a later task than the headline figures, computed from exactly the locked
records the snapshot describes and stored against its dataset version, once."""

from __future__ import annotations

import logging
import time

from .config import config_digest
from .derived import DerivedRecord
from .endpoints import dataset_hash
from .models import SnapshotDataset, SnapshotPaper, StatisticsSnapshot, store_stage
from .services import HEAVY, LoadedDataset, compute_paper, load_dataset

logger = logging.getLogger(__name__)


def records_of(snapshot: StatisticsSnapshot, loaded: LoadedDataset) -> list[DerivedRecord] | None:
    """The records behind `snapshot` among those loaded now (records locked since are left
    out), or None when they cannot all be had: one was unlocked or changed, or the dictionary
    or analysis configuration differ. The content hash proves it is the same data."""
    if (
        loaded.dictionary.number != snapshot.dictionary_version
        or config_digest(loaded.config) != snapshot.analysis_config_sha256
    ):
        return None
    records = loaded.records
    if loaded.dataset_version != snapshot.dataset_version:
        hashes = (
            SnapshotDataset.objects.filter(snapshot=snapshot)
            .values_list("record_hashes", flat=True)
            .first()
        )
        if hashes is None:  # not stored yet: their stage sends this one once they are
            return None
        records = [r for r in records if hashes.get(r.record_id) == r.digest]
    if dataset_hash({r.record_id: r.digest for r in records}) != snapshot.content_sha256:
        return None
    return records


def compute_paper_tables(*, dataset_version: int) -> SnapshotPaper | None:
    """Idempotent: nothing if the tables exist, the snapshot does not, a newer snapshot has
    superseded it (its own task will run), or its records are no longer all locked as they
    were (then a newer snapshot is on its way, for the version that changed them)."""
    snapshot = (
        StatisticsSnapshot.objects.defer(*HEAVY).filter(dataset_version=dataset_version).first()
    )
    if snapshot is None or SnapshotPaper.objects.filter(snapshot=snapshot).exists():
        return None
    if StatisticsSnapshot.objects.filter(dataset_version__gt=dataset_version).exists():
        return None
    started = time.perf_counter()
    loaded = load_dataset()
    records = records_of(snapshot, loaded)
    if records is None:
        logger.warning(
            "paper tables for dataset v%s not computed: its records changed since", dataset_version
        )
        return None
    results, curves = compute_paper(records, loaded, ci_method=snapshot.ci_method)
    return store_stage(SnapshotPaper, snapshot, started, results=results, curves=curves)
