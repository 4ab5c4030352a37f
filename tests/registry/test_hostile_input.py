"""Hostile bytes at the boundary: each input that ended in a 500 (issue 9) now gets a clear 4xx
naming the parameter, row or field, writes nothing, and is never echoed back or into the audit."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from centers.tokens import issue_api_token
from registry.models import AuditEvent, DictionaryVersion, InstrumentData, Record
from tests.fixtures_records import PASSWORD
from tests.registry.api_calls import read
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, dataset, people):
    cache.clear()
    token = issue_api_token(user=people["coord_mil"])

    def call(**data):
        data.setdefault("token", token)
        data.setdefault("format", "json")
        return read(client.post("/api/", data))

    return call


def written() -> tuple:
    rows = InstrumentData.objects.order_by("pk").values_list("pk", "version", "data")
    return list(rows), Record.objects.count()


def error_of(response) -> dict:
    assert b"\x00" not in response.content
    return json.loads(response.content)


@pytest.mark.parametrize(
    ("row", "field", "problem"),
    [
        ({"record_id": "MIL-0003", "mrn": "a\x00b"}, "mrn", "NUL"),
        ({"record_id": "MIL-0003", "mr\x00n": "ab"}, "mr\\x00n", "NUL"),
        ({"record_id": "MIL-\x000003", "mrn": "ab"}, "record_id", "NUL"),
        ({"record_id": "MIL-0003", "mrn": "a\ud800b"}, "mrn", "surrogate"),
    ],
)
def test_api_json_import_cells_refused_by_row_and_field(api, row, field, problem):
    before = written()
    response = api(content="record", data=json.dumps([{"record_id": "MIL-0003"}, row]))
    assert response.status_code == 400
    details = error_of(response)["details"]
    assert [(d["field_name"], d["value"]) for d in details] == [(field, "")]
    assert details[0]["message"].startswith("Row 2: ") and problem in details[0]["message"]
    assert written() == before


def test_api_csv_import_cell_with_nul_refused(api):
    before = written()
    response = api(content="record", format="csv", data="record_id,mrn\nMIL-0003,a\x00b\n")
    assert response.status_code == 400
    assert response.content.startswith(b"ERROR: There were errors; nothing was imported.")
    assert b'"MIL-0003","mrn","","Row 2: the value contains a NUL byte"' in response.content
    assert written() == before


def test_api_json_nested_deep_refused_before_parsing(api):
    deep = "[" * 100_000 + "]" * 100_000
    response = api(content="record", data=deep)
    assert response.status_code == 400
    assert "nested deeper than" in error_of(response)["error"]


def test_api_repeat_instance_beyond_integer_refused(api):
    before = written()
    row = {
        "record_id": "MIL-0003",
        "redcap_repeat_instrument": "systemic_therapy",
        "redcap_repeat_instance": "99999999999999999999",
        "regimen": "1",
    }
    response = api(content="record", data=json.dumps([row]))
    assert response.status_code == 400
    assert error_of(response)["details"][0]["field_name"] == "redcap_repeat_instance"
    assert written() == before


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"content": "record", "action": "export", "fields": "mrn\x00"}, "fields"),
        ({"content": "record", "action": "export", "records": "MIL-0001\x00"}, "records"),
        (
            {"content": "record", "action": "delete", "records": "MIL-0003", "reason": "x\x00"},
            "reason",
        ),
        ({"content": "rec\x00ord"}, "content"),
    ],
)
def test_api_parameters_with_nul_refused_and_audited_without_the_bytes(api, params, name):
    before, events = written(), AuditEvent.objects.count()
    response = api(**params)
    assert response.status_code == 400
    assert error_of(response) == {"error": f"The parameter '{name}' contains a NUL byte"}
    assert written() == before
    event = AuditEvent.objects.order_by("-seq").first()
    assert AuditEvent.objects.count() == events + 1 and event.action == "api_call"
    assert event.details["status"] == 400
    assert "\\x00" in json.dumps(event.details["params"][name])  # escaped, not the raw byte


def test_api_import_reason_with_nul_refused(api):
    before = written()
    rows = json.dumps([{"record_id": "MIL-0003", "mrn": "ab"}])
    response = api(content="record", data=rows, reason="x\x00")
    assert response.status_code == 400 and "'reason'" in error_of(response)["error"]
    assert written() == before


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/records/BOL-0001%00/", b"The address contains a NUL byte."),
        ("/records/MIL-0001%00/history/", b"The address contains a NUL byte."),
        ("/records/MIL-0001%ED%A0%80/", b"The address contains bytes that are not valid UTF-8."),
        ("/queries/?record=%00", b"The query parameter 'record' contains a NUL byte."),
        ("/quality/?center=%00", b"The query parameter 'center' contains a NUL byte."),
        ("/analytics/?ci=%00", b"The query parameter 'ci' contains a NUL byte."),
        ("/records/?page=%FF", b"The query parameter 'page' contains bytes that are not valid"),
        ("/records/?q=a%07", b"The query parameter 'q' contains a control character (U+0007)."),
        ("/records/?%00=1", b"A query parameter name ('\\x00') contains a NUL byte."),
        ("/queries/99999999999999999999/", b"The path parameter 'query_id' is a number out"),
        ("/records/?page=99999999999999999999", b"The query parameter 'page' is a number out"),
    ],
)
def test_web_path_and_query_refused_naming_the_parameter(client, people, url, message):
    client.raise_request_exception = False
    client.force_login(people["dm"])
    response = client.get(url)
    assert response.status_code == 400
    assert response.content.startswith(message)
    assert b"\x00" not in response.content


def test_web_form_field_with_nul_refused_before_the_view(client, locked_record, people):
    client.raise_request_exception = False
    client.force_login(people["dm"])
    events = AuditEvent.objects.count()
    response = client.post(f"/records/{locked_record.record_id}/unlock/", {"reason": "a\x00"})
    assert response.status_code == 400
    assert response.content == b"The form field 'reason' contains a NUL byte.\n"
    locked_record.refresh_from_db()
    assert locked_record.is_locked
    assert AuditEvent.objects.count() == events


def test_hostile_session_cookie_is_ignored(client, people):
    client.raise_request_exception = False
    client.cookies[settings.SESSION_COOKIE_NAME] = "abcdefgh\x00ijkl"
    response = client.get("/records/")
    assert response.status_code == 302  # anonymous: to the log-in page


def test_dictionary_file_with_nul_refused_by_row_and_column(client, dictionary, people):
    client.raise_request_exception = False
    client.force_login(people["dm"])
    versions = DictionaryVersion.objects.count()
    with open("tests/registry/golden/dictionary.csv", "rb") as f:
        lines = f.read().split(b"\n")
    lines[2] = lines[2].replace(b",", b",\x00", 1)
    upload = SimpleUploadedFile("d.csv", b"\n".join(lines), content_type="text/csv")
    response = client.post("/dictionary/", {"csv_file": upload})
    assert response.status_code == 400
    assert b"<td>3</td><td>Form Name</td><td>the cell contains a NUL byte</td>" in (
        response.content
    )
    assert DictionaryVersion.objects.count() == versions


def test_form_lock_on_a_locked_record_is_a_clear_refusal(client, locked_record, people):
    client.raise_request_exception = False
    client.force_login(people["inv_mil"])
    url = f"/records/{locked_record.record_id}/stage/1/lock/"
    response = client.post(url, {"password": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert b"The record is locked and signed: its forms are locked with it." in response.content
    assert not InstrumentData.objects.get(record=locked_record, instrument="stage").is_locked


def test_the_boundary_runs_before_sessions_and_csrf():
    order = settings.MIDDLEWARE
    mine = order.index("registry.middleware.HostileInputMiddleware")
    assert mine < order.index("django.contrib.sessions.middleware.SessionMiddleware")
    assert mine < order.index("django.middleware.csrf.CsrfViewMiddleware")


def test_describe_problem_and_its_helpers():
    from registry.hostile_input import describe_problem, json_nesting_depth, printable_name, scrub

    assert describe_problem("line\nbreak\ttab") is None
    assert describe_problem("tab\t", multiline=False) == "a control character (U+0009)"
    assert describe_problem("\ufffd") == "bytes that are not valid UTF-8"
    assert describe_problem("\udc80") == "a lone surrogate (not a character)"
    assert json_nesting_depth('[{"a": "[[[["}]') == 2
    assert json_nesting_depth("[" * 100_000) == 17
    assert printable_name("a\x00b\ud800") == "a\\x00b\\ud800"
    assert scrub({"k\x00": ["v\x00", 1]}) == {"k\\x00": ["v\\x00", 1]}
