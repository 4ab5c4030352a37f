"""The analysis dataset behind a snapshot (one row per record and endpoint, gzipped CSV):
stored just after the snapshot with its records' hashes (SnapshotDataset), read back by the
details stage, other CI methods and the downloads."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable
from typing import Protocol

from registry.csv_safety import unguard

from .columns import runs
from .models import SnapshotDataset, StatisticsSnapshot

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


class HasCsv(Protocol):
    record_id: str
    csv: str  # a record's rows of the analysis dataset (DATASET_COLUMNS, no header)


#: Compressed runs of records by their text (the records' own strings: hashed once, compared
#: by identity): a lock adds one record, so every run but one is unchanged at the next
#: recompute and is not compressed again.
_BLOCKS: dict[tuple, bytes] = {}
#: How many runs the last analysis_dataset_gz call compressed anew (read by tests).
GZ_WORK = {"blocks_compressed": 0}


def analysis_dataset_gz(
    records: Iterable[HasCsv], record_runs: Iterable[list[HasCsv]] | None = None
) -> bytes:
    """The header and the records' rows, in order, as gzip members (one per run of records
    whose ids share all but the last two characters, about a hundred): concatenated members
    are one gzip file, which decompresses to exactly the one CSV text. record_runs:
    runs(records), where the caller has them already."""
    parts = [_gz(",".join(DATASET_COLUMNS) + "\n")]
    blocks: dict[tuple, bytes] = {}
    GZ_WORK["blocks_compressed"] = 0
    for run in runs(records) if record_runs is None else record_runs:
        parts.append(_block(run, blocks))
    _BLOCKS.clear()
    _BLOCKS.update(blocks)
    return b"".join(parts)


def _block(run: list[HasCsv], blocks: dict[tuple, bytes]) -> bytes:
    key = tuple(r.csv for r in run)
    data = _BLOCKS.get(key)
    if data is None:
        data = _gz("".join(key))
        GZ_WORK["blocks_compressed"] += 1
    blocks[key] = data
    return data


def _gz(text: str) -> bytes:
    return gzip.compress(text.encode(), compresslevel=1, mtime=0)


class DatasetPending(LookupError):
    """The snapshot's records (hashes, analysis dataset) are not stored yet."""


def _stored(snapshot: StatisticsSnapshot, field: str):
    found = SnapshotDataset.objects.filter(snapshot=snapshot).values_list(field, flat=True)[:1]
    if not found:
        raise DatasetPending(f"the records of dataset v{snapshot.dataset_version} are not stored")
    return found[0]


def record_hashes_of(snapshot: StatisticsSnapshot) -> dict[str, str]:
    """record_id -> SHA-256 of each record behind the snapshot; DatasetPending if not stored."""
    return _stored(snapshot, "record_hashes")


def read_analysis_dataset(snapshot: StatisticsSnapshot) -> list[dict[str, str]]:
    """The stored rows, values as they are (the stored CSV's formula neutralising undone);
    DatasetPending if not stored yet."""
    text = gzip.decompress(bytes(_stored(snapshot, "analysis_dataset_gz"))).decode()
    return [{k: unguard(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]
