"""Statistics snapshots: created through a lock in eager mode, idempotent per dataset version,
immutable, and describing exactly the locked records."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from analytics import services
from analytics.analysis_dataset import read_analysis_dataset, record_hashes_of
from analytics.details import compute_details
from analytics.models import SnapshotDetail, StatisticsSnapshot
from analytics.tasks import recompute_statistics
from registry.models import LockOutbox
from registry.services.locking import unlock_record
from tests.analytics.conftest import DEAD


def newest_version() -> int:
    return LockOutbox.objects.order_by("-dataset_version").first().dataset_version


def test_lock_creates_snapshot_after_commit(make_records, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_records(2)
    snapshot = StatisticsSnapshot.objects.get()
    assert snapshot.dataset_version == newest_version()
    assert snapshot.n_locked_records == 2
    assert snapshot.results["endpoints"]["os"]["n"] == 2
    assert snapshot.results["endpoints"]["os"]["events"] == 0
    assert snapshot.results["ci_method"] == snapshot.ci_method == "log-log"
    assert len(snapshot.content_sha256) == 64
    assert set(record_hashes_of(snapshot)) == {"MIL-0001", "MIL-0002"}
    assert set(snapshot.library_versions) >= {"lifelines", "numpy", "pandas", "python"}
    assert snapshot.dictionary_version == 1
    assert snapshot.analysis_config["profile"] == "gi_lms"
    assert snapshot.duration_ms >= snapshot.load_ms + snapshot.statistics_ms - 1
    assert snapshot.dataset_created_at is not None
    assert LockOutbox.objects.get().sent_at is not None


def test_nothing_is_computed_before_commit(make_records, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_records(1)
    assert len(callbacks) == 1
    assert not StatisticsSnapshot.objects.exists()


def test_unlock_recomputes_without_the_record(
    make_records, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first, _second = make_records(2)
    with django_capture_on_commit_callbacks(execute=True):
        unlock_record(user=people["dm"], record=first, reason="correct a date")
    latest = StatisticsSnapshot.objects.latest()
    assert latest.dataset_version == newest_version()
    assert latest.n_locked_records == 1
    assert list(record_hashes_of(latest)) == ["MIL-0002"]
    assert StatisticsSnapshot.objects.count() == 2


def test_duplicate_deliveries_leave_one_snapshot(make_records, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        make_records(1)
    version = newest_version()
    for _ in range(3):
        recompute_statistics.apply(args=[version], throw=True)
    assert list(StatisticsSnapshot.objects.values_list("dataset_version", flat=True)) == [version]


def test_out_of_order_deliveries_coalesce_and_older_versions_do_nothing(
    make_records, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        make_records(1)
        make_records(1, data=DEAD)
        make_records(1, centre="BOL")
    versions = list(
        LockOutbox.objects.order_by("dataset_version").values_list("dataset_version", flat=True)
    )
    assert len(versions) == 3
    # The oldest task arrives first: it computes the newest dataset (a burst coalesces).
    assert recompute_statistics.apply(args=[versions[0]], throw=True).get() == versions[2]
    for version in (versions[2], versions[1], versions[0]):
        assert recompute_statistics.apply(args=[version], throw=True).get() is None
    snapshot = StatisticsSnapshot.objects.get()
    assert snapshot.dataset_version == versions[2]
    assert snapshot.n_locked_records == 3
    assert snapshot.results["endpoints"]["os"]["events"] == 1
    assert snapshot.results["centres"] == {"BOL": 1, "MIL": 2}


def test_a_concurrent_duplicate_returns_the_stored_snapshot(
    make_records, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_records(1)
    stored = StatisticsSnapshot.objects.get()
    # Another worker got there first: computing again for the same version stores nothing new.
    assert services.compute_snapshot().pk == stored.pk
    assert StatisticsSnapshot.objects.count() == 1


def test_snapshots_are_immutable_in_the_database(make_records, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_records(1)
    snapshot = StatisticsSnapshot.objects.get()
    statements = [
        (
            "UPDATE analytics_statisticssnapshot SET n_locked_records = 99 WHERE id = %s",
            snapshot.pk,
        ),
        ("DELETE FROM analytics_statisticssnapshot WHERE id = %s", snapshot.pk),
        ("UPDATE analytics_snapshotdetail SET duration_ms = 0 WHERE snapshot_id = %s", snapshot.pk),
        ("DELETE FROM analytics_snapshotdetail WHERE snapshot_id = %s", snapshot.pk),
    ]
    for sql, pk in statements:
        with (
            pytest.raises(DatabaseError, match="immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [pk])
    assert StatisticsSnapshot.objects.get().n_locked_records == 1


def test_details_follow_the_snapshot(make_records, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_records(2)
        make_records(2, data=DEAD, centre="BOL")
    snapshot = StatisticsSnapshot.objects.get()
    detail = SnapshotDetail.objects.get(snapshot=snapshot)
    cox = detail.results["cox"]["os_by_centre"]
    assert cox["reference"] == "BOL" and cox["terms"][0]["term"] == "MIL"
    assert cox["terms"][0]["infinite"] is True  # no deaths at MIL: monotone likelihood
    assert set(detail.curves["os"]) == {"site_of_origin", "centre", "chemotherapy"}
    assert set(detail.curves["os"]["centre"]) == {"BOL", "MIL"}
    assert "stage" in snapshot.curves["os"]  # drawn at once, so stored with the snapshot
    assert compute_details(dataset_version=snapshot.dataset_version) is None  # idempotent


def test_details_of_a_superseded_snapshot_are_skipped(
    make_records, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        make_records(1)
    first = services.compute_snapshot()
    with django_capture_on_commit_callbacks(execute=False):
        make_records(1, data=DEAD)
    services.compute_snapshot()
    assert compute_details(dataset_version=first.dataset_version) is None
    assert not SnapshotDetail.objects.exists()


def test_only_locked_and_not_deleted_records_count(
    make_records, django_capture_on_commit_callbacks
):
    make_records(2, lock=False)
    with django_capture_on_commit_callbacks(execute=True):
        make_records(1, data=DEAD)
    snapshot = StatisticsSnapshot.objects.get()
    assert snapshot.n_locked_records == 1
    assert list(record_hashes_of(snapshot)) == ["MIL-0003"]
    rows = read_analysis_dataset(snapshot)
    assert {r["endpoint"] for r in rows} == {
        "os",
        "dfs",
        "os_localized",
        "os_localized_operated",
        "followup",
    }
    os_row = next(r for r in rows if r["endpoint"] == "os")
    assert os_row["event"] == "1"
    # 2010-03-04 .. 2013-05-05 = 1158 days
    assert float(os_row["time_months"]) == pytest.approx(1158 / 30.4375, abs=1e-12)
    assert (os_row["stage"], os_row["site_of_origin"], os_row["chemotherapy"]) == (
        "Localized",
        "Small bowel",
        "None",
    )


def test_content_hash_follows_the_data(make_records, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_records(1)
    first = StatisticsSnapshot.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        make_records(1, data=DEAD)
    second = StatisticsSnapshot.objects.latest()
    assert first.content_sha256 != second.content_sha256
    assert record_hashes_of(first)["MIL-0001"] == record_hashes_of(second)["MIL-0001"]


def test_seed_demo_ends_with_a_current_snapshot(dictionary, django_capture_on_commit_callbacks):
    from registry.services.demo import seed_demo

    with django_capture_on_commit_callbacks(execute=True):
        seed_demo()
    snapshot = StatisticsSnapshot.objects.latest()
    assert snapshot.dataset_version == newest_version()
    assert snapshot.n_locked_records == 33
    assert snapshot.results["n_patients"] == 33
    assert snapshot.results["counts"]["salvage_surgery"]["n"] == 5


@pytest.mark.django_db
def test_large_snapshot_values_are_stored_without_the_slow_compression():
    """Curves and record hashes compressed with lz4 where the server has it (faster to store
    than pglz); the gzipped analysis dataset stored out of line, not compressed twice."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attcompression, attstorage FROM pg_attribute "
            "WHERE attrelid IN ('analytics_statisticssnapshot'::regclass, "
            "'analytics_snapshotdataset'::regclass) "
            "AND attname IN ('curves', 'record_hashes', 'analysis_dataset_gz')"
        )
        found = {name: (compression, storage) for name, compression, storage in cursor}
        try:
            with transaction.atomic():
                cursor.execute("CREATE TEMP TABLE lz4_probe (a text COMPRESSION lz4)")
            has_lz4 = True
        except DatabaseError:  # a server built without lz4
            has_lz4 = False
    assert found["analysis_dataset_gz"][1] == "e"
    if has_lz4:
        assert found["curves"][0] == found["record_hashes"][0] == "l"
