"""A snapshot's records (their hashes and the analysis dataset) are stored in their own row just
after the headline snapshot: until then every reader says they are being computed (downloads
answer 503 with Retry-After), and a worker that died in between has them stored again by the
redelivered message or the sweep, followed by the stages that read them."""

from __future__ import annotations

import json
from html import unescape

import pytest

from analytics import services
from analytics.analysis_dataset import record_hashes_of
from analytics.models import SnapshotDataset, SnapshotDetail, SnapshotPaper, StatisticsSnapshot
from analytics.tasks import recompute_statistics, store_snapshot_dataset, sweep_snapshot_stages
from registry.models import LockOutbox
from tests.analytics.conftest import DEAD


class WorkerDied(Exception):
    """Stands for the worker killed between storing the snapshot and storing its records."""


@pytest.fixture
def headline_only(make_records, monkeypatch, django_capture_on_commit_callbacks):
    """The headline snapshot of three locked records, its records not stored."""
    with django_capture_on_commit_callbacks(execute=False):
        make_records(2)
        make_records(1, centre="BOL", data=DEAD)

    def die(*args, **kwargs):
        raise WorkerDied

    version = LockOutbox.objects.order_by("-dataset_version").first().dataset_version
    with monkeypatch.context() as patched:
        patched.setattr(services, "store_dataset", die)
        with pytest.raises(WorkerDied):
            recompute_statistics.apply(args=[version], throw=True)
    return StatisticsSnapshot.objects.get(dataset_version=version)


def test_the_headline_snapshot_is_stored_before_its_records(headline_only):
    assert headline_only.n_locked_records == 3
    assert not SnapshotDataset.objects.exists()
    assert not {"record_hashes", "analysis_dataset_gz"} & {
        f.name for f in StatisticsSnapshot._meta.get_fields()
    }


def test_every_reader_says_the_records_are_being_computed(client, people, headline_only):
    client.force_login(people["pi"])
    version = headline_only.dataset_version
    html = unescape(client.get("/analytics/").content.decode())
    assert 'id="headline-figures"' in html and "ci-pending" not in html
    assert "details=0" in html  # the page reloads once every stage is stored

    # Another CI method is computed from the analysis dataset: the stored one is shown.
    response = client.get("/analytics/?ci=log")
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "log-log</strong> transformation" in html
    pending = html[html.index('id="ci-pending"') :]
    assert pending.startswith('id="ci-pending" class="text-body-secondary">Being computed')
    assert "analysis dataset follows" in pending[:300]

    for url in (
        "/analytics/analysis-dataset.csv",
        "/analytics/curves.csv",  # subgroup curves: from the dataset until the details
        "/analytics/summary.json?ci=log",
        f"/analytics/figures/v{version}/os_by_site_of_origin.svg?inline=1",
    ):
        answer = client.get(url)
        assert answer.status_code == 503, url
        assert answer["Retry-After"] and "Being computed" in answer.content.decode(), url
    assert client.get("/analytics/summary.json").status_code == 200
    assert client.get(f"/analytics/figures/v{version}/os.svg").status_code == 200


def test_the_history_says_so_instead_of_the_records(
    client, people, headline_only, make_records, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_records(1)
    newest = StatisticsSnapshot.objects.latest()
    client.force_login(people["pi"])
    url = f"/analytics/history/?a={headline_only.dataset_version}&b={newest.dataset_version}"
    response = client.get(url)
    assert response.status_code == 200
    diff = response.context["diff"]
    assert "added" not in diff and diff["figures"]
    # A newer snapshot exists and the records changed: they cannot be stored any more.
    assert diff["pending"].startswith("Not stored for this dataset version: a newer one")
    assert 'id="diff-records-pending"' in response.content.decode()
    assert store_snapshot_dataset.apply(args=[headline_only.dataset_version]).get() is None
    assert not SnapshotDataset.objects.filter(snapshot=headline_only).exists()
    answer = client.get(f"/analytics/analysis-dataset.csv?version={headline_only.dataset_version}")
    assert answer.status_code == 503 and "superseded" in answer.content.decode()


def test_the_later_stages_wait_for_the_records(headline_only):
    from analytics.details import compute_details

    assert compute_details(dataset_version=headline_only.dataset_version) is None
    assert not SnapshotDetail.objects.exists()


def test_a_redelivered_recompute_stores_the_records_then_the_later_stages(
    headline_only, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert recompute_statistics.apply(args=[headline_only.dataset_version]).get() is None
    stored = SnapshotDataset.objects.get(snapshot=headline_only)
    _results, _curves, dataset_gz = services.compute_statistics(services.load_dataset())
    assert bytes(stored.analysis_dataset_gz) == dataset_gz
    assert set(record_hashes_of(headline_only)) == {"MIL-0001", "MIL-0002", "BOL-0001"}
    assert SnapshotPaper.objects.filter(snapshot=headline_only).exists()
    assert SnapshotDetail.objects.filter(snapshot=headline_only).exists()


def test_the_sweep_resends_the_records_stage(
    headline_only, settings, django_capture_on_commit_callbacks
):
    settings.SNAPSHOT_STAGES_RESEND_AFTER_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_snapshot_stages.apply().get() == 1  # the records; they send the rest
    assert SnapshotDataset.objects.filter(snapshot=headline_only).exists()
    assert SnapshotPaper.objects.filter(snapshot=headline_only).exists()
    assert SnapshotDetail.objects.filter(snapshot=headline_only).exists()


def test_the_curves_not_drawn_at_once_follow_with_the_records(
    client, people, headline_only, django_capture_on_commit_callbacks
):
    """Only the dashboard's own curves (OS, OS by stage, DFS) are in the headline row; the
    others are stored with the records (by the redelivery here), the same as one pass gives,
    and their figures answer 503 until then."""
    version = headline_only.dataset_version
    assert set(headline_only.curves) == {"os", "dfs"} and "stage" in headline_only.curves["os"]
    client.force_login(people["pi"])
    figure = f"/analytics/figures/v{version}/followup.svg?inline=1"
    answer = client.get(figure)
    assert answer.status_code == 503 and "Being computed" in answer.content.decode()
    assert client.get(f"/analytics/figures/v{version}/os_by_stage.svg?inline=1").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        recompute_statistics.apply(args=[version])
    stored = SnapshotDataset.objects.get(snapshot=headline_only)
    _results, curves, _dataset_gz = services.compute_statistics(services.load_dataset())
    later = {k: v for k, v in curves.items() if k not in ("os", "dfs", "competing_risks")}
    assert {"followup", "os_localized"} <= set(later)
    assert stored.curves == json.loads(json.dumps(later))
    assert client.get(figure).status_code == 200
