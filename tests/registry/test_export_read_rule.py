"""One read rule for exports (Record.objects.exportable_to): the web export and the API give
each role the same records. The PI and monitors get the locked dataset; site staff their own
centre's records, unlocked ones too; data managers everything."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.core.cache import cache

from centers.models import Membership, Role
from centers.tokens import issue_api_token
from registry.exports.build import build_export
from registry.exports.jobs import jobs_of
from registry.exports.options import ExportOptions
from registry.models import Record
from registry.services.records import create_record
from tests.registry.api_calls import read
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def web_record_ids(client, user, django_capture_on_commit_callbacks) -> set[str]:
    """The records of the widest export the web page offers this person."""
    client.force_login(user)
    page = client.get("/exports/")
    which = "all" if b"All records, with a lock-status column" in page.content else "locked"
    form = {"which": which, "dates": "shift", "raw_or_label": "raw", "header": "raw"}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/exports/", {**form, "formats": ["csv"]}).status_code == 302
    job = jobs_of(user)[0]
    assert job["state"] == "done", job
    download = client.get(f"/exports/{job['id']}/download/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    rows = csv.DictReader(io.StringIO(archive.read("registry_data.csv").decode()))
    return {r["record_id"] for r in rows}


def api_record_ids(client, user, fmt: str = "json") -> set[str]:
    cache.clear()
    token = issue_api_token(user=user)
    response = read(client.post("/api/", {"token": token, "content": "record", "format": fmt}))
    assert response.status_code == 200, response.content
    text = response.content.decode()
    rows = json.loads(text) if fmt == "json" else list(csv.DictReader(io.StringIO(text)))
    return {r["record_id"] for r in rows}


@pytest.mark.parametrize("who", ["pi", "monitor"])
def test_pi_and_monitor_get_the_locked_dataset_through_api_and_web(
    client, dataset, people, who, django_capture_on_commit_callbacks
):
    locked = {"MIL-0001", "MIL-0002", "BOL-0001"}
    assert api_record_ids(client, people[who]) == locked  # MIL-0003 is unlocked
    assert api_record_ids(client, people[who], "csv") == locked
    assert web_record_ids(client, people[who], django_capture_on_commit_callbacks) == locked


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("dm", {"MIL-0001", "MIL-0002", "MIL-0003", "BOL-0001"}),
        ("coord_mil", {"MIL-0001", "MIL-0002", "MIL-0003"}),
        ("coord_bol", {"BOL-0001"}),
    ],
)
def test_other_roles_get_the_same_records_through_api_and_web(
    client, dataset, people, who, expected, django_capture_on_commit_callbacks
):
    assert api_record_ids(client, people[who]) == expected
    assert web_record_ids(client, people[who], django_capture_on_commit_callbacks) == expected


def test_the_rule_holds_below_the_form_and_per_centre(dataset, people, centers, tmp_path):
    """An export job asked for unlocked records still gets only what the role may export; a PI
    who is also a BOL coordinator gets BOL's unlocked records, not MIL's."""
    everything = ExportOptions(locked_only=False, formats=("csv",))
    result = build_export(user=people["pi"], options=everything, directory=tmp_path / "pi")
    assert result.manifest["records"] == 3
    assert "MIL-0003" not in (result.directory / "registry_data.csv").read_text()

    bol_unlocked = create_record(user=people["coord_bol"], center=centers["BOL"])
    Membership.objects.create(user=people["pi"], center=centers["BOL"], role=Role.SITE_COORDINATOR)
    pi = type(people["pi"]).objects.get(pk=people["pi"].pk)  # a fresh access cache
    ids = set(Record.objects.exportable_to(pi).values_list("record_id", flat=True))
    assert ids == {"MIL-0001", "MIL-0002", "BOL-0001", bol_unlocked.record_id}
    assert set(
        Record.objects.exportable_to(pi, include_unlocked=False).values_list("record_id", flat=True)
    ) == {"MIL-0001", "MIL-0002", "BOL-0001"}
