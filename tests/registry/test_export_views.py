"""The export page: options by role, a job built by the task, progress polled, download by the
person who asked only."""

from __future__ import annotations

import io
import zipfile

import pytest

from registry.exports.jobs import jobs_of, read_status
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
FORM = {
    "which": "locked",
    "dates": "shift",
    "raw_or_label": "raw",
    "header": "raw",
    "data_access_group": "on",
    "formats": ["csv", "dictionary", "r"],
}


def build(client, user, django_capture_on_commit_callbacks, **changes):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/exports/", {**FORM, **changes})
    assert response.status_code == 302
    return jobs_of(user)[0]


def test_data_manager_builds_and_downloads(
    client, dataset, people, django_capture_on_commit_callbacks
):
    client.force_login(people["dm"])
    page = client.get("/exports/")
    assert page.status_code == 200 and b"All records, with a lock-status column" in page.content
    job = build(client, people["dm"], django_capture_on_commit_callbacks, which="all")
    assert job["state"] == "done" and job["done"] == 4
    status = client.get(f"/exports/{job['id']}/status/")
    assert b"Download" in status.content and b"hx-trigger" not in status.content
    download = client.get(f"/exports/{job['id']}/download/")
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert sorted(archive.namelist()) == [
        "manifest.json",
        "registry_data.csv",
        "registry_dictionary.csv",
        "registry_labels.R",
    ]
    assert b"MIL-0003" in archive.read("registry_data.csv")


def test_pi_gets_the_locked_dataset_only(
    client, dataset, people, django_capture_on_commit_callbacks
):
    client.force_login(people["pi"])
    page = client.get("/exports/")
    assert b"All records, with a lock-status column" not in page.content
    refused = client.post("/exports/", {**FORM, "which": "all"})
    assert refused.status_code == 200 and not jobs_of(people["pi"])
    job = build(client, people["pi"], django_capture_on_commit_callbacks)
    assert job["state"] == "done" and job["done"] == 3


def test_coordinator_export_is_own_centre_and_jobs_are_private(
    client, dataset, people, django_capture_on_commit_callbacks
):
    job = build(client, people["coord_bol"], django_capture_on_commit_callbacks, which="all")
    download = client.get(f"/exports/{job['id']}/download/")
    data = (
        zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
        .read("registry_data.csv")
        .decode()
    )
    assert "BOL-0001" in data and "MIL-" not in data
    client.force_login(people["coord_mil"])
    assert client.get(f"/exports/{job['id']}/download/").status_code == 404
    assert client.get(f"/exports/{job['id']}/status/").status_code == 404
    assert client.get("/exports/../../etc/download/").status_code == 404


def test_running_job_is_polled(client, dataset, people):
    from registry.exports.jobs import create_job
    from registry.exports.options import ExportOptions

    job_id = create_job(user=people["dm"], options=ExportOptions())
    client.force_login(people["dm"])
    row = client.get(f"/exports/{job_id}/status/")
    assert b'hx-trigger="every 1s"' in row.content
    assert read_status(job_id)["state"] == "queued"
    assert client.get(f"/exports/{job_id}/download/").status_code == 404


def test_anonymous_is_sent_to_login(client, dataset):
    assert client.get("/exports/").status_code == 302


def test_identified_and_deidentified_downloads_have_distinct_names_and_words(
    client, dataset, people, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from registry.dataset import current_version

    people["dm"].date_format = "mdy"
    people["dm"].save(update_fields=["date_format"])
    build(client, people["dm"], django_capture_on_commit_callbacks)
    build(client, people["dm"], django_capture_on_commit_callbacks, deidentify="on", dates="days")
    # Both may start within the same second: tell them apart by what they hold.
    jobs = {job["options"]["deidentify"]: job for job in jobs_of(people["dm"])}
    identified, deidentified = jobs[False], jobs[True]
    version = current_version()
    today = timezone.localdate().isoformat()
    names = {}
    for job in (identified, deidentified):
        download = client.get(f"/exports/{job['id']}/download/")
        disposition = download["Content-Disposition"]
        names[job["id"]] = disposition.split("filename=")[1].strip('"')
    assert names[identified["id"]] == f"registry_identified_locked_v{version}_{today}.zip"
    assert names[deidentified["id"]] == f"registry_deidentified_locked_v{version}_{today}.zip"

    page = client.get("/exports/").content.decode()
    assert "Identified (names, dates and free text kept)" in page
    assert "De-identified (dates as days from diagnosis)" in page
    assert "files: CSV, data dictionary, R script" in page
    started = timezone.localtime(timezone.now()).strftime("%m/%d/%Y")  # their month-first order
    assert started in page and "+00:00" not in page


def test_exports_started_within_one_second_are_listed_newest_first(
    client, dataset, people, django_capture_on_commit_callbacks
):
    ids = []
    for which in ("locked", "all", "locked", "all"):
        ids.append(
            build(client, people["dm"], django_capture_on_commit_callbacks, which=which)["id"]
        )
    assert [job["id"] for job in jobs_of(people["dm"])][:4] == ids[::-1]
