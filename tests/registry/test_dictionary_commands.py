"""import_dictionary / export_dictionary: all-or-nothing versions, row/column errors with a
non-zero exit, and changes that would alter collected data refused unless confirmed."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from registry.dictionary import gi_lms_dictionary_csv, gi_lms_project
from registry.models import AuditEvent, DictionaryVersion

pytestmark = pytest.mark.django_db
KITCHEN_SINK = Path(__file__).parent / "fixtures" / "kitchen_sink_dictionary.csv"


def test_round_trip_through_the_commands(tmp_path, capsys, dictionary):
    call_command("export_dictionary")
    exported = capsys.readouterr().out
    assert exported == gi_lms_dictionary_csv()
    path = tmp_path / "again.csv"
    path.write_text(exported)
    call_command("import_dictionary", str(path))  # the same dictionary: no new version
    assert "identical to the current version 1" in capsys.readouterr().out
    assert DictionaryVersion.objects.count() == 1
    path.write_text(exported.replace("Pathology notes", "Pathology remarks"))
    call_command("import_dictionary", str(path))
    assert DictionaryVersion.objects.current().number == dictionary.number + 1
    assert DictionaryVersion.objects.current().project == dictionary.project


def test_bad_dictionary_is_refused_with_row_and_column(tmp_path, capsys, dictionary):
    lines = gi_lms_dictionary_csv().splitlines()
    lines[3] = lines[3].replace(",radio,", ",radiox,", 1)
    lines.append(lines[2])  # a duplicate variable
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_dictionary", str(path))
    err = capsys.readouterr().err
    assert "row 4, column 'Field Type'" in err
    assert "column 'Variable / Field Name'" in err and "duplicate" in err.lower()
    assert DictionaryVersion.objects.count() == 1


def test_change_orphaning_data_is_refused_then_confirmed(tmp_path, capsys, complete_record):
    lines = [
        line
        for line in gi_lms_dictionary_csv().splitlines()
        if not line.startswith("tumour_size_mm,")
    ]
    path = tmp_path / "drop_field.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CommandError, match="confirm"):
        call_command("import_dictionary", str(path))
    err = capsys.readouterr().err
    assert "tumour_size_mm" in err and complete_record.record_id in err
    assert DictionaryVersion.objects.count() == 1

    call_command("import_dictionary", str(path), "--confirm-changes", "--note", "field retired")
    assert DictionaryVersion.objects.count() == 2
    event = AuditEvent.objects.filter(action="dictionary_import").order_by("-seq").first()
    assert event.details["confirmed"] is True
    assert event.reason == "field retired"
    assert complete_record.record_id in str(event.details["affected_records"])


def test_an_unrelated_redcap_dictionary_imports(tmp_path, dictionary):
    call_command("import_dictionary", str(KITCHEN_SINK), "--confirm-changes")
    current = DictionaryVersion.objects.current()
    types = {f.field_type for f in current.dictionary.fields}
    assert {
        "text",
        "notes",
        "dropdown",
        "radio",
        "checkbox",
        "yesno",
        "truefalse",
        "calc",
        "descriptive",
        "slider",
        "file",
    } <= types


def test_the_progression_date_arrives_as_a_new_version_without_confirmation(
    tmp_path, capsys, db, centers, people
):
    """A database on the dictionary before `progression_date` (with an advanced line already
    entered) takes the shipped dictionary as its next version: adding a field alters no data."""
    from registry.services.dictionary import import_default_dictionary, import_dictionary
    from registry.services.records import create_record
    from tests.fixtures_records import enter_case
    from tests.registry.golden.dataset import METASTATIC

    shipped = gi_lms_dictionary_csv()
    before = "\n".join(
        line for line in shipped.splitlines() if not line.startswith("progression_date,")
    )
    old = import_dictionary(csv_text=before + "\n", project=gi_lms_project())
    assert "progression_date" not in old.dictionary.field_names
    record = create_record(user=people["coord_mil"], center=centers["MIL"])
    case = dict(METASTATIC)
    case["systemic_therapy"] = [
        {k: v for k, v in line.items() if k != "progression_date"}
        for line in METASTATIC["systemic_therapy"]
    ]
    enter_case(record, people["coord_mil"], old, case)

    new = import_default_dictionary()
    assert new.number == old.number + 1
    field = new.dictionary.field("progression_date")
    assert field.form == "systemic_therapy" and field.validation == "date_dmy"
    assert field.branching_logic == "[therapy_setting] = '3'"
    names = new.dictionary.field_names
    assert names.index("progression_date") == names.index("therapy_end") + 1
