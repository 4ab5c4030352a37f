"""The dataset export: golden files, byte-identical re-export, manifest, scoping, formula
neutralising, statistics files with labels."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import pyreadstat
import pytest
from django.db import transaction
from django.utils import timezone

from registry.audit import set_audit_context
from registry.exports.build import build_export
from registry.exports.options import ExportOptions
from registry.exports.stream import iter_bundles
from registry.models import AuditEvent, InstrumentData, Record, Signature
from registry.outbox import announce_dataset_change
from registry.services.locking import SIGNATURE_MEANINGS, signature_is_valid, signed_content
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
GOLDEN = Path(__file__).parent / "golden"
DATA_FILES = [
    "registry_data.csv",
    "registry_dictionary.csv",
    "registry_data.sav",
    "registry_data.dta",
    "registry_labels.R",
]


def export(tmp_path, user, name="x", **options):
    return build_export(user=user, options=ExportOptions(**options), directory=tmp_path / name)


def check_golden(path: Path, golden_name: str) -> None:
    golden = GOLDEN / golden_name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_bytes(path.read_bytes())
    assert path.read_bytes() == golden.read_bytes(), f"{path.name} differs from {golden_name}"


def test_locked_dataset_matches_golden_files(dataset, people, tmp_path):
    result = export(tmp_path, people["dm"])
    check_golden(result.directory / "registry_data.csv", "locked_raw.csv")
    check_golden(result.directory / "registry_labels.R", "locked_labels.R")
    check_golden(result.directory / "registry_dictionary.csv", "dictionary.csv")
    labels = export(
        tmp_path,
        people["dm"],
        "labels",
        raw_or_label="label",
        header="label",
        checkbox_label=True,
        locked_only=False,
        formats=("csv",),
    )
    check_golden(labels.directory / "registry_data.csv", "all_labels.csv")
    assert result.manifest["records"] == 3
    assert result.manifest["rows"] == 6  # 3 base rows, 2 therapy lines, 1 relapse


def test_reexport_is_byte_identical_and_manifest_hashes_files(dataset, people, tmp_path):
    first = export(tmp_path, people["dm"], "one")
    second = export(tmp_path, people["dm"], "two")
    for name in DATA_FILES:
        assert (first.directory / name).read_bytes() == (second.directory / name).read_bytes()
        digest = hashlib.sha256((first.directory / name).read_bytes()).hexdigest()
        assert first.manifest["files"][name] == digest
    with zipfile.ZipFile(first.zip_path) as archive:
        assert sorted(archive.namelist()) == sorted([*DATA_FILES, "manifest.json"])
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["options"]["locked_only"] is True
    assert manifest["exported_by"]["username"] == people["dm"].username
    assert manifest["exported_at"].endswith("+00:00")
    assert manifest["dataset_version"] > 0
    assert manifest["signatures_summary"] == {"valid": 3, "invalid": 0, "none": 0}
    assert manifest["rows_saved_under_dictionary_versions"] == [1]
    event = AuditEvent.objects.filter(action="export").latest("seq")
    assert event.details["rows"] == 6 and event.details["files"] == first.manifest["files"]


def test_unlocked_records_only_with_the_lock_status_column(dataset, people, tmp_path):
    locked = (export(tmp_path, people["dm"], "l").directory / "registry_data.csv").read_text()
    assert "MIL-0003" not in locked and "registry_lock_status" not in locked
    everything = export(tmp_path, people["dm"], "a", locked_only=False)
    lines = (everything.directory / "registry_data.csv").read_text().splitlines()
    assert lines[0].split(",")[4] == "registry_lock_status"
    assert any(line.startswith("MIL-0003,,,mil,unlocked,") for line in lines)
    assert everything.manifest["signatures_summary"]["valid"] == 3


def test_coordinator_export_never_contains_another_centre(dataset, people, tmp_path):
    result = export(tmp_path, people["coord_bol"], locked_only=False)
    text = (result.directory / "registry_data.csv").read_text()
    rows = text.splitlines()[1:]
    assert rows and all(r.startswith("BOL-") for r in rows)
    assert "MIL-" not in text and "H123" not in text
    assert set(result.manifest["signatures"]) == {"BOL-0001"}


def test_formula_cells_are_neutralised_and_numbers_kept(dataset, people, tmp_path):
    result = export(tmp_path, people["dm"], formats=("csv",))
    text = (result.directory / "registry_data.csv").read_text()
    assert '\'=HYPERLINK(""http://x"")' in text
    assert ",'-2+3 looks like a formula," in text
    assert ",'@SUM(A1)," in text
    for line in text.splitlines():
        for cell in line.split(","):
            assert not cell.startswith(("=", "+", "@")), cell


def test_signature_status_is_rechecked_like_signature_is_valid(dataset, people, tmp_path):
    result = export(tmp_path, people["dm"], formats=("csv",))
    for record in (dataset["mil1"], dataset["mil2"], dataset["bol1"]):
        signature = record.signatures.get(voided_at__isnull=True)
        assert signature_is_valid(signature)
        assert result.manifest["signatures"][record.record_id] == "valid"
    # Content that no longer matches the signed hash is reported, not trusted.
    bundle = next(b for b in iter_bundles(Record.objects.filter(pk=dataset["mil1"].pk)))
    assert bundle.signature_status() == "valid"
    form, instance, status, data = bundle.rows[0]
    bundle.rows[0] = (form, instance, status, {**data, "sex": "1"})
    assert bundle.signature_status() == "invalid"
    unsigned = next(b for b in iter_bundles(Record.objects.filter(pk=dataset["mil3"].pk)))
    assert unsigned.signature_status() == "none"


def sign_and_lock(record, user, *, change: dict | None = None) -> None:
    """Lock a record under a real signature of its content; with ``change``, the enrolment row
    is changed after its content was hashed, as if edited in the database after signing (the
    application role cannot edit a locked record, so the order is the other way round)."""
    signed_at = timezone.now()
    digest = hashlib.sha256(
        signed_content(
            record,
            signer_id=user.pk,
            signer_name=user.full_name,
            meaning=SIGNATURE_MEANINGS[0],
            signed_at=signed_at,
        )
    ).hexdigest()
    row = record.instruments.get(instrument="enrolment", deleted_at__isnull=True)
    if change:
        InstrumentData.objects.filter(pk=row.pk).update(data={**row.data, **change})
    with transaction.atomic():
        set_audit_context(user=user, reason=SIGNATURE_MEANINGS[0])
        Signature.objects.create(
            record=record,
            signer=user,
            signer_name=user.full_name,
            meaning=SIGNATURE_MEANINGS[0],
            signed_at=signed_at,
            content_sha256=digest,
        )
        Record.objects.filter(pk=record.pk).update(is_locked=True, locked_at=signed_at)
        announce_dataset_change(action="lock", record_ids=[record.record_id])


# Values orjson reads and writes as json does, and numbers and objects that take the json path.
ODD_VALUES = ["M-9", "=1+1", 2, 1.5e-05, 1e16, 2**64, {"b": ["1", 2.5]}, None]


@pytest.mark.parametrize("value", ODD_VALUES)
def test_a_signed_record_with_any_json_value_is_valid(dataset, people, tmp_path, value):
    target = dataset["mil3"]
    InstrumentData.objects.filter(record=target, instrument="enrolment").update(
        data={"mrn": value, "sex": "1"}
    )
    sign_and_lock(target, people["inv_mil"])
    result = export(tmp_path, people["dm"], formats=("csv",))
    assert result.manifest["signatures"][target.record_id] == "valid"
    assert target.record_id in (result.directory / "registry_data.csv").read_text()


@pytest.mark.parametrize("value", ODD_VALUES)
def test_a_signed_value_changed_after_signing_is_caught_by_the_export(
    dataset, people, tmp_path, value
):
    """Whatever the new value, the record's rows no longer hash to its signature: left out of
    the locked export, and named in the manifest."""
    target = dataset["mil3"]
    sign_and_lock(target, people["inv_mil"], change={"mrn": value})
    result = export(tmp_path, people["dm"], formats=("csv",))
    assert result.manifest["signatures"][target.record_id] == "invalid"
    assert result.manifest["signatures_summary"] == {"valid": 3, "invalid": 1, "none": 0}
    assert target.record_id not in (result.directory / "registry_data.csv").read_text()


def test_statistics_files_carry_value_and_variable_labels(dataset, people, tmp_path):
    result = export(tmp_path, people["dm"])
    for name, reader in (
        ("registry_data.sav", pyreadstat.read_sav),
        ("registry_data.dta", pyreadstat.read_dta),
    ):
        df, meta = reader(str(result.directory / name))
        assert list(df["record_id"]) == [
            "BOL-0001",
            "BOL-0001",
            "MIL-0001",
            "MIL-0002",
            "MIL-0002",
            "MIL-0002",
        ]
        labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
        assert labels["date_dx"] == "Date of diagnosis"
        assert meta.variable_value_labels["site_of_origin"][6] == "Other"
        assert meta.variable_value_labels["metastatic_sites___1"] == {0: "Unchecked", 1: "Checked"}
        assert df["tumour_size_mm"].iloc[0] == 80
        assert str(df["date_dx"].iloc[0])[:10] == "2010-03-04"
        assert df["regimen_other"].iloc[5] == "@SUM(A1)"  # neutralising quote stripped


def test_r_script_reads_the_csv_with_factor_labels(dataset, people, tmp_path):
    import subprocess

    from tests.tools import require_r

    require_r()
    result = export(tmp_path, people["dm"], formats=("csv", "r"))
    code = (
        'source("registry_labels.R"); cat(as.character(data$site_of_origin[data$record_id'
        ' == "MIL-0002"][1]), attr(data$date_dx, "label"), class(data$date_dx),'
        ' as.character(data$metastatic_sites___1[4]), data$site_other[4], sep="|")'
    )
    out = subprocess.run(
        ["Rscript", "-e", code],
        cwd=result.directory,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out == 'Other|Date of diagnosis|Date|Checked|=HYPERLINK("http://x")'


def test_safe_cell_rules():
    from registry.csv_safety import safe_cell

    for dangerous in ("=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "-", "+"):
        assert safe_cell(dangerous) == "'" + dangerous
    for plain in ("-3.5", "+2", "-10", "1e-3", "abc", "", "2010-03-04", "'quoted"):
        assert safe_cell(plain) == plain
    assert safe_cell(None) == "" and safe_cell(12) == "12"


def test_export_dataset_command(dataset, people, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(
        "export_dataset",
        people["dm"].username,
        str(tmp_path / "cmd"),
        "--deidentify",
        "--dates",
        "days",
        "--formats",
        "csv,dictionary",
        stdout=out,
    )
    assert "3 records, 6 rows" in out.getvalue()
    assert sorted(p.name for p in (tmp_path / "cmd").iterdir() if p.suffix != ".zip") == [
        "manifest.json",
        "registry_data.csv",
        "registry_dictionary.csv",
    ]


def test_empty_export_still_has_every_file(dataset, centers, tmp_path):
    from tests import factories

    rom = factories.coordinator(centers["ROM"], username="romeo")
    result = export(tmp_path, rom)
    assert result.manifest["records"] == 0 and result.manifest["rows"] == 0
    assert sorted(result.manifest["files"]) == sorted(DATA_FILES)
    df, _meta = pyreadstat.read_dta(str(result.directory / "registry_data.dta"))
    assert len(df) == 0 and "record_id" in df.columns


def test_spss_and_stata_above_the_row_cap_are_refused_and_csv_is_not(
    dataset, people, tmp_path, monkeypatch
):
    """pyreadstat writes only whole DataFrames: above STATFILE_MAX_ROWS the two formats are
    refused with what to choose instead; CSV + R (streamed) have no cap."""
    from registry.exports import statfiles

    monkeypatch.setattr(statfiles, "STATFILE_MAX_ROWS", 5)  # the locked dataset has 6 rows
    with pytest.raises(statfiles.StatFileTooLarge, match="limited to 5 rows.*has 6.*R script"):
        export(tmp_path, people["dm"], "stats", formats=("csv", "spss"))
    result = export(tmp_path, people["dm"], "csv", formats=("csv", "r"))
    assert result.manifest["rows"] == 6
