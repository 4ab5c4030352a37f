"""The analysis dataset behind a snapshot (one row per record and endpoint, gzipped CSV):
written with the snapshot, read back by the details stage and the downloads."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable
from typing import Protocol

from registry.csv_safety import unguard

from .models import StatisticsSnapshot

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
    csv: str  # a record's rows of the analysis dataset (DATASET_COLUMNS, no header)


def analysis_dataset_gz(records: Iterable[HasCsv]) -> bytes:
    text = ",".join(DATASET_COLUMNS) + "\n" + "".join(r.csv for r in records)
    return gzip.compress(text.encode(), compresslevel=1, mtime=0)


def read_analysis_dataset(snapshot: StatisticsSnapshot) -> list[dict[str, str]]:
    """The stored rows, values as they are (the stored CSV's formula neutralising undone)."""
    text = gzip.decompress(bytes(snapshot.analysis_dataset_gz)).decode()
    return [{k: unguard(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]
