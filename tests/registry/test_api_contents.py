"""The API contents added for REDCap clients: metadata and repeating-instrument imports through
the dictionary service, user roles, saved reports and the CDISC ODM project export."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest

from registry.models import AuditEvent, DictionaryVersion, SavedReport
from registry.services.dictionary import current_dictionary_version
from tests.registry.api_fixture import api_fixture, as_json  # noqa: F401 - the fixture
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def test_metadata_import_goes_through_the_dictionary_service_and_its_confirmation(api):
    rows = as_json(api("dm", content="metadata", format="json"))
    site = next(r for r in rows if r["field_name"] == "site_of_origin")
    # Dropping choice 6 ("Other") would orphan MIL-0002's answer.
    site["select_choices_or_calculations"] = site["select_choices_or_calculations"].rsplit(
        " | ", 1
    )[0]
    before = DictionaryVersion.objects.count()
    refused = api("dm", content="metadata", format="json", data=json.dumps(rows))
    assert refused.status_code == 400
    body = as_json(refused)
    assert "confirmChanges=true" in body["error"]
    assert any(
        d["field"] == "site_of_origin" and "MIL-0002" in d["records"] for d in body["details"]
    )
    assert DictionaryVersion.objects.count() == before
    confirmed = api(
        "dm", content="metadata", format="json", data=json.dumps(rows), confirmChanges="true"
    )
    assert confirmed.status_code == 200 and confirmed.content == str(len(rows)).encode()
    version = current_dictionary_version()
    assert version.number == before + 1 and version.confirmed_changes
    assert "6, Other" not in version.dictionary.field("site_of_origin").choices_cell()
    assert AuditEvent.objects.filter(action="dictionary_import").latest("seq").details["confirmed"]


def test_metadata_import_takes_the_api_csv_and_names_bad_rows(api):
    text = api("dm", content="metadata", format="csv").content.decode()
    ok = api("dm", content="metadata", format="csv", data=text)
    assert ok.status_code == 200, ok.content
    bad_rows = list(csv.DictReader(io.StringIO(text)))
    bad_rows[3]["field_type"] = "nonsense"
    bad = api("dm", content="metadata", format="json", data=json.dumps(bad_rows))
    assert bad.status_code == 400 and "row 5" in as_json(bad)["error"]
    extra = api("dm", content="metadata", format="json", data=json.dumps([{"colour": "red"}]))
    assert as_json(extra)["error"] == "Row 1: unknown metadata column(s): colour"
    assert api("coord_mil", content="metadata", format="csv", data=text).status_code == 403


def test_repeating_instruments_export_and_import(api):
    exported = as_json(api("coord_bol", content="repeatingFormsEvents", format="json"))
    assert exported == [
        {"form_name": "systemic_therapy", "custom_form_label": ""},
        {"form_name": "relapse", "custom_form_label": ""},
    ]
    # MIL-0002 has two systemic therapy lines: that form cannot stop repeating.
    only_relapse = json.dumps([{"form_name": "relapse", "custom_form_label": "[relapse_date]"}])
    refused = api("dm", content="repeatingFormsEvents", format="json", data=only_relapse)
    assert refused.status_code == 400 and "MIL-0002" in as_json(refused)["error"]
    first_form = json.dumps([{"form_name": "enrolment"}])
    refused = api("dm", content="repeatingFormsEvents", format="json", data=first_form)
    assert "holds the record ID" in as_json(refused)["error"]
    more = json.dumps(exported + [{"form_name": "follow_up", "custom_form_label": "FU"}])
    assert (
        api("coord_mil", content="repeatingFormsEvents", format="json", data=more).status_code
        == 403
    )
    done = api("dm", content="repeatingFormsEvents", format="json", data=more)
    assert done.status_code == 200 and done.content == b"3"
    assert current_dictionary_version().repeating_instruments[-1] == "follow_up"
    again = as_json(api("dm", content="repeatingFormsEvents", format="json"))
    assert again[-1] == {"form_name": "follow_up", "custom_form_label": "FU"}


def test_user_roles_and_assignments(api):
    roles = {
        r["unique_role_name"]: r for r in as_json(api("dm", content="userRole", format="json"))
    }
    assert set(roles) == {
        "site_coordinator",
        "site_investigator",
        "principal_investigator",
        "data_manager",
        "monitor",
    }
    assert roles["site_investigator"]["lock_records"] == 2
    assert roles["site_coordinator"]["forms"]["enrolment"] == 1  # view and edit
    assert roles["principal_investigator"]["forms"]["enrolment"] == 2  # read only
    assert roles["data_manager"]["design"] == 1 and roles["monitor"]["design"] == 0
    text = api("dm", content="userRole", format="csv").content.decode()
    assert "enrolment:1" in text
    mapping = as_json(api("coord_bol", content="userRoleMapping", format="json"))
    assert mapping and {m["username"] for m in mapping} <= {"charlie", "bianca"}
    dags = {d["username"]: d for d in as_json(api("dm", content="userDagMapping", format="json"))}
    assert dags["alice"]["redcap_data_access_group"] == "mil"
    assert dags["dora"]["redcap_data_access_group"] == ""


def test_saved_report_by_id_with_fields_and_filter_logic(api, people):
    report = SavedReport.objects.create(
        title="Women born before 1950",
        fields=["sex", "year_of_birth"],
        filter_logic="[sex] = '2' and [year_of_birth] < 1950",
    )
    rows = as_json(api("dm", content="report", report_id=str(report.pk), format="json"))
    assert {r["record_id"] for r in rows} == {"MIL-0002"}
    assert set(rows[0]) >= {"record_id", "sex", "year_of_birth"} and "mrn" not in rows[0]
    labels = as_json(
        api("dm", content="report", report_id=str(report.pk), format="json", rawOrLabel="label")
    )
    assert labels[0]["sex"] != "2"
    assert (
        as_json(api("coord_bol", content="report", report_id=str(report.pk), format="json")) == []
    )
    unknown = api("dm", content="report", report_id="999", format="json")
    assert unknown.status_code == 400 and "report_id" in as_json(unknown)["error"]


ODM = "{http://www.cdisc.org/ns/odm/v1.3}"
MDV_ORDER = ["Protocol", "StudyEventDef", "FormDef", "ItemGroupDef", "ItemDef", "CodeList"]
REQUIRED = {
    "ODM": ("FileType", "FileOID", "CreationDateTime"),
    "Study": ("OID",),
    "MetaDataVersion": ("OID", "Name"),
    "StudyEventDef": ("OID", "Name", "Repeating", "Type"),
    "FormDef": ("OID", "Name", "Repeating"),
    "ItemGroupDef": ("OID", "Name", "Repeating"),
    "ItemDef": ("OID", "Name", "DataType"),
    "CodeList": ("OID", "Name", "DataType"),
    "CodeListItem": ("CodedValue",),
    "ClinicalData": ("StudyOID", "MetaDataVersionOID"),
    "SubjectData": ("SubjectKey",),
    "ItemData": ("ItemOID",),
}
DATA_TYPES = {"text", "integer", "float", "date", "datetime", "boolean", "string"}


def parse_xml(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 - the server's own answer, not foreign input


def odm_schema():
    """CDISC's ODM 1.3.2 XSD as shipped in the defineutils package (test dependency)."""
    from importlib.resources import files

    from lxml import etree

    path = files("defineutils") / "validate/schema/cdisc-odm-1.3.2/ODM1-3-2.xsd"
    return etree.XMLSchema(etree.parse(str(path)))


