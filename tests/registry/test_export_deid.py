"""De-identified exports: identifiers and free text gone, keyed pseudonyms, dates shifted /
converted / removed with intervals kept exactly, ages over 89 top-coded."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from registry.exports.build import build_export
from registry.exports.deid import date_offset, pseudonym
from registry.exports.options import ExportOptions
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
FREE_TEXT = {
    "site_other",
    "pathology_notes",
    "metastatic_sites_other",
    "surgery_procedure",
    "regimen_other",
}
DATES = [
    "date_dx",
    "path_review_date",
    "surgery_date",
    "therapy_start",
    "therapy_end",
    "progression_date",
    "relapse_date",
    "salvage_date",
    "last_contact_date",
    "death_date",
]


def rows_of(result) -> list[dict]:
    text = (result.directory / "registry_data.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def export(tmp_path, user, name, **options):
    return build_export(user=user, options=ExportOptions(**options), directory=tmp_path / name)


def originals(tmp_path, user) -> dict[tuple, dict]:
    rows = rows_of(export(tmp_path, user, "identified", formats=("csv",)))
    return {
        (pseudonym(r["record_id"]), r["redcap_repeat_instrument"], r["redcap_repeat_instance"]): r
        for r in rows
    }


def test_identifiers_and_free_text_are_removed_everywhere(dataset, people, tmp_path):
    result = export(tmp_path, people["dm"], "deid", deidentify=True, dates="shift")
    rows = rows_of(result)
    assert not (FREE_TEXT | {"mrn"}) & set(rows[0])
    assert {r["record_id"] for r in rows} == {
        pseudonym(r) for r in ("MIL-0001", "MIL-0002", "BOL-0001")
    }
    assert all(len(r["record_id"]) == 16 for r in rows)
    secrets = [
        b"MIL-0001",
        b"MIL-0002",
        b"BOL-0001",
        b"H123",
        b"B-77",
        b"M-2",
        b"HYPERLINK",
        b"looks like a formula",
        b"SUM(A1)",
        b"Segmental resection",
    ]
    for path in result.directory.iterdir():
        if path.suffix == ".zip":
            continue
        content = path.read_bytes()
        for secret in secrets:
            assert secret not in content, (path.name, secret)
    dictionary = (result.directory / "registry_dictionary.csv").read_text()
    assert "\nmrn," not in dictionary and "\nsurgery_procedure," not in dictionary
    assert "\ndate_dx," in dictionary
    assert any("shifted" in rule for rule in result.manifest["deidentification"])
    assert set(result.manifest["signatures"]) == {r["record_id"] for r in rows}


def test_date_shift_is_stable_per_record_and_keeps_intervals(dataset, people, tmp_path):
    before = originals(tmp_path, people["dm"])
    first = rows_of(export(tmp_path, people["dm"], "s1", deidentify=True, dates="shift"))
    again = rows_of(export(tmp_path, people["dm"], "s2", deidentify=True, dates="shift"))
    assert first == again
    shifted_any = False
    for row in first:
        key = (row["record_id"], row["redcap_repeat_instrument"], row["redcap_repeat_instance"])
        original = before[key]
        offset = date_offset(
            next(
                r for r in ("MIL-0001", "MIL-0002", "BOL-0001") if pseudonym(r) == row["record_id"]
            )
        )
        assert 0 <= offset <= 364
        for name in DATES:
            if original[name]:
                moved = date.fromisoformat(original[name]) - date.fromisoformat(row[name])
                assert moved.days == offset
                shifted_any = shifted_any or offset > 0
            else:
                assert row[name] == ""
        assert row["followup_months"] == original["followup_months"]
    assert shifted_any


def test_days_from_diagnosis_are_exact(dataset, people, tmp_path):
    before = originals(tmp_path, people["dm"])
    rows = rows_of(export(tmp_path, people["dm"], "days", deidentify=True, dates="days"))
    dx = {k[0]: date.fromisoformat(r["date_dx"]) for k, r in before.items() if r["date_dx"]}
    for row in rows:
        original = before[
            (row["record_id"], row["redcap_repeat_instrument"], row["redcap_repeat_instance"])
        ]
        for name in DATES:
            if original[name]:
                expected = (date.fromisoformat(original[name]) - dx[row["record_id"]]).days
                assert row[name] == str(expected), name
    base = [r for r in rows if not r["redcap_repeat_instrument"]]
    assert {r["date_dx"] for r in base} == {"0"}


def test_dates_removed(dataset, people, tmp_path):
    rows = rows_of(export(tmp_path, people["dm"], "rm", deidentify=True, dates="remove"))
    assert all(row[name] == "" for row in rows for name in DATES)


def test_ages_over_89_top_coded_with_consistent_birth_year(dataset, people, tmp_path):
    before = originals(tmp_path, people["dm"])
    old = pseudonym("MIL-0002")
    assert int(before[(old, "", "")]["age_at_dx"]) > 89
    for mode in ("remove", "days", "shift"):
        rows = rows_of(export(tmp_path, people["dm"], mode, deidentify=True, dates=mode))
        base = {r["record_id"]: r for r in rows if not r["redcap_repeat_instrument"]}
        assert base[old]["age_at_dx"] == "90"
        dx_year = 2012 if mode != "shift" else date.fromisoformat(base[old]["date_dx"]).year
        assert base[old]["year_of_birth"] == str(dx_year - 90)
        young = base[pseudonym("MIL-0001")]
        assert young["age_at_dx"] == "49" and young["year_of_birth"] == "1960"
