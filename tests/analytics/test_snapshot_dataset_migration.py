"""Migration 0006 moves every existing snapshot's record hashes and analysis dataset to its new
row (SnapshotDataset), where the readers find them; reversed, the snapshot has them again. On a
live stack's own database, migrated by its owner as in production."""

from __future__ import annotations

import gzip

import psycopg

from tests.live import create_live_stack, drop_live_stack

BEFORE, MOVED = "0005_snapshot_compression", "0006_snapshot_dataset"
DATASET_GZ = gzip.compress(b"record_id,centre\nMIL-0001,MIL\n")
OLD_SNAPSHOT = """
INSERT INTO analytics_statisticssnapshot (dataset_version, content_sha256, dictionary_version,
  analysis_config, analysis_config_sha256, ci_method, library_versions, n_locked_records,
  results, curves, record_hashes, analysis_dataset_gz, computed_at, duration_ms, load_ms,
  statistics_ms)
VALUES (1, repeat('0', 64), 1, '{}', '', 'log-log', '{}', 1, '{}', '{}',
  '{"MIL-0001": "aa"}', %s, now(), 1, 0, 0)
"""
READ = """
import json
from analytics.analysis_dataset import read_analysis_dataset, record_hashes_of
from analytics.models import StatisticsSnapshot
snapshot = StatisticsSnapshot.objects.get(dataset_version=1)
print(json.dumps([record_hashes_of(snapshot), read_analysis_dataset(snapshot)]))
"""


def test_existing_snapshots_keep_their_records_readable(django_db_blocker):
    with django_db_blocker.unblock():
        stack = create_live_stack()
    try:
        stack.manage("migrate", "analytics", BEFORE, "--noinput", as_owner=True)
        with psycopg.connect(stack.owner_url, autocommit=True) as conn:
            conn.execute(OLD_SNAPSHOT, [DATASET_GZ])
        stack.manage("migrate", "analytics", MOVED, "--noinput", as_owner=True)
        assert stack.shell(READ).strip().splitlines()[-1] == (
            '[{"MIL-0001": "aa"}, [{"record_id": "MIL-0001", "centre": "MIL"}]]'
        )

        stack.manage("migrate", "analytics", BEFORE, "--noinput", as_owner=True)
        with psycopg.connect(stack.owner_url) as conn:
            hashes, data = conn.execute(
                "SELECT record_hashes, analysis_dataset_gz FROM analytics_statisticssnapshot"
            ).fetchone()
        assert hashes == {"MIL-0001": "aa"} and bytes(data) == DATASET_GZ
    finally:
        drop_live_stack(stack)