def assert_valid_odm(content: bytes) -> None:
    from lxml import etree

    schema = odm_schema()
    document = etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
    assert schema.validate(document), [str(e) for e in schema.error_log][:10]


def check_odm_structure(root: ET.Element) -> None:
    """What the XSD cannot check: every OID reference resolves to a definition, the data types
    are ones REDCap's ODM uses, and nothing outside the ODM namespace."""
    assert root.tag == f"{ODM}ODM" and root.get("ODMVersion") == "1.3.2"
    for element in root.iter():
        assert element.tag.startswith(ODM), element.tag
        name = element.tag[len(ODM) :]
        for attribute in REQUIRED.get(name, ()):
            assert element.get(attribute), (name, attribute)
    mdv = root.find(f"{ODM}Study/{ODM}MetaDataVersion")
    order = [MDV_ORDER.index(child.tag[len(ODM) :]) for child in mdv]
    assert order == sorted(order)
    defined = {
        kind: {e.get("OID") for e in mdv.iter(f"{ODM}{kind}")}
        for kind in ("StudyEventDef", "FormDef", "ItemGroupDef", "ItemDef", "CodeList")
    }
    refs = {
        "StudyEventRef": ("StudyEventOID", "StudyEventDef"),
        "FormRef": ("FormOID", "FormDef"),
        "ItemGroupRef": ("ItemGroupOID", "ItemGroupDef"),
        "ItemRef": ("ItemOID", "ItemDef"),
        "CodeListRef": ("CodeListOID", "CodeList"),
        "FormData": ("FormOID", "FormDef"),
        "ItemGroupData": ("ItemGroupOID", "ItemGroupDef"),
        "ItemData": ("ItemOID", "ItemDef"),
    }
    for tag, (attribute, kind) in refs.items():
        for element in root.iter(f"{ODM}{tag}"):
            assert element.get(attribute) in defined[kind], (tag, element.get(attribute))
    for item in mdv.iter(f"{ODM}ItemDef"):
        assert item.get("DataType") in DATA_TYPES


