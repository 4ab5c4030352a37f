"""The dictionary in other languages (REDCap's Multi-Language Management): the translation file,
field-by-field fallback, the shipped Italian file, versions, the data manager's upload and
download, forms in the person's language, exports with translated labels. Codes never change."""

from __future__ import annotations

import csv
import io
from importlib import resources

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from registry.dictionary import DictionaryInvalid, gi_lms_dictionary, gi_lms_project
from registry.dictionary.translations import (
    TranslationEntry,
    parse_translation_csv,
    translate_dictionary,
    translation_csv,
)
from registry.models import AuditEvent, DictionaryTranslation
from registry.services.dictionary import import_dictionary
from registry.services.dictionary_translations import dictionary_in, missing_codes_in
from registry.services.records import create_record

HEADER = "field_name,attribute,choice_code,text\n"
CODES = ["UNK", "NA", "ND", "NASK"]


def italian_csv() -> str:
    path = "data/gi_lms_dictionary_it.csv"
    return resources.files("registry.dictionary").joinpath(path).read_text("utf-8")


def test_translated_texts_replace_the_base_ones_field_by_field():
    base = gi_lms_dictionary()
    text = HEADER + (
        "sex,field_label,,Sesso\n"
        "sex,choice_label,2,Femmina\n"
        "kit_cd117,section_header,,Immunoistochimica\n"
        "primary_surgery,form_label,,Chirurgia del primitivo\n"
        ",missing_code_label,UNK,Non noto\n"
    )
    entries = parse_translation_csv(text, base, CODES)
    translated = translate_dictionary(base, entries)
    sex = translated.field("sex")
    assert sex.label == "Sesso"
    assert [(c.code, c.label) for c in sex.choices] == [("1", "Male"), ("2", "Femmina")]
    assert translated.field("kit_cd117").section_header == "Immunoistochimica"
    assert translated.field("year_of_birth").label == "Year of birth"  # untranslated: base
    assert dict(translated.forms)["primary_surgery"] == "Chirurgia del primitivo"
    assert dict(translated.forms)["enrolment"] == "Enrolment"
    # Only texts change: names, codes, types, logic and validation are the base dictionary's.
    for before, after in zip(base.fields, translated.fields, strict=True):
        assert (before.name, before.field_type, before.branching_logic, before.validation) == (
            after.name,
            after.field_type,
            after.branching_logic,
            after.validation,
        )
        assert [c.code for c in before.choices] == [c.code for c in after.choices]


def test_every_problem_is_reported_by_row_and_column():
    text = HEADER + (
        "no_such_field,field_label,,x\n"
        "sex,colour,,x\n"
        "sex,choice_label,9,x\n"
        "sex,field_label,1,x\n"
        "sex,field_label,,Sesso\n"
        "sex,field_label,,Sesso di nuovo\n"
        "nowhere,form_label,,x\n"
        ",missing_code_label,XYZ,x\n"
        "sex,field_note,,\x00\n"
    )
    with pytest.raises(DictionaryInvalid) as caught:
        parse_translation_csv(text, gi_lms_dictionary(), CODES)
    found = [(e.row, e.column) for e in caught.value.errors]
    assert found == [
        (2, "field_name"),
        (3, "attribute"),
        (4, "choice_code"),
        (5, "choice_code"),
        (7, "field_name"),  # translated twice
        (8, "field_name"),
        (9, "choice_code"),
        (10, ""),  # a NUL byte
    ]


def test_a_wrong_header_is_refused():
    with pytest.raises(DictionaryInvalid) as caught:
        parse_translation_csv("field,text\nsex,Sesso\n", gi_lms_dictionary(), CODES)
    assert caught.value.errors[0].row == 1


def test_download_then_upload_round_trips_even_formula_like_text():
    base = gi_lms_dictionary()
    entries = [
        TranslationEntry("sex", "field_label", "", "=Sesso"),
        TranslationEntry("sex", "choice_label", "1", 'Maschio, "M"'),
        TranslationEntry("", "missing_code_label", "NA", "Non applicabile"),
    ]
    text = translation_csv(base, entries, gi_lms_project()["missing_codes"])
    assert "'=Sesso" in text  # neutralised for spreadsheets (registry.csv_safety)
    assert sorted(parse_translation_csv(text, base, CODES), key=lambda e: e.key) == sorted(
        entries, key=lambda e: e.key
    )


def test_the_shipped_italian_file_translates_every_text_of_the_study():
    base = gi_lms_dictionary()
    project = gi_lms_project()
    entries = parse_translation_csv(
        italian_csv(), base, [m["code"] for m in project["missing_codes"]]
    )
    every_text = list(
        csv.DictReader(io.StringIO(translation_csv(base, [], project["missing_codes"])))
    )
    assert {e.key for e in entries} == {
        (r["field_name"], r["attribute"], r["choice_code"]) for r in every_text
    }
    translated = translate_dictionary(base, entries)
    assert translated.field("sex").label == "Sesso"
    assert dict(translated.forms)["follow_up"] == "Follow-up"


