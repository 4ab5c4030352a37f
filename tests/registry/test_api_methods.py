"""Every REDCap API method is answered as the README's table says: the test reads the table,
checks it lists exactly the content/action pairs the code knows, and calls every row."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from registry.api.methods import HANDLERS, REFUSALS, ROUTED_IN_VIEWS
from registry.models import DictionaryVersion, SavedReport
from registry.services.dictionary import current_dictionary_version
from tests.fixtures_records import PASSWORD
from tests.registry.api_fixture import api_fixture, as_json  # noqa: F401 - the fixture
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\|(?P<cells>.+)\|\s*$")


def readme_rows() -> list[dict]:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- api-methods:start -->")[1].split("<!-- api-methods:end -->")[0]
    rows = []
    for line in block.strip().splitlines()[2:]:
        cells = [c.strip() for c in ROW.match(line).group("cells").split("|")]
        method, content, action, status, notes = cells
        rows.append(
            {
                "method": method,
                "content": content.strip("`"),
                "action": action.strip("`"),
                "status": status,
                "message": notes.strip("`"),
            }
        )
    return rows


def test_the_table_lists_exactly_the_methods_the_code_answers():
    listed = [(r["content"], r["action"]) for r in readme_rows()]
    assert len(listed) == len(set(listed)), "a method is listed twice"
    assert set(listed) == set(HANDLERS) | set(REFUSALS) | ROUTED_IN_VIEWS
    for row in readme_rows():
        key = (row["content"], row["action"])
        if row["status"].startswith("refused"):
            refusal = REFUSALS[key]
            assert row["status"] == f"refused {refusal.status}", key
            assert row["message"] == refusal.message, key
        else:
            assert row["status"] in ("supported", "partly"), key
            assert key not in REFUSALS


def sample_calls(people) -> dict[tuple[str, str], tuple[str, dict]]:
    """Who calls each supported method, and with what, so that it does something real."""
    version = current_dictionary_version()
    report = SavedReport.objects.create(title="Women", fields=["sex"], filter_logic="[sex] = '2'")
    repeating = [{"form_name": f, "custom_form_label": ""} for f in version.repeating_instruments]
    return {
        ("record", "export"): ("dm", {"format": "json"}),
        ("record", "import"): (
            "coord_mil",
            {"format": "json", "data": json.dumps([{"record_id": "MIL-0003", "sex": "2"}])},
        ),
        ("record", "delete"): ("coord_mil", {"records[0]": "MIL-0103"}),  # renamed just before
        ("record", "rename"): ("dm", {"record": "MIL-0003", "new_record_name": "MIL-0103"}),
        ("generateNextRecordName", "export"): ("coord_mil", {}),
        ("metadata", "export"): ("dm", {"format": "json"}),
        ("metadata", "import"): (
            "dm",
            {"format": "json", "data": json.dumps(version.dictionary.to_json())},
        ),
        ("instrument", "export"): ("dm", {"format": "json"}),
        ("exportFieldNames", "export"): ("dm", {"format": "json"}),
        ("dag", "export"): ("dm", {"format": "json"}),
        ("userDagMapping", "export"): ("dm", {"format": "json"}),
        ("log", "export"): ("dm", {"format": "json"}),
        ("project", "export"): ("dm", {"format": "json"}),
        ("project_xml", "export"): ("dm", {"returnMetadataOnly": "true"}),
        ("projectXml", "export"): ("dm", {}),
        ("repeatingFormsEvents", "export"): ("dm", {"format": "json"}),
        ("repeatingFormsEvents", "import"): (
            "dm",
            {"format": "json", "data": json.dumps(repeating)},
        ),
        ("report", "export"): ("dm", {"format": "json", "report_id": str(report.pk)}),
        ("version", "export"): ("dm", {}),
        ("pdf", "export"): ("coord_mil", {"record": "MIL-0001", "instrument": "enrolment"}),
        ("user", "export"): ("dm", {"format": "json"}),
        ("userRole", "export"): ("dm", {"format": "json"}),
        ("userRoleMapping", "export"): ("dm", {"format": "json"}),
        ("lock", "status"): ("dm", {"records[0]": "MIL-0001", "returnFormat": "json"}),
        ("lock", "unlock"): ("dm", {"records[0]": "MIL-0001", "reason": "Correction"}),
        ("lock", "lock"): (
            "inv_mil",
            {"records[0]": "MIL-0001", "password": PASSWORD, "meaning": "1"},
        ),
    }


# unlock before lock (MIL-0001 starts locked), rename, then delete last
ORDER = {("lock", "unlock"): -1, ("record", "rename"): 1, ("record", "delete"): 2}


def test_every_row_of_the_table_answers_as_written(api, people):
    samples = sample_calls(people)
    versions_before = DictionaryVersion.objects.count()
    rows = sorted(readme_rows(), key=lambda r: ORDER.get((r["content"], r["action"]), 0))
    for row in rows:
        key = (row["content"], row["action"])
        if row["status"].startswith("refused"):
            for who in ("dm", "coord_mil"):
                response = api(who, content=key[0], action=key[1], returnFormat="json")
                assert response.status_code == int(row["status"].split()[1]), (key, who)
                assert as_json(response) == {"error": row["message"]}, key
            continue
        who, extra = samples[key]
        response = api(who, content=key[0], action=key[1], **extra)
        assert response.status_code == 200, (key, response.content[:300])
    # the two imports of settings re-sent what the project already says: answered with their
    # counts, and (dictionary versions being immutable) no identical version was made
    assert DictionaryVersion.objects.count() == versions_before


@pytest.mark.parametrize("content", ["metadata", "dag", "user", "userRole", "userRoleMapping"])
def test_an_import_never_answers_with_an_export(api, content):
    data = json.dumps([{"field_name": "x", "username": "x", "unique_role_name": "x"}])
    for who in ("coord_mil", "pi"):
        response = api(who, content=content, format="json", data=data)
        assert response.status_code == 403, (content, who)
        assert "error" in as_json(response)


def test_unknown_contents_and_actions_are_refused_as_redcap_does(api):
    unknown = api("dm", content="nonsense", returnFormat="json")
    assert unknown.status_code == 400
    assert as_json(unknown) == {"error": 'The value of the parameter "content" is not valid'}
    missing = api("dm", returnFormat="json")
    assert as_json(missing) == {"error": 'The parameter "content" is missing'}
    for content in ("metadata", "record", "dag", "report"):
        bad = api("dm", content=content, action="frobnicate", returnFormat="json")
        assert bad.status_code == 400, content
        assert as_json(bad) == {"error": 'The value of the parameter "action" is not valid'}
