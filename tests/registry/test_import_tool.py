"""The web Data Import Tool: a preview that writes nothing, an import that applies exactly what
was previewed (in batches of their own, each checked against the preview; audited), errors by
row and column, locked and foreign records refused, REDCap's date-format and overwrite
options."""

from __future__ import annotations

import csv
import io
import re

import psycopg
import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.exports.columns import export_columns
from registry.exports.options import ExportOptions
from registry.forms.data_import import SESSION_KEY
from registry.models import AuditEvent, InstrumentData, Record
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def as_csv(rows: list[dict]) -> str:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def upload(client, rows, *, date_format="YMD", overwrite="normal", text=None):
    body = text if text is not None else as_csv(rows)
    return client.post(
        "/data-import/",
        {
            "csv_file": SimpleUploadedFile("data.csv", body.encode(), content_type="text/csv"),
            "date_format": date_format,
            "overwrite": overwrite,
        },
    )


def confirm(client, response, reason="Pathology review"):
    token = response.context["confirm"].initial["token"]
    return client.post("/data-import/confirm/", {"token": token, "reason": reason})


def snapshot() -> tuple:
    rows = InstrumentData.objects.order_by("pk").values_list("pk", "version", "data", "status")
    return list(rows), Record.objects.count()


def preview_of(response) -> dict:
    return response.context["preview"]


def enrolment(record) -> dict:
    return record.instruments.get(instrument="enrolment").data


def test_template_is_the_export_header(client, dataset, people, dictionary):
    client.force_login(people["coord_mil"])
    response = client.get("/data-import/template/")
    assert response.status_code == 200
    assert 'filename="import_template_dictionary_v1.csv"' in response["Content-Disposition"]
    header = next(csv.reader(io.StringIO(response.content.decode())))
    options = ExportOptions(locked_only=True, data_access_group=False)
    assert header == [c.name for c in export_columns(dictionary, options)]
    assert header[:3] == ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance"]
    assert "metastatic_sites___1" in header and "enrolment_complete" in header


@pytest.mark.parametrize("who", ["inv_mil", "pi", "monitor"])
def test_other_roles_are_refused(client, dataset, people, who):
    client.force_login(people[who])
    assert client.get("/data-import/").status_code == 403
    assert client.get("/data-import/template/").status_code == 403
    assert upload(client, [{"record_id": "MIL-0003", "sex": "2"}]).status_code == 403
    assert client.post("/data-import/confirm/", {"token": "x"}).status_code == 403