@pytest.mark.django_db
def test_the_default_dictionary_loads_with_italian_and_a_new_version_keeps_it(dictionary):
    italian = DictionaryTranslation.objects.get(version=dictionary, language="it")
    assert italian.note.startswith("GI-LMS")
    assert dictionary_in(dictionary, "it").field("sex").label == "Sesso"
    assert dictionary_in(dictionary, "en-gb").field("sex").label == "Sex"
    assert missing_codes_in(dictionary, "it")[0] == {"code": "UNK", "label": "Non noto"}
    lines = dictionary.source_csv.splitlines(keepends=True)
    v2 = import_dictionary(
        csv_text="".join(line for line in lines if not line.startswith("pathology_notes,")),
        note="drop a field nobody filled",
    )
    carried = DictionaryTranslation.objects.get(version=v2, language="it")
    assert dictionary_in(v2, "it").field("sex").label == "Sesso"
    assert not any(e["field_name"] == "pathology_notes" for e in carried.entries)
    assert len(carried.entries) == len(italian.entries) - 1


@pytest.mark.django_db
def test_data_manager_uploads_and_downloads_a_translation(client, dictionary, people):
    client.force_login(people["dm"])
    text = HEADER + "sex,field_label,,Sesso (alla nascita)\n"
    response = client.post(
        reverse("registry:dictionary_translation"),
        {
            "language": "it",
            "note": "revisione",
            "csv_file": SimpleUploadedFile("it.csv", text.encode(), content_type="text/csv"),
        },
    )
    assert response.status_code == 302
    assert dictionary_in(dictionary, "it").field("sex").label == "Sesso (alla nascita)"
    assert dictionary_in(dictionary, "it").field("year_of_birth").label == "Year of birth"
    event = AuditEvent.objects.filter(action="dictionary_translation").latest("seq")
    assert event.details["language"] == "it" and event.details["texts"] == 1
    download = client.get(reverse("registry:dictionary_translation_csv", args=[1, "it"]))
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    sex = next(r for r in rows if r["field_name"] == "sex" and r["attribute"] == "field_label")
    assert (sex["text"], sex["source_text"]) == ("Sesso (alla nascita)", "Sex")
    page = client.get(reverse("registry:dictionary")).content.decode()
    assert "translation-list" in page


@pytest.mark.django_db
def test_a_bad_translation_is_refused_with_its_rows(client, dictionary, people):
    client.force_login(people["dm"])
    before = DictionaryTranslation.objects.count()
    text = HEADER + "sexx,field_label,,Sesso\n"
    response = client.post(
        reverse("registry:dictionary_translation"),
        {"language": "it", "csv_file": SimpleUploadedFile("it.csv", text.encode())},
    )
    assert response.status_code == 400
    assert "translation-errors" in response.content.decode()
    assert response.context["translation_errors"][0].row == 2
    assert DictionaryTranslation.objects.count() == before
    unknown = client.post(
        reverse("registry:dictionary_translation"),
        {"language": "xx", "csv_file": SimpleUploadedFile("it.csv", HEADER.encode())},
    )
    assert unknown.status_code == 400


@pytest.mark.django_db
def test_only_data_managers_manage_translations(client, dictionary, people):
    for who in ("coord_mil", "inv_mil", "monitor", "pi"):
        client.force_login(people[who])
        assert (
            client.get(reverse("registry:dictionary_translation_csv", args=[1, "it"])).status_code
            == 403
        )
        response = client.post(
            reverse("registry:dictionary_translation"),
            {"language": "it", "csv_file": SimpleUploadedFile("it.csv", HEADER.encode())},
        )
        assert response.status_code == 403


@pytest.mark.django_db
def test_the_form_shows_the_persons_language_and_sanitises_translated_text(
    client, dictionary, people, centers
):
    coordinator = people["coord_mil"]
    record = create_record(user=coordinator, center=centers["MIL"])
    client.force_login(coordinator)
    url = reverse("registry:instrument", args=[record.record_id, "enrolment", 1])
    english = client.get(url).content.decode()
    assert "Year of birth" in english and "Anno di nascita" not in english
    coordinator.language = "it"
    coordinator.save(update_fields=["language"])
    italian = client.get(url).content.decode()
    assert "Anno di nascita" in italian and "Maschio" not in english
    assert "Maschio" in italian and 'value="1"' in italian  # the code is unchanged
    assert "Salva e resta" in italian  # and the page around it
    client.force_login(people["dm"])
    hostile = HEADER + "sex,field_label,,<script>alert(1)</script><b>Sesso</b>{{ 7|add:1 }}\n"
    client.post(
        reverse("registry:dictionary_translation"),
        {"language": "it", "csv_file": SimpleUploadedFile("it.csv", hostile.encode())},
    )
    client.force_login(coordinator)
    body = client.get(url).content.decode()
    assert "<b>Sesso</b>" in body and "alert(1)" not in body
    assert "{{ 7|add:1 }}" in body  # text, never a template
    # The latest upload replaces the previous one as a whole: what it leaves out is base text.
    assert "Year of birth" in body and "Anno di nascita" not in body


