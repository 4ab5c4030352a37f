"""A large export is built by a real Celery worker (registry.build_export), reporting progress
in the job's status file, while the web process only enqueues it."""

from __future__ import annotations

import json
import time
import zipfile

import pytest

from tests.live import create_live_stack, drop_live_stack
from tests.tools import require_redis

pytestmark = pytest.mark.worker
BROKER = "redis://127.0.0.1:6379/9"
SETUP = """
from centers.models import Center, Membership, Role, User
from registry.exports.jobs import create_job
from registry.exports.options import ExportOptions
from registry.exports.views import send_export_job
from registry.services.dictionary import import_default_dictionary
from registry.services.records import create_record, save_instrument
v = import_default_dictionary()
mil = Center.objects.create(code="MIL", name="Milano", city="Milano")
coord = User.objects.create_user("coord", password="pw-for-tests-123")
Membership.objects.create(user=coord, center=mil, role=Role.SITE_COORDINATOR)
dm = User.objects.create_user("dm", password="pw-for-tests-123")
Membership.objects.create(user=dm, center=None, role=Role.DATA_MANAGER)
for n in range(3):
    r = create_record(user=coord, center=mil)
    save_instrument(user=coord, record=r, instrument="enrolment", instance=1,
                    data={"sex": "1", "year_of_birth": str(1950 + n)}, status=0,
                    expected_version=None, dictionary_version=v)
job = create_job(user=dm, options=ExportOptions(locked_only=False, formats=("csv", "spss")))
send_export_job(job)
print("JOB", job)
"""


def test_worker_builds_the_export_and_reports_progress(
    django_db_setup, django_db_blocker, tmp_path
):
    require_redis(BROKER)
    root = tmp_path / "exports"
    with django_db_blocker.unblock():
        stack = create_live_stack(broker_url=BROKER, extra_env={"EXPORT_ROOT": str(root)})
    try:
        job = stack.shell(SETUP).split("JOB")[-1].strip()
        status_file = root / job / "status.json"
        assert json.loads(status_file.read_text())["state"] == "queued"
        stack.start_worker()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            status = json.loads(status_file.read_text())
            if status["state"] in ("done", "failed"):
                break
            time.sleep(0.3)
        assert status["state"] == "done", status
        assert status["total"] == 3 and status["done"] == 3
        with zipfile.ZipFile(root / job / "files" / status["zip"]) as archive:
            assert sorted(archive.namelist()) == [
                "manifest.json",
                "registry_data.csv",
                "registry_data.sav",
            ]
            rows = archive.read("registry_data.csv").decode().splitlines()
        assert [r.split(",")[0] for r in rows[1:]] == ["MIL-0001", "MIL-0002", "MIL-0003"]
    finally:
        with django_db_blocker.unblock():
            drop_live_stack(stack)
