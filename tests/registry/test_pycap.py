"""The acceptance test of the API: PyCap, the REDCap client researchers already use, against a
live server of ours, with only the URL and the token changed."""

from __future__ import annotations

import pytest
import semantic_version
from redcap import Project, RedcapError

from tests.live import create_live_stack, drop_live_stack

SETUP = """
from centers.models import Center, Membership, Role, User
from centers.tokens import issue_api_token
from registry.services.dictionary import import_default_dictionary
from registry.services.records import create_record, save_instrument
v = import_default_dictionary()
tokens = {}
for code in ("MIL", "BOL"):
    center = Center.objects.create(code=code, name=code, city=code)
    user = User.objects.create_user(f"coord-{code.lower()}", password="pw-for-tests-123")
    Membership.objects.create(user=user, center=center, role=Role.SITE_COORDINATOR)
    for n in range(2):
        record = create_record(user=user, center=center)
        save_instrument(user=user, record=record, instrument="enrolment", instance=1,
                        data={"sex": "1", "year_of_birth": str(1950 + n), "mrn": f"{code}-{n}"},
                        status=0, expected_version=None, dictionary_version=v)
        save_instrument(user=user, record=record, instrument="relapse", instance=1,
                        data={"relapse_date": "2015-01-02", "relapse_type": "2"},
                        status=0, expected_version=None, dictionary_version=v)
    tokens[code] = issue_api_token(user=user)
print(tokens["MIL"], tokens["BOL"])
"""


@pytest.fixture(scope="module")
def live(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        stack = create_live_stack()
    try:
        mil, bol = stack.shell(SETUP).strip().splitlines()[-1].split()
        url = stack.start_server() + "/api/"
        yield {"mil": Project(url, mil), "bol": Project(url, bol)}
    finally:
        with django_db_blocker.unblock():
            drop_live_stack(stack)


def test_project_information(live):
    proj = live["mil"]
    assert proj.export_version() == semantic_version.Version("14.0.0")
    info = proj.export_project_info()
    assert info["project_title"].startswith("GI-LMS") and info["is_longitudinal"] == 0
    assert proj.is_longitudinal is False
    metadata = proj.export_metadata()
    assert metadata[0]["field_name"] == "record_id" and proj.def_field == "record_id"
    assert list(proj.export_metadata(format_type="df").index[:2]) == ["record_id", "mrn"]
    instruments = proj.export_instruments()
    assert [i["instrument_name"] for i in instruments][:2] == ["enrolment", "diagnosis_pathology"]
    names = proj.export_field_names()
    assert {
        "original_field_name": "relapse_sites",
        "choice_value": "1",
        "export_field_name": "relapse_sites___1",
    } in names


def test_export_records_json_csv_df_scoped_to_the_centre(live):
    proj = live["mil"]
    records = proj.export_records()
    assert {r["record_id"] for r in records} == {"MIL-0001", "MIL-0002"}
    assert {r["redcap_repeat_instrument"] for r in records} == {"", "relapse"}
    base = next(
        r for r in records if r["record_id"] == "MIL-0001" and not r["redcap_repeat_instrument"]
    )
    assert base["mrn"] == "MIL-0" and base["enrolment_complete"] == "0"
    text = proj.export_records(format_type="csv")
    assert text.startswith("record_id,redcap_repeat_instrument") and "BOL-" not in text
    df = proj.export_records(format_type="df", fields=["sex", "year_of_birth"])
    assert set(df.index) == {"MIL-0001", "MIL-0002"}
    assert sorted(df["year_of_birth"].dropna().astype(int)) == [1950, 1951]
    subset = proj.export_records(records=["MIL-0002"], forms=["relapse"])
    assert [
        (r["record_id"], r["redcap_repeat_instance"])
        for r in subset
        if r["redcap_repeat_instrument"]
    ] == [("MIL-0002", 1)]
    bol = live["bol"].export_records(format_type="csv")
    assert "MIL-" not in bol and "BOL-0001" in bol


def test_import_and_delete_round_trip(live):
    proj = live["mil"]
    new_id = proj.generate_next_record_name()
    assert new_id == "MIL-0003"
    result = proj.import_records([{"record_id": new_id, "sex": "2", "year_of_birth": "1961"}])
    assert result == {"count": 1}
    assert proj.import_records([{"record_id": new_id, "sex": "1"}], return_content="ids") == [
        new_id
    ]
    exported = proj.export_records(records=[new_id], fields=["sex", "year_of_birth"])
    assert exported[0]["sex"] == "1" and exported[0]["year_of_birth"] == "1961"
    with pytest.raises(RedcapError, match="year_of_birth"):
        proj.import_records([{"record_id": new_id, "year_of_birth": "nineteen"}])
    with pytest.raises(RedcapError):
        proj.import_records([{"record_id": "BOL-0001", "sex": "2"}])
    assert live["bol"].export_records(records=["BOL-0001"], fields=["sex"])[0]["sex"] == "1"
    assert proj.delete_records([new_id]) == 1
    assert proj.export_records(records=[new_id]) == []
    with pytest.raises(RedcapError):
        proj.delete_records(["BOL-0002"])
