"""An export job never stays "running" or "queued" forever: a job whose worker stopped beating
ends as failed with a Retry button (a new job), a queued job whose message was lost is resent,
and a duplicate delivery builds nothing twice. In-process (Celery eager); the live kill -9 is in
tests/analytics/test_fault_recovery.py."""

from __future__ import annotations

import os
import time

import pytest

from registry.exports.jobs import (
    create_job,
    job_dir,
    jobs_of,
    read_status,
    sweep_stale_jobs,
    write_status,
)
from registry.exports.options import ExportOptions
from registry.exports.services import export_job_run
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
OPTIONS = ExportOptions(formats=("csv",))


def age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def worker_died_while_running(user) -> str:
    """What a worker killed mid-build leaves: claimed, running, a heartbeat that stopped."""
    job_id = create_job(user=user, options=OPTIONS)
    (job_dir(job_id) / "claimed").touch()
    write_status(job_id, state="running", total=4, done=1, message="Building the export")
    (job_dir(job_id) / "heartbeat").touch()
    return job_id


def test_a_job_whose_worker_died_ends_failed_and_its_retry_builds_it(
    client, dataset, people, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_STALE_SECONDS = 60
    job_id = worker_died_while_running(people["dm"])
    client.force_login(people["dm"])
    age(job_dir(job_id) / "heartbeat", 30)
    row = client.get(f"/exports/{job_id}/status/").content.decode()
    assert 'hx-trigger="every 1s"' in row and read_status(job_id)["state"] == "running"

    age(job_dir(job_id) / "heartbeat", 61)
    row = client.get(f"/exports/{job_id}/status/").content.decode()
    assert "failed" in row and "The worker building this export stopped" in row
    assert f"/exports/{job_id}/retry/" in row and "hx-trigger" not in row
    assert read_status(job_id)["state"] == "failed"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/exports/{job_id}/retry/")
    assert response.status_code == 302
    jobs = {job["id"]: job for job in jobs_of(people["dm"])}
    assert jobs.pop(job_id)["state"] == "failed"
    (retried,) = jobs.values()
    assert retried["state"] == "done" and retried["options"] == read_status(job_id)["options"]


def test_retry_is_for_ones_own_failed_jobs_only(client, dataset, people):
    job_id = worker_died_while_running(people["dm"])
    client.force_login(people["dm"])
    assert client.post(f"/exports/{job_id}/retry/").status_code == 404  # still beating
    client.force_login(people["pi"])
    write_status(job_id, state="failed")
    assert client.post(f"/exports/{job_id}/retry/").status_code == 404
    assert client.get(f"/exports/{job_id}/retry/").status_code == 405


def test_the_sweep_fails_stale_jobs_and_resends_lost_queued_ones(dataset, people, settings):
    settings.EXPORT_STALE_SECONDS = 60
    dead = worker_died_while_running(people["dm"])
    age(job_dir(dead) / "heartbeat", 61)
    lost = create_job(user=people["dm"], options=OPTIONS)  # its message never reached a worker
    (job_dir(lost) / "sends").write_text("1")
    age(job_dir(lost) / "sends", 61)
    assert sweep_stale_jobs() == 2
    assert read_status(dead)["state"] == "failed"
    assert read_status(lost)["state"] == "done"  # resent (eager: built at once)

    never = create_job(user=people["dm"], options=OPTIONS)
    (job_dir(never) / "sends").write_text("3")
    age(job_dir(never) / "sends", 61)
    assert sweep_stale_jobs() == 1
    assert read_status(never)["state"] == "failed"
    assert "No worker picked this export up" in read_status(never)["message"]


def test_a_duplicate_delivery_builds_nothing_twice(dataset, people):
    job_id = create_job(user=people["dm"], options=OPTIONS)
    (job_dir(job_id) / "claimed").touch()  # another worker took the first delivery
    assert export_job_run(job_id=job_id)["state"] == "queued"
    assert not (job_dir(job_id) / "files").exists()

    other = create_job(user=people["dm"], options=OPTIONS)
    assert export_job_run(job_id=other)["state"] == "done"
    write_status(other, state="failed")  # e.g. failed for a lost worker, then redelivered
    assert export_job_run(job_id=other)["state"] == "failed"
