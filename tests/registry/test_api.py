"""The REDCap-compatible API: authentication, formats, parameters, scoping, errors."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.cache import cache

from centers.tokens import issue_api_token
from registry.models import AuditEvent
from tests.registry.api_fixture import api_fixture, as_json  # noqa: F401 - the fixture
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def test_token_is_required_and_errors_follow_the_return_format(api, client):
    missing = client.post("/api/", {"content": "version", "returnFormat": "json"})
    assert missing.status_code == 401 and "error" in as_json(missing)
    default = client.post("/api/", {"content": "version"})
    assert default.status_code == 401 and b"<error>" in default.content  # REDCap: xml
    wrong = client.post("/api/", {"token": "0" * 32, "content": "record", "format": "csv"})
    assert wrong.status_code == 401 and wrong.content.startswith(b"ERROR: ")
    xml = api("dm", content="nonsense", returnFormat="xml")
    assert xml.status_code == 400 and b"<hash>" in xml.content and b"<error>" in xml.content
    assert client.get("/api/").status_code == 405


def test_coordinator_export_never_contains_another_centre(api):
    rows = as_json(api("coord_bol", content="record", format="json"))
    assert rows and {r["record_id"] for r in rows} == {"BOL-0001"}
    asked = as_json(
        api(
            "coord_bol",
            content="record",
            format="json",
            **{"records[0]": "MIL-0001", "records[1]": "BOL-0001"},
        )
    )
    assert {r["record_id"] for r in asked} == {"BOL-0001"}
    text = api("coord_bol", content="record", format="csv").content.decode()
    assert "MIL-" not in text
    everything = as_json(api("dm", content="record", format="json"))
    assert {r["record_id"] for r in everything} == {"BOL-0001", "MIL-0001", "MIL-0002", "MIL-0003"}
    logs = as_json(api("coord_bol", content="log", format="json"))
    assert logs and not any(e["record"].startswith("MIL") for e in logs)
    dags = as_json(api("coord_bol", content="dag", format="json"))
    assert [d["unique_group_name"] for d in dags] == ["bol"]


def test_field_and_form_arrays_php_style_and_comma_joined(api):
    php = as_json(
        api(
            "dm",
            content="record",
            format="json",
            **{
                "fields[0]": "record_id",
                "fields[1]": "metastatic_sites",
                "fields[2]": "stage_complete",
                "records[0]": "MIL-0002",
            },
        )
    )
    joined = as_json(
        api(
            "dm",
            content="record",
            format="json",
            fields="record_id,metastatic_sites,stage_complete",
            records="MIL-0002",
        )
    )
    assert php == joined
    assert all(
        isinstance(v, str) for row in php for k, v in row.items() if k != "redcap_repeat_instance"
    )  # REDCap gives "" for empty, never null
    assert list(php[0]) == [
        "record_id",
        "redcap_repeat_instrument",
        "redcap_repeat_instance",
        "metastatic_sites___1",
        "metastatic_sites___2",
        "metastatic_sites___3",
        "metastatic_sites___4",
        "metastatic_sites___5",
        "metastatic_sites___6",
        "metastatic_sites___unk",
        "metastatic_sites___na",
        "metastatic_sites___nd",
        "metastatic_sites___nask",
        "stage_complete",
    ]
    assert php[0]["metastatic_sites___3"] == "1" and php[0]["stage_complete"] == "2"
    forms = as_json(api("dm", content="record", format="json", **{"forms[]": "relapse"}))
    relapse = [r for r in forms if r["redcap_repeat_instrument"] == "relapse"]
    assert relapse == [{**relapse[0], "record_id": "BOL-0001", "redcap_repeat_instance": 1}]
    assert relapse[0]["relapse_date"] == "2012-09-01"
    bad = api("dm", content="record", format="json", fields="nonexistent")
    assert bad.status_code == 400 and "nonexistent" in as_json(bad)["error"]


def test_labels_checkbox_labels_dag_and_filter_logic(api):
    rows = as_json(
        api(
            "dm",
            content="record",
            format="json",
            rawOrLabel="label",
            exportCheckboxLabel="True",
            exportDataAccessGroups="TRUE",
            filterLogic="[stage_dx] = '3'",
        )
    )
    assert {r["record_id"] for r in rows} == {"MIL-0002"}
    base = rows[0]
    assert base["redcap_data_access_group"] == "mil"
    assert base["stage_dx"] == "Metastatic" and base["metastatic_sites___1"] == "Liver"
    assert base["metastatic_sites___2"] == ""
    assert rows[1]["redcap_repeat_instrument"] == "Systemic Therapy"
    headers = (
        api("dm", content="record", format="csv", rawOrLabelHeaders="label", fields="record_id,sex")
        .content.decode()
        .splitlines()[0]
    )
    assert headers == "Record ID,Repeat Instrument,Repeat Instance,Sex"
    bad = api("dm", content="record", format="json", filterLogic="[stage_dx] = = '")
    assert bad.status_code == 400


def test_csv_and_xml_exports(api):
    text = api("dm", content="record", format="csv", records="MIL-0002").content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["site_other"] == '\'=HYPERLINK("http://x")'
    assert rows[2]["regimen_other"] == "'@SUM(A1)"
    xml = api("dm", content="record", format="xml", records="BOL-0001").content.decode()
    assert xml.startswith("<?xml") and "<record_id><![CDATA[BOL-0001]]></record_id>" in xml


def test_metadata_and_project_contents(api):
    meta = as_json(api("dm", content="metadata", format="json"))
    assert meta[0]["field_name"] == "record_id" and "select_choices_or_calculations" in meta[0]
    instruments = as_json(api("dm", content="instrument", format="json"))
    assert instruments[0] == {"instrument_name": "enrolment", "instrument_label": "Enrolment"}
    names = as_json(api("dm", content="exportFieldNames", format="json", field="metastatic_sites"))
    assert names[0] == {
        "original_field_name": "metastatic_sites",
        "choice_value": "1",
        "export_field_name": "metastatic_sites___1",
    }
    info = as_json(api("dm", content="project", format="json"))
    assert info["is_longitudinal"] == 0 and info["has_repeating_instruments_or_events"] == 1
    assert api("dm", content="version").content == b"14.0.0"
    users = as_json(api("coord_bol", content="user", format="json"))
    assert {u["username"] for u in users} == {"charlie", "bianca"}
    for content in ("formEventMapping", "arm", "event"):
        response = api("dm", content=content, format="json")
        assert response.status_code == 400 and "classic" in as_json(response)["error"]
    assert api("coord_mil", content="generateNextRecordName").content == b"MIL-0004"
    refused = api("dm", content="generateNextRecordName", format="json")
    assert refused.status_code == 403


def test_rate_limit_answers_429_and_recovers(api, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    codes = [api("pi", content="version").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = api("pi", content="version", returnFormat="json")
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert "Too many" in as_json(limited)["error"]
    assert api("dm", content="version").status_code == 200  # per token, not global
    cache.clear()  # a new minute
    assert api("pi", content="version").status_code == 200


def test_every_call_is_audited_without_secrets(api, people):
    before = AuditEvent.objects.filter(action="api_call").count()
    api("dm", content="record", format="json", fields="record_id")
    api("dm", content="nonsense")
    events = list(AuditEvent.objects.filter(action="api_call").order_by("seq"))[before:]
    assert [e.details["status"] for e in events] == [200, 400]
    assert events[0].actor_id == people["dm"].pk and events[0].details["rows"] == 7
    assert all("token" not in e.details["params"] for e in events)


def test_record_exports_are_streamed_and_audited_at_the_end(client, api, people):

    token = issue_api_token(user=people["monitor"])
    before = AuditEvent.objects.filter(action="api_call").count()
    response = client.post("/api/", {"token": token, "content": "record", "format": "json"})
    assert response.streaming
    assert AuditEvent.objects.filter(action="api_call").count() == before  # not sent yet
    rows = json.loads(b"".join(response.streaming_content))
    assert len(rows) == 6  # a monitor exports the locked dataset (MIL-0003 is unlocked)
    event = AuditEvent.objects.filter(action="api_call").latest("seq")
    assert event.details["rows"] == 6 and event.details["streamed"] is True