@pytest.mark.django_db
def test_record_pages_show_translated_instrument_names(client, dictionary, people, centers):
    coordinator = people["coord_mil"]
    coordinator.language = "it"
    coordinator.save(update_fields=["language"])
    record = create_record(user=coordinator, center=centers["MIL"])
    client.force_login(coordinator)
    home = client.get(record.get_absolute_url()).content.decode()
    assert "Chirurgia del primitivo" in home and "Primary Surgery" not in home
    assert "Chirurgia del primitivo" in client.get(reverse("registry:dashboard")).content.decode()


@pytest.mark.django_db
def test_exports_with_labels_in_either_language_keep_the_codes(locked_record, people, tmp_path):
    from registry.exports.build import build_export
    from registry.exports.options import ExportOptions

    def data(language, **options):
        result = build_export(
            user=people["dm"],
            options=ExportOptions(formats=("csv", "dictionary"), language=language, **options),
            directory=tmp_path / (language or "base") / str(len(options)),
        )
        return (result.directory / "registry_data.csv").read_text(), result

    italian, result = data("it", raw_or_label="label", header="label")
    english, _result = data("", raw_or_label="label", header="label")
    assert ",Vivo," in italian and "Alive" not in italian and ",Alive," in english
    assert "Completa" in italian  # the registry's own words too (form status)
    assert "Sesso" in italian.splitlines()[0]
    dictionary_file = (result.directory / "registry_dictionary.csv").read_text()
    assert "1, Maschio | 2, Femmina" in dictionary_file
    assert data("it")[0] == data("")[0]  # raw codes and names: the language changes nothing


@pytest.mark.django_db
def test_a_form_page_and_save_in_italian_make_as_many_statements_as_in_english(
    client, dictionary, people, centers
):
    """Which translation is latest is read with the record, in its one statement."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    coordinator = people["coord_mil"]
    client.force_login(coordinator)
    statements = {}
    for language in ("en", "it", "en", "it"):
        coordinator.language = language
        coordinator.save(update_fields=["language"])
        record = create_record(user=coordinator, center=centers["MIL"])
        url = reverse("registry:instrument", args=[record.record_id, "enrolment", 1])
        client.get(url)  # the translation's texts are read once per process
        with CaptureQueriesContext(connection) as page:
            body = client.get(url).content.decode()
        assert ("Anno di nascita" in body) == (language == "it")
        data = {"__status": "0", "__version": "0", "action": "stay", "sex": "1"}
        with CaptureQueriesContext(connection) as save:
            assert client.post(url, data).status_code == 302
        assert record.instruments.get(instrument="enrolment").data["sex"] == "1"
        statements[language] = [q["sql"] for q in page], [q["sql"] for q in save]
        for sql in statements[language][0] + statements[language][1]:
            # the record read, nothing else: no statement of its own
            assert "registry_dictionarytranslation" not in sql or '"registry_record" r' in sql
    assert [len(s) for s in statements["it"]] == [len(s) for s in statements["en"]]


@pytest.mark.django_db
def test_the_record_read_knows_the_latest_translation_of_the_current_version(
    dictionary, people, centers
):
    from registry.models import Record
    from registry.services.dictionary_translations import (
        dictionary_and_missing_codes_in,
        latest_translation,
    )

    coordinator = people["coord_mil"]
    record = create_record(user=coordinator, center=centers["MIL"])
    latest = latest_translation(dictionary, "it")
    found = Record.objects.visible_by_id(coordinator, record.record_id, language="it")
    assert found.latest_translations == {(dictionary.pk, "it"): latest.pk}
    assert Record.objects.visible_by_id(coordinator, record.record_id).latest_translations == {}
    newer = DictionaryTranslation.objects.create(
        version=dictionary, language="it", entries=[], sha256="x"
    )
    found = Record.objects.visible_with_rows(coordinator, record.record_id, language="it")[0]
    assert found.latest_translations == {(dictionary.pk, "it"): newer.pk}
    assert latest_translation(dictionary, "it").pk == newer.pk  # the same rule
    italian, _codes = dictionary_and_missing_codes_in(dictionary, "it", record=found)
    assert italian.field("year_of_birth").label == "Year of birth"  # the newer upload is empty
