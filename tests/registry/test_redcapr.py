"""REDCapR's calls replayed as plain form-encoded POSTs, with the parameters its functions send
(REDCapR's R/redcap-*.R: every value a string, arrays comma-joined, booleans "false"), and
checked against what REDCapR does with the answer: read it with readr::read_csv, take the
record ID from the metadata's first field, batch the records, split the write's id list."""

from __future__ import annotations

import csv
import io

import pytest

from registry.dictionary.model import JSON_KEYS
from tests.registry.api_fixture import api_fixture  # noqa: F401 - the fixture
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[dict]:
    assert response.status_code == 200, response.content  # REDCapR: success <- status == 200
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def read_oneshot(api, who: str, **extra) -> list[dict]:
    """redcap_read_oneshot()'s post body."""
    body = {
        "content": "record",
        "format": "csv",
        "type": "flat",
        "rawOrLabel": "raw",
        "rawOrLabelHeaders": "raw",
        "exportCheckboxLabel": "false",
        "exportSurveyFields": "false",
        "exportDataAccessGroups": "false",
        "filterLogic": "",
        "dateRangeBegin": "",
        "dateRangeEnd": "",
        "exportBlankForGrayFormStatus": "false",
    }
    return read_csv(api(who, **(body | extra)))


def test_redcap_metadata_read_and_project_info_read(api):
    metadata = read_csv(api("pi", content="metadata", format="csv", forms="", fields=""))
    assert list(metadata[0]) == list(JSON_KEYS)
    assert metadata[0]["field_name"] == "record_id"  # REDCapR's id position
    info = read_csv(api("pi", content="project", format="csv"))
    assert len(info) == 1 and info[0]["is_longitudinal"] == "0"
    assert info[0]["has_repeating_instruments_or_events"] == "1"


def test_redcap_read_in_batches_matches_one_read(api):
    """redcap_read(batch_size=2): metadata -> ids (fields=<id>) -> one oneshot per batch."""
    id_field = read_csv(api("dm", content="metadata", format="csv"))[0]["field_name"]
    glossary = read_oneshot(api, "dm", fields=id_field, filterLogic="[record_id] <> ''")
    ids = list(dict.fromkeys(row[id_field] for row in glossary))
    assert sorted(ids) == ["BOL-0001", "MIL-0001", "MIL-0002", "MIL-0003"]
    batched: list[dict] = []
    for start in range(0, len(ids), 2):
        batched += read_oneshot(api, "dm", records=",".join(ids[start : start + 2]))
    whole = read_oneshot(api, "dm")
    key = lambda r: (r["record_id"], r["redcap_repeat_instrument"], r["redcap_repeat_instance"])  # noqa: E731
    assert sorted(batched, key=key) == sorted(whole, key=key)
    assert {r["record_id"] for r in batched} == set(ids)  # REDCapR's unique-id check
    mine = read_oneshot(api, "coord_bol", fields="record_id,sex")
    assert {r["record_id"] for r in mine} == {"BOL-0001"} and set(mine[0]) >= {"record_id", "sex"}


def test_redcap_write_oneshot(api):
    """utils::write.csv quotes every cell; REDCapR drops the first line of the answer and
    counts the rest as the affected ids."""
    data = '"record_id","sex","year_of_birth"\n"MIL-0003","2","1971"'
    body = {
        "content": "record",
        "format": "csv",
        "type": "flat",
        "data": data,
        "overwriteBehavior": "overwrite",
        "returnContent": "ids",
        "returnFormat": "csv",
    }
    written = api("coord_mil", **body)
    assert written.status_code == 200, written.content
    assert written.content.decode().strip().split("\n")[1:] == ["MIL-0003"]
    again = read_oneshot(api, "coord_mil", records="MIL-0003", fields="record_id,year_of_birth")
    assert again[0]["year_of_birth"] == "1971"
    bad = api("coord_mil", **dict(body, data=data.replace("1971", "nineteen")))
    assert bad.status_code == 400  # REDCapR: success FALSE, raw_text shown to the analyst
    assert b"year_of_birth" in bad.content
    foreign = api("coord_bol", **body)
    assert foreign.status_code != 200