def test_project_xml_is_odm_132_with_the_callers_records(api):
    response = api("dm", content="project_xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    assert_valid_odm(response.content)
    root = parse_xml(response.content)
    check_odm_structure(root)
    mdv = root.find(f"{ODM}Study/{ODM}MetaDataVersion")
    forms = {f.get("OID"): f.get("Repeating") for f in mdv.iter(f"{ODM}FormDef")}
    assert forms["Form.enrolment"] == "No" and forms["Form.relapse"] == "Yes"
    sex = mdv.find(f"{ODM}CodeList[@OID='sex.choices']")
    assert sex is not None and len(sex) >= 2
    subjects = {s.get("SubjectKey"): s for s in root.iter(f"{ODM}SubjectData")}
    assert set(subjects) == {"BOL-0001", "MIL-0001", "MIL-0002", "MIL-0003"}
    values = {i.get("ItemOID"): i.get("Value") for i in subjects["MIL-0002"].iter(f"{ODM}ItemData")}
    assert values["record_id"] == "MIL-0002"
    assert values["site_other"] == '=HYPERLINK("http://x")'  # escaped, not a formula's problem
    assert values["metastatic_sites___3"] == "1" and values["metastatic_sites___2"] == "0"
    therapy = [
        f.get("FormRepeatKey")
        for f in subjects["MIL-0002"].iter(f"{ODM}FormData")
        if f.get("FormOID") == "Form.systemic_therapy"
    ]
    assert therapy == ["1", "2"]
    scoped = parse_xml(api("coord_bol", content="project_xml").content)
    assert {s.get("SubjectKey") for s in scoped.iter(f"{ODM}SubjectData")} == {"BOL-0001"}
    filtered = parse_xml(
        api(
            "dm", content="project_xml", filterLogic="[sex] = '1'", **{"records[0]": "BOL-0001"}
        ).content
    )
    assert {s.get("SubjectKey") for s in filtered.iter(f"{ODM}SubjectData")} == {"BOL-0001"}
    metadata_response = api("dm", content="project_xml", returnMetadataOnly="true")
    assert_valid_odm(metadata_response.content)
    metadata_only = parse_xml(metadata_response.content)
    check_odm_structure(metadata_only)
    assert metadata_only.find(f"{ODM}ClinicalData") is None


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_pdf_of_an_instrument_blank_and_filled(api):
    from registry.api.pdf import instrument_lines

    dictionary = current_dictionary_version().dictionary
    blank = instrument_lines(dictionary, "enrolment", None, heading="Enrolment", status=None)
    assert any("[sex]" in line for line in blank) and not any("(x)" in line for line in blank)
    response = api("coord_mil", content="pdf", record="MIL-0001", instrument="enrolment")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/pdf")
    assert response.content.startswith(b"%PDF") and response.content.rstrip().endswith(b"%%EOF")
    assert 'name="enrolment_MIL-0001.pdf"' in response["Content-Type"]  # PyCap reads the name
    everything = api("dm", content="pdf")
    assert everything.status_code == 200
    assert pages(response.content) == 1 and pages(everything.content) > 8  # one per instrument
    foreign = api("coord_bol", content="pdf", record="MIL-0001", returnFormat="json")
    assert foreign.status_code == 400 and as_json(foreign) == {
        "error": "The record 'MIL-0001' does not exist"
    }
    unknown = api("dm", content="pdf", instrument="nonsense", returnFormat="json")
    assert unknown.status_code == 400


def test_pdf_lines_show_the_answers(dictionary):
    from registry.api.pdf import instrument_lines

    dictionary = dictionary.dictionary
    values = {"sex": "2", "year_of_birth": "1960", "mrn": "H123"}
    lines = instrument_lines(dictionary, "enrolment", values, heading="Enrolment", status=2)
    sex = dictionary.field("sex")
    female = next(c.label for c in sex.choices if c.code == "2")
    assert f"    (x) {female}" in lines
    assert "    1960" in lines and lines[-1] == "Form status: Complete"
