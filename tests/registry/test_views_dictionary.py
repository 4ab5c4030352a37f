"""The data manager's dictionary page: versions, download, upload with errors and confirmation."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.dictionary import gi_lms_dictionary_csv
from registry.models import DictionaryVersion

pytestmark = pytest.mark.django_db


def upload(client, text, **extra):
    return client.post(
        "/dictionary/",
        {
            "csv_file": SimpleUploadedFile("dd.csv", text.encode(), content_type="text/csv"),
            "note": "test",
            **extra,
        },
    )


def test_only_data_managers(client, dictionary, people):
    for who in ("coord_mil", "monitor", "pi"):
        client.force_login(people[who])
        assert client.get("/dictionary/").status_code == 403
        assert client.get("/dictionary/1/csv/").status_code == 403


def test_versions_and_download(client, dictionary, people):
    client.force_login(people["dm"])
    page = client.get("/dictionary/")
    assert page.context["current"].number == 1
    response = client.get("/dictionary/1/csv/")
    assert response.content.decode() == gi_lms_dictionary_csv()
    from registry.models import AuditEvent

    event = AuditEvent.objects.filter(action="dictionary_export").get()
    assert event.actor_name == people["dm"].full_name and event.details["version"] == 1


def test_invalid_dictionary_shows_row_and_column_errors(client, dictionary, people):
    client.force_login(people["dm"])
    bad = gi_lms_dictionary_csv().replace(",yesno,KIT (CD117)", ",sql,KIT (CD117)")
    response = upload(client, bad)
    assert response.status_code == 400
    errors = response.context["errors"]
    assert errors and errors[0].column == "Field Type"
    assert "dictionary-errors" in response.content.decode()
    assert DictionaryVersion.objects.count() == 1


def test_change_to_collected_data_needs_confirmation(client, complete_record, people):
    client.force_login(people["dm"])
    lines = gi_lms_dictionary_csv().splitlines(keepends=True)
    changed = "".join(line for line in lines if not line.startswith("rupture,"))
    response = upload(client, changed)
    assert response.status_code == 409
    refused = response.context["refused"]
    assert any(
        c.field == "rupture" and complete_record.record_id in recs for c, recs in refused["changes"]
    )
    assert DictionaryVersion.objects.count() == 1
    # Re-submitted with the CSV kept in the form, and the confirmation ticked.
    carried = response.context["form"]["csv_base64"].value()
    response = client.post(
        "/dictionary/", {"csv_base64": carried, "confirm_changes": "on", "note": "drop rupture"}
    )
    assert response.status_code == 302
    assert DictionaryVersion.objects.count() == 2
    assert DictionaryVersion.objects.current().confirmed_changes


def test_valid_new_version(client, dictionary, people):
    client.force_login(people["dm"])
    text = gi_lms_dictionary_csv().replace("Pathology notes", "Pathology remarks")
    assert upload(client, text).status_code == 302
    assert DictionaryVersion.objects.current().number == 2
