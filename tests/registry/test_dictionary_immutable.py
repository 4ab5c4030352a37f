"""Dictionary versions cannot be changed or removed by the application role, whatever the path;
each insert is audited with the version's content hash; an identical upload creates no version.
(Tampering as the table owner is in test_tamper_evidence.py: it needs an owner connection.)"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction

from registry.audit import record_event
from registry.dictionary import gi_lms_dictionary_csv
from registry.integrity import check_all, verify_dictionary_versions
from registry.models import AuditEvent, DictionaryVersion
from registry.services.dictionary import import_dictionary
from registry.services.errors import DictionaryUnchanged

pytestmark = pytest.mark.django_db


def refused(action) -> str:
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        action()
    return str(caught.value)


def swap_sex_labels(version: DictionaryVersion) -> None:
    for field in version.fields:
        if field["field_name"] == "sex":
            field["select_choices_or_calculations"] = "1, Female | 2, Male"


def test_the_app_role_cannot_update_a_version_through_the_orm(dictionary):
    swap_sex_labels(dictionary)
    assert "permission denied" in refused(dictionary.save)
    dictionary.refresh_from_db()
    assert (
        "1, Male"
        in next(f for f in dictionary.fields if f["field_name"] == "sex")[
            "select_choices_or_calculations"
        ]
    )


def test_the_app_role_cannot_update_or_delete_through_querysets(dictionary):
    versions = DictionaryVersion.objects.filter(pk=dictionary.pk)
    assert "permission denied" in refused(lambda: versions.update(note="rewritten"))
    assert "permission denied" in refused(lambda: versions.update(sha256="0" * 64))
    assert "permission denied" in refused(versions.delete)
    assert "permission denied" in refused(dictionary.delete)
    assert DictionaryVersion.objects.get(pk=dictionary.pk).note == dictionary.note


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE registry_dictionaryversion SET fields = '[]'",
        "DELETE FROM registry_dictionaryversion",
        "TRUNCATE registry_dictionaryversion CASCADE",
        "SELECT * FROM registry_dictionaryversion FOR UPDATE",
    ],
)
def test_the_app_role_cannot_change_versions_in_raw_sql(dictionary, statement):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(statement)

    assert "permission denied" in refused(run)
    assert DictionaryVersion.objects.get().content_sha256 == dictionary.content_sha256


def test_each_version_is_hashed_by_the_database_and_audited_with_that_hash(dictionary, people):
    changed = gi_lms_dictionary_csv().replace("Pathology notes", "Pathology remarks")
    second = import_dictionary(csv_text=changed, user=people["dm"], note="label")
    events = AuditEvent.objects.filter(action="dictionary_version").order_by("seq")
    assert [e.new_value["version"] for e in events] == [1, 2]
    assert [e.new_value["content_sha256"] for e in events] == [
        dictionary.content_sha256,
        second.content_sha256,
    ]
    assert len({dictionary.content_sha256, second.content_sha256}) == 2
    assert events.last().actor_name == people["dm"].full_name
    assert verify_dictionary_versions() == (2, [])
    report = check_all()
    assert report["ok"] and report["dictionary_versions_checked"] == 2


def test_a_version_whose_sha256_is_not_its_source_is_refused(dictionary):
    def forged():
        DictionaryVersion.objects.create(
            number=2,
            fields=dictionary.fields,
            project=dictionary.project,
            source_csv="field_name\n",
            sha256=dictionary.sha256,
        )

    assert "is not its source" in refused(forged)


def test_an_identical_upload_creates_no_version_on_the_web(client, dictionary, people):
    client.force_login(people["dm"])
    before = AuditEvent.objects.latest("seq").seq
    # The same dictionary re-saved with Windows line endings: other bytes, same content.
    for text in (gi_lms_dictionary_csv(), gi_lms_dictionary_csv().replace("\n", "\r\n")):
        upload = SimpleUploadedFile("dd.csv", text.encode(), content_type="text/csv")
        response = client.post("/dictionary/", {"csv_file": upload, "note": "again"}, follow=True)
        assert response.status_code == 200
        shown = [str(m) for m in response.context["messages"]]
        assert any("identical to the current version 1" in m for m in shown), shown
    assert DictionaryVersion.objects.count() == 1
    assert not AuditEvent.objects.filter(seq__gt=before, action__startswith="dictionary").exists()


def test_an_identical_import_through_the_service_says_which_version_it_matches(dictionary):
    with pytest.raises(DictionaryUnchanged) as unchanged:
        import_dictionary(csv_text=gi_lms_dictionary_csv(), note="again")
    assert unchanged.value.current == dictionary
    # Other project settings are a different dictionary version.
    project = {**dictionary.project, "missing_codes": [{"code": "NK", "label": "Not known"}]}
    assert import_dictionary(csv_text=gi_lms_dictionary_csv(), project=project).number == 2


def test_a_version_event_cannot_be_forged_by_the_app_role(dictionary):
    forged = {"version": 1, "sha256": dictionary.sha256, "content_sha256": "0" * 64}

    def through_the_orm():
        record_event("dictionary_version", new=forged)

    def through_the_audit_function():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT registry_audit_insert('dictionary_version', NULL, '', '', NULL, '', "
                "NULL, %s::jsonb, '{}'::jsonb)",
                [json.dumps(forged)],
            )

    for forge in (through_the_orm, through_the_audit_function):
        assert "written by the database only" in refused(forge)
    assert verify_dictionary_versions() == (1, [])
