"""Formula injection: a hostile value in a text field, a notes field, a calculation copying text,
a choice label and a field label comes out neutralised in every spreadsheet-like download (the
dataset zip, its de-identified variant, every API content as CSV, the audit log, the analysis
dataset and curves, the import error report), and no download holds a live formula cell."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import zipfile
from pathlib import Path

import pyreadstat
import pytest
from django.core.cache import cache
from hypothesis import given, settings
from hypothesis import strategies as st

from centers.tokens import issue_api_token
from registry import csv_safety
from registry.audit import record_event
from registry.csv_safety import safe_cell, unguard
from registry.dictionary import gi_lms_dictionary_csv, gi_lms_project
from registry.exports.build import build_export
from registry.exports.jobs import jobs_of
from registry.exports.options import ExportOptions
from registry.services.dictionary import import_dictionary
from registry.services.locking import SIGNATURE_MEANINGS, lock_records
from registry.services.records import create_record
from tests.fixtures_records import COMPLETE_CASE, PASSWORD, enter_case
from tests.registry.api_calls import read
from tests.tools import require_r

pytestmark = pytest.mark.django_db

TEXT = '=HYPERLINK("http://evil.example/t","procedure")'  # a text field's value
NOTES = "@SUM(1+1)*cmd|' /C calc'!A0"  # a notes field's value
CHOICE = '+HYPERLINK("http://evil.example/c","Small bowel")'  # a choice label
LABEL = '\uff1dHYPERLINK("http://evil.example/l","Procedure")'  # a field label (full-width =)
ACTOR = '-HYPERLINK("http://evil.example/u","Alice")'  # a person's name
SETTING = '@HYPERLINK("http://evil.example/s","Bologna")'  # a centre's name, project title
HOSTILE = (TEXT, NOTES, CHOICE, LABEL, ACTOR, SETTING)
NO_FREE_TEXT = {"API instrument CSV", "API exportFieldNames CSV"}  # names and codes only

# The oracle, written apart from registry.csv_safety: a cell a spreadsheet would run.
_LIVE = re.compile(r"[\s\u3000\ufeff]*[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]")
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


def is_live(cell: str) -> bool:
    if not _LIVE.match(cell):
        return False
    return not (_NUMBER.fullmatch(cell) and abs(float(cell)) != float("inf"))


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def hostile_dictionary_csv() -> str:
    rows = list(csv.reader(io.StringIO(gi_lms_dictionary_csv())))
    out = []
    for row in rows:
        if row[0] == "site_of_origin":
            row[5] = row[5].replace("3, Small bowel", f"3, {CHOICE}")
        out.append(row)
        if row[0] == "surgery_procedure":  # a calculation that copies the text field
            copy = [""] * len(row)
            copy[:6] = [
                "procedure_copy",
                "primary_surgery",
                "",
                "calc",
                LABEL,
                "[surgery_procedure]",
            ]
            out.append(copy)
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(out)
    return text.getvalue()


@pytest.fixture
def hostile(centers, people, settings, tmp_path, django_capture_on_commit_callbacks):
    """A locked MIL record carrying every payload, entered by a coordinator named ACTOR."""
    settings.EXPORT_HASH_KEY = "csv-injection-key"
    settings.EXPORT_ROOT = tmp_path / "exports"
    project = {**gi_lms_project(), "title": SETTING}
    version = import_dictionary(csv_text=hostile_dictionary_csv(), project=project)
    centers["BOL"].name = SETTING
    centers["BOL"].save()
    coordinator = people["coord_mil"]
    for person in (coordinator, people["inv_mil"]):  # who enters, who signs
        person.first_name, person.last_name = ACTOR, ""
        person.save()
    case = {form: [dict(v) for v in values] for form, values in COMPLETE_CASE.items()}
    case["primary_surgery"][0]["surgery_procedure"] = TEXT
    case["diagnosis_pathology"][0]["pathology_notes"] = NOTES
    with django_capture_on_commit_callbacks(execute=True):
        record = create_record(user=coordinator, center=centers["MIL"])
        enter_case(record, coordinator, version, case)
        lock_records(
            user=people["inv_mil"],
            records=[record],
            password=PASSWORD,
            meaning=SIGNATURE_MEANINGS[0],
            dictionary_version=version,
        )
    record_event("note", user=coordinator, record=record, reason=TEXT)
    record.refresh_from_db()
    return record


def api_caller(client, user):
    cache.clear()
    token = issue_api_token(user=user)

    def call(**data) -> str:
        response = read(client.post("/api/", {"token": token, **data}))
        assert response.status_code == 200, response.content
        return response.content.decode()

    return call


def web_zip(client, user, django_capture_on_commit_callbacks, **form) -> zipfile.ZipFile:
    client.force_login(user)
    data = {
        "which": "locked",
        "dates": "shift",
        "raw_or_label": "label",
        "header": "label",
        "data_access_group": "on",
        "formats": ["csv", "dictionary", "spss", "stata", "r"],
        **form,
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/exports/", data).status_code == 302
    job = jobs_of(user)[0]
    assert job["state"] == "done", job
    download = client.get(f"/exports/{job['id']}/download/")
    return zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))


def column(text: str, name: str) -> list[str]:
    return [row[name] for row in csv.DictReader(io.StringIO(text))]


def test_every_download_neutralises_every_payload(
    client, hostile, people, tmp_path, django_capture_on_commit_callbacks
):
    downloads: dict[str, str] = {}

    archive = web_zip(client, people["dm"], django_capture_on_commit_callbacks)
    labelled = archive.read("registry_data.csv").decode()
    downloads["web zip: data CSV (labels)"] = labelled
    downloads["web zip: dictionary CSV"] = archive.read("registry_dictionary.csv").decode()
    header = next(csv.reader(io.StringIO(labelled)))
    assert "'" + LABEL in header
    row = next(csv.reader(io.StringIO(labelled.splitlines()[1])))
    assert row.count("'" + TEXT) == 2  # the text field and the calculation copying it
    assert "'" + NOTES in row and "'" + CHOICE in row
    dictionary_rows = {
        r[0]: r for r in csv.reader(io.StringIO(archive.read("registry_dictionary.csv").decode()))
    }
    assert dictionary_rows["procedure_copy"][4] == "'" + LABEL

    raw = build_export(
        user=people["dm"], options=ExportOptions(formats=("csv",)), directory=tmp_path / "raw"
    )
    downloads["zip: data CSV (raw)"] = (raw.directory / "registry_data.csv").read_text()
    assert column(downloads["zip: data CSV (raw)"], "surgery_procedure") == ["'" + TEXT]
    assert column(downloads["zip: data CSV (raw)"], "procedure_copy") == ["'" + TEXT]
    assert column(downloads["zip: data CSV (raw)"], "pathology_notes") == ["'" + NOTES]

    deid = build_export(
        user=people["dm"],
        options=ExportOptions(
            deidentify=True, raw_or_label="label", header="label", formats=("csv", "dictionary")
        ),
        directory=tmp_path / "deid",
    )
    downloads["zip: de-identified data CSV"] = (deid.directory / "registry_data.csv").read_text()
    downloads["zip: de-identified dictionary"] = (
        deid.directory / "registry_dictionary.csv"
    ).read_text()
    assert column(downloads["zip: de-identified data CSV"], "'" + LABEL) == ["'" + TEXT]
    assert column(downloads["zip: de-identified data CSV"], "Site of origin") == ["'" + CHOICE]

    api = api_caller(client, people["dm"])
    downloads["API record CSV (labels)"] = api(
        content="record", format="csv", rawOrLabel="label", rawOrLabelHeaders="label"
    )
    record_row = next(csv.DictReader(io.StringIO(downloads["API record CSV (labels)"])))
    assert record_row["'" + LABEL] == "'" + TEXT
    assert record_row["Site of origin"] == "'" + CHOICE
    assert record_row["Pathology notes"] == "'" + NOTES
    downloads["API record CSV (raw)"] = api(content="record", format="csv")
    assert column(downloads["API record CSV (raw)"], "procedure_copy") == ["'" + TEXT]
    for content in ("metadata", "instrument", "exportFieldNames", "project", "dag", "user", "log"):
        downloads[f"API {content} CSV"] = api(content=content, format="csv")
    metadata = {
        r["field_name"]: r for r in csv.DictReader(io.StringIO(downloads["API metadata CSV"]))
    }
    assert metadata["procedure_copy"]["field_label"] == "'" + LABEL
    users = csv.DictReader(io.StringIO(downloads["API user CSV"]))
    assert "'" + ACTOR in {r["firstname"] for r in users}
    assert "'" + TEXT in column(downloads["API log CSV"], "details")
    downloads["API lock CSV"] = api(
        content="lock", returnFormat="csv", **{"records[]": hostile.record_id}
    )
    assert column(downloads["API lock CSV"], "signed_by") == ["'" + ACTOR]
    assert column(downloads["API project CSV"], "project_title") == ["'" + SETTING]
    assert "'" + SETTING in column(downloads["API dag CSV"], "data_access_group_name")

    client.force_login(people["dm"])
    audit = client.get("/audit/", {"format": "csv"})
    downloads["audit log CSV"] = b"".join(audit.streaming_content).decode()
    assert "'" + TEXT in column(downloads["audit log CSV"], "reason")
    assert "'" + ACTOR in column(downloads["audit log CSV"], "actor_name")

    client.force_login(people["pi"])
    downloads["analysis dataset CSV"] = client.get(
        "/analytics/analysis-dataset.csv"
    ).content.decode()
    downloads["curves CSV"] = client.get("/analytics/curves.csv").content.decode()
    assert set(column(downloads["analysis dataset CSV"], "site_of_origin")) == {"'" + CHOICE}
    assert "'" + CHOICE in column(downloads["curves CSV"], "group")

    live = {name: sum(map(is_live, cells(text))) for name, text in downloads.items()}
    neutralised = {
        name: sum(cell.startswith("'") and unguard(cell) in HOSTILE for cell in cells(text))
        for name, text in downloads.items()
    }
    print("\nlive formula cells per download:", json.dumps(live, indent=1))
    assert live == dict.fromkeys(downloads, 0)
    carried = {name for name, n in neutralised.items() if n}
    assert carried == set(downloads) - NO_FREE_TEXT, neutralised  # payloads reached each file


def test_statistics_files_hold_the_values_and_the_r_script_restores_them(
    client, hostile, people, django_capture_on_commit_callbacks, tmp_path
):
    """.sav and .dta are typed files, not spreadsheets: their strings are the values themselves;
    the R script reads the neutralised CSV back to the same values."""
    archive = web_zip(client, people["dm"], django_capture_on_commit_callbacks, raw_or_label="raw")
    archive.extractall(tmp_path)
    df, meta = pyreadstat.read_sav(str(tmp_path / "registry_data.sav"))
    assert list(df["surgery_procedure"]) == [TEXT] and list(df["pathology_notes"]) == [NOTES]
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["procedure_copy"] == LABEL
    assert meta.variable_value_labels["site_of_origin"][3] == CHOICE
    df, _ = pyreadstat.read_dta(str(tmp_path / "registry_data.dta"))
    assert list(df["surgery_procedure"]) == [TEXT]
    require_r()
    code = (
        'source("registry_labels.R"); '
        "cat(data$surgery_procedure, data$pathology_notes, attr(data$procedure_copy, 'label'),"
        ' as.character(data$site_of_origin), sep="\\n")'
    )
    out = subprocess.run(
        ["Rscript", "-e", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
    ).stdout
    assert out.splitlines() == [TEXT, NOTES, LABEL, CHOICE]


def test_import_error_report_neutralises_the_echoed_value(client, hostile, people):
    cache.clear()
    token = issue_api_token(user=people["coord_mil"])
    data = f"record_id,tumour_size_mm\nMIL-0002,{TEXT.replace(',', ';')}\n"
    response = client.post(
        "/api/",
        {"token": token, "content": "record", "format": "csv", "returnFormat": "csv", "data": data},
    )
    assert response.status_code == 400
    report = response.content.decode().split("\n", 1)[1]
    assert not any(map(is_live, cells(report)))
    assert "'" + TEXT.replace(",", ";") in cells(report)


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        "+cmd",
        "-2+3",
        "@SUM(A1)",
        "\tx",
        "\rx",
        "\x00x",
        "\uff1d1+1",
        "\uff0bcmd",
        "\uff0d2",
        "\uff20SUM(A1)",
        " =1+1",
        "\u3000@SUM(A1)",
        "\u00a0+cmd",
        "\n-2+3",
        "-",
        "-1e999",
        "-nan",
    ],
)
def test_formula_like_values_get_one_quote_and_read_back_exactly(value):
    assert safe_cell(value) == "'" + value
    assert not is_live(safe_cell(value))
    assert unguard(safe_cell(value)) == value


@pytest.mark.parametrize(
    "value", ["-3.5", "+2", "12", "1e-3", "-0.25E+2", "abc", "a=b", "", "'quoted", "'-3"]
)
def test_numbers_and_plain_text_stay_as_they_are(value):
    assert safe_cell(value) == value and unguard(value) == value


@pytest.mark.parametrize("value", ["'=1+1", "''@x", "' -2+3"])
def test_a_value_that_looks_neutralised_survives_the_round_trip(value):
    assert safe_cell(value) == "'" + value and unguard(safe_cell(value)) == value


CELLS = st.one_of(
    st.none(),
    st.integers(),
    st.floats(),
    st.lists(st.text(max_size=2), max_size=2),
    st.text(),
    st.text(alphabet="\x01 \u3000=+-@'0123456789abc.,e", max_size=6),
    st.text(alphabet=",\"\r\n =-@'1a\uff0b", max_size=4),  # what csv quotes, and triggers
)
TEXT_CELLS = st.text(alphabet=",\"\r\n =-+@\t'1a.e\u3000\uff1d\x01", max_size=5)


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(CELLS, max_size=8),
    st.sampled_from([{}, {"lineterminator": "\r\n"}, {"lineterminator": "\n"}]),
)
def test_the_writer_neutralises_each_cell_as_safe_cell_does(row, line_end):
    """The writer decides a whole row at once when it can: the same bytes as cell by cell."""
    written = io.StringIO()
    csv_safety.writer(written, **line_end).writerow(row)
    expected = io.StringIO()
    csv.writer(expected, **line_end).writerow([None if v is None else safe_cell(v) for v in row])
    assert written.getvalue() == expected.getvalue()


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.lists(TEXT_CELLS, min_size=1, max_size=12), max_size=4))
def test_rows_of_text_are_written_as_csv_writer_writes_the_neutralised_cells(rows):
    """Rows of text only (the export's rows), through the writer's joined-row path: commas,
    quotes and line breaks inside cells, formula cells first, last and anywhere between."""
    written = io.StringIO()
    csv_safety.writer(written, lineterminator="\r\n").writerows(rows)
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\r\n").writerows(
        [[safe_cell(v) for v in row] for row in rows]
    )
    assert written.getvalue() == expected.getvalue()


def test_every_csv_writer_of_the_project_comes_from_csv_safety():
    """A new download cannot bypass the rule: csv.writer, DictWriter and to_csv appear only in
    registry/csv_safety.py (whose round_trip_writer is the dictionary's documented exemption)."""
    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"csv\.writer\(|DictWriter\(|\.to_csv\(")
    offenders = [
        str(path.relative_to(root))
        for app in ("registry", "analytics", "centers", "config")
        for path in (root / app).rglob("*.py")
        if pattern.search(path.read_text("utf-8")) and path.name != "csv_safety.py"
    ]
    assert offenders == []