def test_anonymous_is_sent_to_log_in(client, dataset):
    response = client.get("/data-import/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_preview_writes_nothing_and_the_import_applies_it(client, dataset, people):
    client.force_login(people["coord_mil"])
    before, events = snapshot(), AuditEvent.objects.count()
    rows = [
        {"record_id": "MIL-0003", "sex": "2", "year_of_birth": "1970", "mrn": ""},
        {"record_id": "MIL-0004", "sex": "1", "year_of_birth": "1955", "mrn": "N-4"},
    ]
    response = upload(client, rows)
    assert response.status_code == 200
    preview = preview_of(response)
    assert preview["ok"] and preview["new"] == 1 and preview["updated"] == 1
    existing, new = preview["records"]
    assert (existing["id"], existing["new"], new["id"], new["new"]) == (
        "MIL-0003",
        False,
        "MIL-0004",
        True,
    )
    sex = next(c for c in existing["changes"] if c["variable"] == "sex")
    assert (sex["old"], sex["new"], str(sex["label"])) == ("Male (1)", "Female (2)", "Sex")
    assert existing["unchanged"] == 1  # year_of_birth; the blank mrn is ignored (normal)
    assert {c["variable"] for c in new["changes"]} >= {"sex", "year_of_birth", "mrn"}
    page = response.content.decode()
    assert "new record" in page and "Female (2)" in page and 'id="import-apply"' in page
    assert snapshot() == before and AuditEvent.objects.count() == events  # nothing written

    done = confirm(client, response)
    assert done.status_code == 302
    assert enrolment(Record.objects.get(record_id="MIL-0003"))["sex"] == "2"
    assert enrolment(Record.objects.get(record_id="MIL-0003"))["mrn"] == "U-1"
    assert enrolment(Record.objects.get(record_id="MIL-0004"))["mrn"] == "N-4"
    change = AuditEvent.objects.filter(record_id="MIL-0003", field="sex").latest("seq")
    assert (
        change.reason == "Pathology review" and change.actor_name == people["coord_mil"].full_name
    )
    event = AuditEvent.objects.get(action="data_import")
    assert event.details["records"] == ["MIL-0003", "MIL-0004"]
    assert event.details["new_records"] == 1 and event.details["overwrite"] is False
    assert SESSION_KEY not in client.session
    page = client.get(done["Location"]).content.decode()
    assert "Imported 2 record(s): 1 new, 1 updated" in page


def test_errors_by_row_and_column_and_nothing_imported(client, dataset, people):
    client.force_login(people["coord_mil"])
    before = snapshot()
    rows = [
        {"record_id": "MIL-0003", "sex": "1", "year_of_birth": "1970"},
        {"record_id": "MIL-0004", "sex": "7", "year_of_birth": "19x0"},
    ]
    response = upload(client, rows)
    preview = preview_of(response)
    assert not preview["ok"] and "confirm" not in response.context
    found = {(p["row"], p["record"], p["column"]) for p in preview["problems"]}
    assert found == {(3, "MIL-0004", "sex"), (3, "MIL-0004", "year_of_birth")}
    year = next(p for p in preview["problems"] if p["column"] == "year_of_birth")
    assert year["label"] == "Year of birth" and year["value"] == "19x0"
    assert "19x0" in year["message"] or "number" in year["message"]
    assert "import-errors" in response.content.decode()
    assert snapshot() == before


def test_unknown_column_and_unreadable_file(client, dataset, people):
    client.force_login(people["coord_mil"])
    response = upload(client, [{"record_id": "MIL-0003", "sexx": "1"}])
    assert "sexx" in preview_of(response)["problems"][0]["message"]
    latin1 = client.post(
        "/data-import/",
        {
            "csv_file": SimpleUploadedFile(
                "d.csv", "record_id,mrn\nMIL-0003,Müller\n".encode("latin-1")
            ),
            "date_format": "YMD",
            "overwrite": "normal",
        },
    )
    assert latin1.status_code == 400 and "UTF-8" in latin1.content.decode()


def test_locked_records_are_refused_by_name(client, dataset, people):
    client.force_login(people["coord_mil"])
    before = snapshot()
    response = upload(
        client, [{"record_id": "MIL-0001", "sex": "1"}, {"record_id": "MIL-0003", "sex": "2"}]
    )
    problems = preview_of(response)["problems"]
    assert [(p["record"], p["row"]) for p in problems] == [("MIL-0001", 2)]
    assert "locked" in problems[0]["message"]
    assert "MIL-0001" in response.content.decode()
    assert snapshot() == before


def test_coordinators_cannot_touch_other_centres(client, dataset, people):
    client.force_login(people["coord_bol"])
    before = snapshot()
    response = upload(client, [{"record_id": "MIL-0003", "sex": "2"}])
    problems = preview_of(response)["problems"]
    assert problems and "own centre" in problems[0]["message"]
    assert "Male" not in response.content.decode()  # nothing of the foreign record is shown
    assert snapshot() == before


def test_data_managers_import_into_every_centre(client, dataset, people):
    client.force_login(people["dm"])
    response = upload(
        client,
        [
            {"record_id": "MIL-0003", "sex": "2"},
            {"record_id": "BOL-0002", "sex": "1", "year_of_birth": "1950"},
        ],
    )
    assert preview_of(response)["ok"], preview_of(response)["problems"]
    assert confirm(client, response).status_code == 302
    assert enrolment(Record.objects.get(record_id="MIL-0003"))["sex"] == "2"
    assert Record.objects.get(record_id="BOL-0002").center.code == "BOL"


def test_date_format_option(client, dataset, people):
    client.force_login(people["coord_mil"])
    rows = [{"record_id": "MIL-0003", "date_dx": "04/03/2010"}]
    dmy = upload(client, rows, date_format="DMY")
    change = next(c for c in preview_of(dmy)["records"][0]["changes"] if c["variable"] == "date_dx")
    assert change["new"] == "04/03/2010"  # shown in the person's own format (day first)
    assert confirm(client, dmy).status_code == 302
    data = Record.objects.get(record_id="MIL-0003").instruments.get(
        instrument="diagnosis_pathology"
    )
    assert data.data["date_dx"] == "2010-03-04"
    mdy = upload(client, [{"record_id": "MIL-0003", "date_dx": "04/03/2010"}], date_format="MDY")
    change = next(c for c in preview_of(mdy)["records"][0]["changes"] if c["variable"] == "date_dx")
    assert (change["old"], change["new"]) == ("04/03/2010", "03/04/2010")
    bad = upload(client, [{"record_id": "MIL-0003", "date_dx": "31/02/2010"}], date_format="DMY")
    problem = preview_of(bad)["problems"][0]
    assert (problem["row"], problem["column"]) == (2, "date_dx")
    assert "calendar" in problem["message"]


def test_blank_values_erase_only_with_overwrite(client, dataset, people):
    client.force_login(people["coord_mil"])
    rows = [{"record_id": "MIL-0003", "mrn": ""}]
    normal = upload(client, rows)
    assert preview_of(normal)["records"][0]["changes"] == []
    erase = upload(client, rows, overwrite="overwrite")
    (change,) = preview_of(erase)["records"][0]["changes"]
    assert (change["variable"], change["old"], change["new"]) == ("mrn", "U-1", "")
    assert "(erased)" in erase.content.decode()
    assert confirm(client, erase).status_code == 302
    assert "mrn" not in enrolment(Record.objects.get(record_id="MIL-0003")) or not enrolment(
        Record.objects.get(record_id="MIL-0003")
    ).get("mrn")


def test_import_refused_when_the_data_changed_after_the_preview(client, dataset, people):
    client.force_login(people["coord_mil"])
    response = upload(client, [{"record_id": "MIL-0003", "sex": "2"}])
    other = type(client)()
    other.force_login(people["coord_mil"])
    assert confirm(other, upload(other, [{"record_id": "MIL-0003", "sex": "2"}])).status_code == 302
    stale = confirm(client, response)  # sex is already 2: the preview no longer holds
    assert stale.status_code == 409
    assert "changed after your preview" in stale.content.decode()
    assert preview_of(stale)["records"][0]["changes"] == []
    assert AuditEvent.objects.filter(action="data_import").count() == 1


def test_tampered_or_foreign_tokens_are_refused(client, dataset, people):
    client.force_login(people["coord_mil"])
    response = upload(client, [{"record_id": "MIL-0003", "sex": "2"}])
    token = response.context["confirm"].initial["token"]
    before = snapshot()
    payload = signing.loads(token, salt="registry.data_import")
    forged = signing.dumps(dict(payload, overwrite=True), salt="registry.data_import.other")
    for bad in (token[:-2] + "xx", forged, ""):
        refused = client.post("/data-import/confirm/", {"token": bad}, follow=True)
        assert "expired" in refused.content.decode()
    session = client.session
    session[SESSION_KEY] = dict(session[SESSION_KEY], csv="record_id,sex\nMIL-0003,1\n")
    session.save()
    swapped = client.post("/data-import/confirm/", {"token": token}, follow=True)
    assert "expired" in swapped.content.decode()
    other = type(client)()
    other.force_login(people["dm"])
    upload(other, [{"record_id": "MIL-0003", "sex": "2"}])
    stolen = other.post("/data-import/confirm/", {"token": token}, follow=True)
    assert "expired" in stolen.content.decode()
    assert snapshot() == before


def test_dictionary_text_in_the_preview_is_escaped(client, dataset, people):
    client.force_login(people["coord_mil"])
    response = upload(client, [{"record_id": "MIL-0003", "mrn": "<script>alert(1)</script>"}])
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert re.search(r"&lt;script&gt;alert\(1\)&lt;/script&gt;", page)


@pytest.mark.parametrize(
    "text",
    [
        "record_id,sex\nMIL-0003,\x001\n",
        'record_id,sex\n"MIL-0003,2\n',
        "record_id,sex,sex\nMIL-0003,1,2\n",
        "\ufeffrecord_id;sex\nMIL-0003;2\n",
        "sex\n2\n",
        "record_id,sex\nMIL-0003,2,extra,cells\n",
        "record_id,redcap_repeat_instrument,redcap_repeat_instance,regimen\n"
        "MIL-0003,systemic_therapy,99999999999,1\n",
        "record_id,sex\n" + "MIL-0003," + "A" * 70_000 + "\n",
        'record_id,sex\n=HYPERLINK("x"),1\n',
        "\n\n",
    ],
)
def test_hostile_files_get_a_clear_answer_never_a_500(client, dataset, people, text):
    client.force_login(people["coord_mil"])
    before = snapshot()
    response = upload(client, [], text=text)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        preview = preview_of(response)
        assert preview["problems"] or preview["records"] == [] or preview["ok"]
    assert snapshot() == before


def test_file_layout_problems_in_words(client, dataset, people):
    client.force_login(people["coord_mil"])
    twice = preview_of(upload(client, [], text="record_id,sex,sex\nMIL-0003,1,2\n"))
    assert [(p["row"], p["column"]) for p in twice["problems"]] == [(1, "sex")]
    assert "columns 2 and 3" in twice["problems"][0]["message"]
    semicolons = preview_of(upload(client, [], text="record_id;sex\nMIL-0003;2\n"))
    assert "semicolons" in semicolons["problems"][0]["message"]
    gap = preview_of(upload(client, [{"record_id": "MIL-0009", "sex": "1"}]))["problems"][0]
    assert gap["record"] == "MIL-0009" and "MIL-0004" in gap["message"]
    assert "forceAutoNumber" not in gap["message"]


def test_no_dictionary_yet_is_a_404(client, centers, people):
    client.force_login(people["coord_mil"])
    assert client.get("/data-import/").status_code == 404
    assert upload(client, [{"record_id": "MIL-0001", "sex": "1"}]).status_code == 404
    assert client.get("/codebook/").status_code == 200  # says there is no dictionary yet


def test_repeating_instances_are_previewed_by_number(client, dataset, people):
    client.force_login(people["coord_mil"])
    row = {
        "record_id": "MIL-0003",
        "redcap_repeat_instrument": "relapse",
        "redcap_repeat_instance": "1",
        "relapse_date": "01/02/2012",
        "relapse_type": "1",
    }
    response = upload(client, [row], date_format="DMY")
    (record,) = preview_of(response)["records"]
    changes = {c["variable"]: c for c in record["changes"]}
    assert changes["relapse_date"]["form"] == "Relapse" and changes["relapse_date"]["instance"] == 1
    assert changes["relapse_date"]["new"] == "01/02/2012"
    assert "Relapse #1" in response.content.decode()
    assert confirm(client, response).status_code == 302
    stored = Record.objects.get(record_id="MIL-0003").instruments.get(instrument="relapse")
    assert (stored.instance, stored.data["relapse_date"]) == (1, "2012-02-01")


def test_a_dry_run_writes_its_events_outside_the_chain_and_cannot_commit(people):
    """On a connection of its own (the test's transaction already holds the chain's lock)."""
    from django.db import DEFAULT_DB_ALIAS, connections

    other = connections.create_connection(DEFAULT_DB_ALIAS)
    other.ensure_connection()
    raw = other.connection
    raw.execute("SET lock_timeout = '2s'")  # were the chain's lock taken, fail, not hang
    insert = "SELECT registry_audit_insert('note', NULL, '', '', NULL, '', NULL, NULL, NULL)"
    locked = (
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 727201"
        " AND pid = pg_backend_pid() AND granted"
    )
    try:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="outside the hash chain"):
            with raw.transaction():
                raw.execute("SELECT set_config('registry.dry_run', 'on', true)")
                raw.execute(insert)
                (prev, digest) = raw.execute(
                    "SELECT prev_hash, hash FROM registry_auditevent ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                assert (prev, digest) == ("", "")
                assert raw.execute(locked).fetchone()[0] == 0  # no one waits for a dry run
                raw.execute("SET CONSTRAINTS registry_audit_dry_run_never_commits IMMEDIATE")
    finally:
        other.close()


def test_the_preview_stays_out_of_the_chain_and_the_import_after_it_is_chained(
    client, dataset, people
):
    from registry.integrity import verify_audit_chain
    from registry.services import data_import

    unchained = []
    run = data_import._run

    def watched(*args, **kwargs):
        preview = run(*args, **kwargs)
        unchained.append(AuditEvent.objects.filter(hash="").count())
        return preview

    client.force_login(people["coord_mil"])
    rows = [{"record_id": "MIL-0003", "sex": "2"}, {"record_id": "MIL-0004", "sex": "1"}]
    data_import._run = watched
    try:
        response = upload(client, rows)
    finally:
        data_import._run = run
    assert preview_of(response)["ok"] and unchained[0] > 0  # the preview's own events
    assert not AuditEvent.objects.filter(hash="").exists()  # rolled back with it
    assert confirm(client, response).status_code == 302
    change = AuditEvent.objects.filter(record_id="MIL-0003", field="sex").latest("seq")
    assert len(change.hash) == 64
    assert verify_audit_chain().broken_at is None


# Batches of one record: a new record, an existing one, a new one.
THREE_BATCHES = [
    {"record_id": "MIL-0004", "sex": "1"},
    {"record_id": "MIL-0003", "sex": "2"},
    {"record_id": "MIL-0005", "sex": "2"},
]


def _watch_batches(monkeypatch) -> list[tuple[list[str], int]]:
    """Each batch the import writes: its record ids and how deep in transactions it runs."""
    from django.db import connection

    from registry.api import import_batches
    from registry.services import data_import

    monkeypatch.setattr(import_batches, "IMPORT_BATCH_RECORDS", 1)
    batches = []
    check = data_import._UnchangedSincePreview.__call__

    def watched(self, batch):
        ids = [p.given_id for p in batch]
        batches.append((ids, len(connection.atomic_blocks)))
        return check(self, batch)

    monkeypatch.setattr(data_import._UnchangedSincePreview, "__call__", watched)
    return batches


def test_the_import_writes_in_batches_of_their_own(client, dataset, people, monkeypatch):
    """Each batch is a transaction of its own (outside the test's, a commit), so the audit
    chain is held per batch and no other centre's save waits for the whole file."""
    from django.db import connection

    client.force_login(people["coord_mil"])
    response = upload(client, THREE_BATCHES)
    batches = _watch_batches(monkeypatch)
    depth = len(connection.atomic_blocks)  # the test's own transaction
    assert confirm(client, response).status_code == 302
    assert batches == [
        (["MIL-0004"], depth + 1),
        (["MIL-0003"], depth + 1),
        (["MIL-0005"], depth + 1),
    ]
    assert enrolment(Record.objects.get(record_id="MIL-0005"))["sex"] == "2"
    event = AuditEvent.objects.get(action="data_import")
    assert event.details["records"] == ["MIL-0004", "MIL-0003", "MIL-0005"]
    assert event.details["new_records"] == 2 and event.details["changed_values"] > 3
    started = AuditEvent.objects.get(action="data_import_started")  # committed before batch 1
    assert started.seq < AuditEvent.objects.get(record_id="MIL-0004", field="sex").seq
    assert event.details["started_seq"] == started.seq
    assert started.details["records"] == ["MIL-0004", "MIL-0003", "MIL-0005"]


def test_a_record_saved_between_batches_stops_the_import_there(
    client, dataset, people, monkeypatch
):
    from registry.api import import_batches
    from registry.services.records import save_instrument

    next_size = import_batches._next_size

    def someone_saves_after_the_first_batch(records, seconds):
        if not Record.objects.filter(record_id="MIL-0005").exists():
            row = InstrumentData.objects.get(record__record_id="MIL-0003", instrument="enrolment")
            save_instrument(
                user=people["coord_mil"],
                record=row.record,
                instrument="enrolment",
                instance=1,
                data={**row.data, "mrn": "U-9"},
                status=row.status,
                expected_version=row.version,
                dictionary_version=row.dictionary_version,
            )
        return next_size(records, seconds)

    client.force_login(people["coord_mil"])
    response = upload(client, THREE_BATCHES)
    batches = _watch_batches(monkeypatch)
    monkeypatch.setattr(import_batches, "_next_size", someone_saves_after_the_first_batch)
    stopped = confirm(client, response)
    assert stopped.status_code == 409
    page = stopped.content.decode()
    assert "stopped at record MIL-0003 (someone saved it after your preview)" in page
    assert "1 record(s) were imported before it (MIL-0004); the rest was not" in page
    assert [ids for ids, _depth in batches] == [["MIL-0004"], ["MIL-0003"]]
    assert Record.objects.filter(record_id="MIL-0004").exists()
    assert not Record.objects.filter(record_id="MIL-0005").exists()
    saved = enrolment(Record.objects.get(record_id="MIL-0003"))
    assert (saved["sex"], saved["mrn"]) == ("1", "U-9")  # the other person's save stands
    event = AuditEvent.objects.get(action="data_import")
    assert event.details["imported_records"] == 1 and event.details["records"] == ["MIL-0004"]
    assert "someone saved it after your preview" in event.details["stopped"]
    assert AuditEvent.objects.filter(action="data_import_started").count() == 1
    preview = preview_of(stopped)  # what remains
    assert [(r["id"], r["new"], len(r["changes"]) > 0) for r in preview["records"]] == [
        ("MIL-0004", False, False),
        ("MIL-0003", False, True),
        ("MIL-0005", True, True),
    ]


def test_a_record_created_after_the_preview_means_nothing_is_imported(client, dataset, people):
    client.force_login(people["coord_mil"])
    rows = [{"record_id": "MIL-0003", "sex": "2"}, {"record_id": "MIL-0004", "sex": "1"}]
    response = upload(client, rows)
    other = type(client)()
    other.force_login(people["coord_mil"])
    assert confirm(other, upload(other, [{"record_id": "MIL-0004", "sex": "2"}])).status_code == 302
    before = snapshot()
    stale = confirm(client, response)
    assert stale.status_code == 409 and "nothing was imported" in stale.content.decode()
    assert snapshot() == before


def test_an_import_cut_short_shows_in_the_trail_and_the_same_file_completes_it(
    client, dataset, people, monkeypatch
):
    from registry.api import import_batches

    class ProcessKilled(BaseException):
        pass

    next_size = import_batches._next_size

    def killed_after_the_first_batch(records, seconds):
        raise ProcessKilled

    client.force_login(people["coord_mil"])
    response = upload(client, THREE_BATCHES)
    _watch_batches(monkeypatch)
    monkeypatch.setattr(import_batches, "_next_size", killed_after_the_first_batch)
    with pytest.raises(ProcessKilled):
        confirm(client, response)
    assert Record.objects.filter(record_id="MIL-0004").exists()  # batch 1 committed
    assert not Record.objects.filter(record_id="MIL-0005").exists()
    assert AuditEvent.objects.filter(action="data_import_started").count() == 1
    assert not AuditEvent.objects.filter(action="data_import").exists()  # never finished

    monkeypatch.setattr(import_batches, "_next_size", next_size)
    again = upload(client, THREE_BATCHES)
    preview = preview_of(again)
    assert [(r["id"], r["new"], len(r["changes"]) > 0) for r in preview["records"]] == [
        ("MIL-0004", False, False),
        ("MIL-0003", False, True),
        ("MIL-0005", True, True),
    ]
    assert confirm(client, again).status_code == 302
    assert enrolment(Record.objects.get(record_id="MIL-0003"))["sex"] == "2"
    assert enrolment(Record.objects.get(record_id="MIL-0005"))["sex"] == "2"
