"""Import, delete and lock through the API: validated like the forms, all or nothing, never
into another centre, refused on locked records."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from centers.tokens import issue_api_token
from registry.models import InstrumentData, Record
from tests.fixtures_records import PASSWORD
from tests.registry.api_calls import read
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, dataset, people):
    cache.clear()
    tokens = {
        key: issue_api_token(user=people[key])
        for key in ("dm", "coord_mil", "coord_bol", "inv_mil")
    }

    def call(who: str, rows=None, **data):
        data.setdefault("token", tokens[who])
        data.setdefault("content", "record")
        data.setdefault("format", "json")
        if rows is not None:
            data["data"] = json.dumps(rows)
        return read(client.post("/api/", data))

    return call


def snapshot() -> list:
    return list(InstrumentData.objects.order_by("pk").values_list("pk", "version", "data"))


def test_errors_reported_per_row_and_nothing_written(api):
    before, records = snapshot(), Record.objects.count()
    response = api(
        "coord_mil",
        [
            {"record_id": "MIL-0003", "tumour_size_mm": "9999x", "date_dx": "2010-02-30"},
            {"record_id": "MIL-0003", "stage_dx": "7"},
            {"record_id": "MIL-0004", "sex": "1"},  # valid on its own: still not written
        ],
    )
    assert response.status_code == 400
    body = json.loads(response.content)
    problems = {(d["record"], d["field_name"], d["value"]) for d in body["details"]}
    assert problems == {
        ("MIL-0003", "tumour_size_mm", "9999x"),
        ("MIL-0003", "date_dx", "2010-02-30"),
        ("MIL-0003", "stage_dx", "7"),
    }
    assert '\n"MIL-0003","stage_dx","7","' in body["error"]  # REDCap: record,field,value,msg
    assert snapshot() == before and Record.objects.count() == records
    unknown = api("coord_mil", [{"record_id": "MIL-0003", "shoe_size": "44"}])
    assert unknown.status_code == 400 and "shoe_size" in json.loads(unknown.content)["error"]


def test_import_validates_like_the_forms_and_merges(api):
    ok = api(
        "coord_mil",
        [
            {
                "record_id": "MIL-0003",
                "date_dx": "04/03/2010",
                "site_of_origin": "2",
                "diagnosis_pathology_complete": "1",
            }
        ],
        dateFormat="DMY",
    )
    assert ok.status_code == 200, ok.content
    assert json.loads(ok.content) == {"count": 1}
    row = InstrumentData.objects.get(record__record_id="MIL-0003", instrument="diagnosis_pathology")
    assert row.data["date_dx"] == "2010-03-04" and row.status == 1
    # normal: blanks keep stored values; overwrite: blanks erase them
    api("coord_mil", [{"record_id": "MIL-0003", "site_of_origin": "", "tumour_size_mm": "50"}])
    row.refresh_from_db()
    assert row.data["site_of_origin"] == "2" and row.data["tumour_size_mm"] == "50"
    api(
        "coord_mil",
        [{"record_id": "MIL-0003", "site_of_origin": "", "tumour_size_mm": "50"}],
        overwriteBehavior="overwrite",
    )
    row.refresh_from_db()
    assert row.data["site_of_origin"] == "" and row.data["tumour_size_mm"] == "50"
    # calculations are the server's: age from the stored year of birth and date_dx
    api("coord_mil", [{"record_id": "MIL-0003", "sex": "2", "age_at_dx": "12"}])
    enrolment = InstrumentData.objects.get(record__record_id="MIL-0003", instrument="enrolment")
    assert enrolment.data["age_at_dx"] == "39"
    checkbox = api(
        "coord_mil",
        [
            {
                "record_id": "MIL-0003",
                "stage_dx": "3",
                "metastatic_sites___2": "1",
                "metastatic_sites___6": "0",
            }
        ],
        returnContent="ids",
    )
    assert json.loads(checkbox.content) == ["MIL-0003"]
    stage = InstrumentData.objects.get(record__record_id="MIL-0003", instrument="stage")
    assert stage.data["metastatic_sites"] == ["2"]


def test_repeating_rows_and_new_records(api):
    rows = [
        {"record_id": "MIL-0004", "redcap_repeat_instrument": "", "sex": "1"},
        {
            "record_id": "MIL-0004",
            "redcap_repeat_instrument": "relapse",
            "redcap_repeat_instance": "2",
            "relapse_date": "2015-01-01",
            "relapse_type": "2",
        },
    ]
    response = api("coord_mil", rows, returnContent="ids")
    assert response.status_code == 200, response.content
    record = Record.objects.get(record_id="MIL-0004")
    assert record.created_by.username == "alice"
    assert record.instruments.get(instrument="relapse", instance=2).data["relapse_type"] == "2"
    skipped = api("coord_mil", [{"record_id": "MIL-0009", "sex": "1"}])
    assert skipped.status_code == 400 and "MIL-0005" in json.loads(skipped.content)["error"]
    auto = api(
        "coord_mil",
        [{"record_id": "anything", "sex": "2"}, {"record_id": "other", "sex": "1"}],
        forceAutoNumber="true",
        returnContent="auto_ids",
    )
    assert json.loads(auto.content) == ["MIL-0005,anything", "MIL-0006,other"]


def test_import_never_places_or_changes_a_record_in_another_centre(api):
    before, records = snapshot(), Record.objects.count()
    attempts = [
        ("coord_mil", {"record_id": "BOL-0002", "sex": "1"}),  # new id in a foreign centre
        ("coord_bol", {"record_id": "MIL-0001", "sex": "2"}),  # a foreign record
        ("coord_bol", {"record_id": "MIL-0003", "sex": "2"}),  # foreign, unlocked
        ("coord_mil", {"record_id": "BOL-0001", "sex": "2"}),
    ]
    for who, row in attempts:
        response = api(who, [row])
        assert response.status_code == 400, (who, row)
        assert "own centre" in json.loads(response.content)["error"]
    auto = api(
        "coord_bol",
        [{"record_id": "MIL-0001", "sex": "1"}],
        forceAutoNumber="1",
        returnContent="ids",
    )
    assert json.loads(auto.content) == ["BOL-0002"]  # allocated in the user's own centre
    assert Record.objects.get(record_id="BOL-0002").center.code == "BOL"
    assert Record.objects.count() == records + 1
    assert [r for r in snapshot() if r[0] <= before[-1][0]] == before
    dm = api("dm", [{"record_id": "MIL-0003", "sex": "2"}])
    assert dm.status_code == 400  # study-wide roles read; they do not enter data


def test_locked_records_refuse_import_and_delete(api):
    before = snapshot()
    response = api("coord_mil", [{"record_id": "MIL-0001", "tumour_size_mm": "81"}])
    assert response.status_code == 400 and "locked" in json.loads(response.content)["error"]
    delete = api("coord_mil", action="delete", **{"records[0]": "MIL-0001"})
    assert delete.status_code == 400 and "locked" in json.loads(delete.content)["error"]
    assert snapshot() == before and Record.objects.visible_to(
        Record.objects.get(record_id="MIL-0001").created_by
    ).filter(record_id="MIL-0001")


def test_delete_is_soft_scoped_and_returns_the_count(api):
    foreign = api("coord_bol", action="delete", **{"records[0]": "MIL-0003"})
    assert foreign.status_code == 400 and "MIL-0003" in json.loads(foreign.content)["error"]
    assert Record.objects.get(record_id="MIL-0003").deleted_at is None
    response = api("coord_mil", action="delete", **{"records[0]": "MIL-0003"})
    assert response.status_code == 200 and response.content == b"1"
    assert Record.objects.get(record_id="MIL-0003").deleted_at is not None
    assert "MIL-0003" not in api("dm", format="csv").content.decode()


def test_lock_api_status_lock_and_unlock(api, people):
    status = json.loads(
        api(
            "dm", content="lock", action="status", records="MIL-0001,MIL-0003", returnFormat="json"
        ).content
    )
    assert [(s["record"], s["locked"], s["signature_valid"]) for s in status] == [
        ("MIL-0001", 1, 1),
        ("MIL-0003", 0, ""),
    ]
    refused = api(
        "coord_mil",
        content="lock",
        action="unlock",
        records="MIL-0001",
        reason="typo",
        returnFormat="json",
    )
    assert refused.status_code == 403
    no_reason = api("dm", content="lock", action="unlock", records="MIL-0001", returnFormat="json")
    assert no_reason.status_code == 400
    ok = api(
        "dm",
        content="lock",
        action="unlock",
        records="MIL-0001",
        reason="Correct the tumour size",
        returnFormat="json",
    )
    assert ok.status_code == 200 and json.loads(ok.content) == {"count": 1}
    assert not Record.objects.get(record_id="MIL-0001").is_locked
    wrong = api(
        "inv_mil",
        content="lock",
        action="lock",
        records="MIL-0001",
        password="not-my-password",
        meaning="1",
        returnFormat="json",
    )
    assert wrong.status_code == 403
    locked = api(
        "inv_mil",
        content="lock",
        action="lock",
        records="MIL-0001",
        password=PASSWORD,
        meaning="1",
        returnFormat="json",
    )
    assert locked.status_code == 200, locked.content
    assert Record.objects.get(record_id="MIL-0001").is_locked
    incomplete = api(
        "inv_mil",
        content="lock",
        action="lock",
        records="MIL-0003",
        password=PASSWORD,
        meaning="1",
        returnFormat="json",
    )
    assert (
        incomplete.status_code == 400 and "not Complete" in json.loads(incomplete.content)["error"]
    )


def test_a_body_over_the_upload_limit_is_a_413_asking_for_several_calls(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 20_000
    before, records = snapshot(), Record.objects.count()
    rows = [{"record_id": f"MIL-{i}", "sex": "1"} for i in range(600)]
    response = api("coord_mil", rows, forceAutoNumber="true")
    assert response.status_code == 413
    message = json.loads(response.content)["error"]
    assert "several calls" in message and "Nothing was imported" in message
    assert (snapshot(), Record.objects.count()) == (before, records)
    small = api("coord_mil", rows[:50], forceAutoNumber="true")
    assert small.status_code == 200, small.content  # a smaller call goes through
