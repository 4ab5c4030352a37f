"""Deleting a form's data (REDCap's "Delete data for this form only"), restoring it from the
audit trail, a data manager's record delete and rename, and Save & Next never creating an
empty repeating instance."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from centers.tokens import issue_api_token
from registry.audit import set_audit_context
from registry.models import AuditEvent, InstrumentData, Record
from registry.services.deletion import (
    NothingToRestore,
    instrument_delete,
    record_delete,
    record_rename,
    restore_deleted,
)
from registry.services.errors import PermissionDenied, ReasonRequired, RecordLocked
from registry.services.locking import lock_blockers
from registry.services.records import create_record
from tests.fixtures_records import enter_case

pytestmark = pytest.mark.django_db

RELAPSE = {"relapse_date": "2012-01-10", "relapse_type": "1"}


def form_url(record, form, instance=1, tail=""):
    return reverse("registry:instrument", args=[record.record_id, form, instance]) + tail


def delete_url(record, form, instance=1):
    return reverse("registry:instrument_delete", args=[record.record_id, form, instance])


@pytest.fixture
def with_relapse(complete_record, people, dictionary):
    case = {"relapse": [RELAPSE]}
    enter_case(complete_record, people["coord_mil"], dictionary, case=case, status=0)
    return complete_record


def test_a_coordinator_deletes_a_relapse_created_by_mistake(
    client, with_relapse, people, dictionary
):
    record = with_relapse
    assert "Relapse #1 is not Complete." in lock_blockers(record, dictionary)
    client.force_login(people["coord_mil"])
    response = client.post(delete_url(record, "relapse"), {"reason": "Created by mistake"})
    assert response.status_code == 302 and response.url == record.get_absolute_url()
    row = InstrumentData.objects.get(record=record, instrument="relapse", instance=1)
    assert row.deleted_at is not None and row.data["relapse_date"] == "2012-01-10"
    event = AuditEvent.objects.get(action="instance_delete", record_id=record.record_id)
    assert event.reason == "Created by mistake" and event.actor_id == people["coord_mil"].pk
    assert event.old_value["data"]["relapse_date"] == "2012-01-10"  # what was deleted
    assert lock_blockers(record, dictionary) == []  # the record can be locked again
    home = client.get(record.get_absolute_url()).content.decode()
    assert "relapse/1/" not in home.split("Relapse")[1].split("</li>")[0]


def test_a_reason_is_mandatory(client, with_relapse, people):
    client.force_login(people["coord_mil"])
    client.post(delete_url(with_relapse, "relapse"), {"reason": "  "})
    assert not InstrumentData.objects.filter(deleted_at__isnull=False).exists()
    with pytest.raises(ReasonRequired):
        instrument_delete(
            user=people["coord_mil"],
            record=with_relapse,
            instrument="relapse",
            instance=1,
            reason="",
        )


def test_the_database_refuses_a_deletion_without_a_reason(with_relapse):
    with pytest.raises(DatabaseError, match="needs a reason"), transaction.atomic():
        set_audit_context(reason="")
        InstrumentData.objects.filter(record=with_relapse, instrument="relapse").update(
            deleted_at="2020-01-01T00:00:00Z"
        )
    with pytest.raises(DatabaseError, match="needs a reason"), transaction.atomic():
        Record.objects.filter(pk=with_relapse.pk).update(deleted_at="2020-01-01T00:00:00Z")


@pytest.mark.parametrize("who", ["coord_bol", "pi", "monitor"])
def test_other_centres_and_readers_cannot_delete(client, with_relapse, people, who):
    client.force_login(people[who])
    response = client.post(delete_url(with_relapse, "relapse"), {"reason": "x"})
    assert response.status_code == 404
    assert not InstrumentData.objects.filter(deleted_at__isnull=False).exists()
    with pytest.raises(PermissionDenied):
        instrument_delete(
            user=people[who], record=with_relapse, instrument="relapse", instance=1, reason="x"
        )


def test_locked_records_and_locked_forms_refuse_deletion_here_and_in_the_database(
    client, locked_record, people
):
    client.force_login(people["coord_mil"])
    response = client.post(delete_url(locked_record, "stage"), {"reason": "x"})
    assert response.status_code == 302
    assert not InstrumentData.objects.filter(deleted_at__isnull=False).exists()
    with pytest.raises(RecordLocked):
        instrument_delete(
            user=people["coord_mil"],
            record=locked_record,
            instrument="stage",
            instance=1,
            reason="x",
        )
    with pytest.raises(DatabaseError, match="locked"), transaction.atomic():
        set_audit_context(user=people["coord_mil"], reason="raw SQL")
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE registry_instrumentdata SET deleted_at = now() WHERE record_id = %s",
                [locked_record.pk],
            )


def test_a_locked_form_refuses_deletion(complete_record, people, dictionary):
    from registry.services.locking import lock_instrument
    from tests.fixtures_records import PASSWORD

    row = complete_record.instruments.get(instrument="stage")
    lock_instrument(user=people["inv_mil"], row=row, password=PASSWORD)
    with pytest.raises(RecordLocked):
        instrument_delete(
            user=people["coord_mil"],
            record=complete_record,
            instrument="stage",
            instance=1,
            reason="x",
        )
    with pytest.raises(DatabaseError, match="locked"), transaction.atomic():
        set_audit_context(user=people["coord_mil"], reason="raw SQL")
        InstrumentData.objects.filter(pk=row.pk).update(deleted_at="2020-01-01T00:00:00Z")


def test_a_data_manager_restores_the_deleted_data_from_the_audit_trail(
    client, with_relapse, people
):
    instrument_delete(
        user=people["coord_mil"],
        record=with_relapse,
        instrument="relapse",
        instance=1,
        reason="Wrong patient",
    )
    client.force_login(people["dm"])
    page = client.get(reverse("registry:deleted")).content.decode()
    assert "Relapse #1" in page and "Wrong patient" in page
    event = AuditEvent.objects.get(action="instance_delete")
    response = client.post(
        reverse("registry:restore", args=[event.seq]), {"reason": "Right patient after all"}
    )
    assert response.status_code == 302
    row = InstrumentData.objects.get(record=with_relapse, instrument="relapse")
    assert row.deleted_at is None and row.data["relapse_date"] == "2012-01-10"
    restored = AuditEvent.objects.get(action="instance_restore")
    assert restored.reason == "Right patient after all"
    page = client.get(reverse("registry:deleted")).content.decode()
    assert "Back already" in page and reverse("registry:restore", args=[event.seq]) not in page
    with pytest.raises(NothingToRestore):
        restore_deleted(user=people["dm"], event=event, reason="again")


@pytest.mark.parametrize("who", ["coord_mil", "inv_mil", "pi", "monitor"])
def test_only_data_managers_restore(client, with_relapse, people, who):
    instrument_delete(
        user=people["coord_mil"],
        record=with_relapse,
        instrument="relapse",
        instance=1,
        reason="x",
    )
    event = AuditEvent.objects.get(action="instance_delete")
    client.force_login(people[who])
    assert client.get(reverse("registry:deleted")).status_code == 403
    response = client.post(reverse("registry:restore", args=[event.seq]), {"reason": "x"})
    assert response.status_code == 403
    assert InstrumentData.objects.get(instrument="relapse").deleted_at is not None


def test_a_form_entered_again_after_its_deletion_is_not_overwritten_by_a_restore(
    client, complete_record, people
):
    instrument_delete(
        user=people["coord_mil"],
        record=complete_record,
        instrument="stage",
        instance=1,
        reason="Entered on the wrong record",
    )
    client.force_login(people["coord_mil"])
    form = client.get(form_url(complete_record, "stage")).content.decode()
    assert 'name="stage_dx" value="1"' in form and "checked" not in form.split("stage_dx")[1][:80]
    response = client.post(
        form_url(complete_record, "stage"),
        {"__status": "0", "__version": "0", "stage_dx": "3", "action": "stay"},
    )
    assert response.status_code == 302
    row = InstrumentData.objects.get(record=complete_record, instrument="stage")
    assert row.deleted_at is None and row.data["stage_dx"] == "3" and not row.ever_completed
    assert AuditEvent.objects.filter(action="instance_reentry").exists()
    event = AuditEvent.objects.get(action="instance_delete")
    with pytest.raises(NothingToRestore):
        restore_deleted(user=people["dm"], event=event, reason="x")


def test_save_and_next_asks_before_a_repeating_form_and_never_saves_an_empty_one(
    client, complete_record, people
):
    client.force_login(people["coord_mil"])
    row = complete_record.instruments.get(instrument="radiotherapy")
    response = client.post(
        form_url(complete_record, "radiotherapy"),
        {
            "__status": "2",
            "__version": str(row.version),
            "rt_given": "0",
            "action": "next",
            "__reason": "checked",
        },
    )
    assert response.url == form_url(complete_record, "relapse", tail="?ask=1")
    asked = client.get(response.url).content.decode()
    assert 'id="ask-add"' in asked and 'id="instrument-form"' not in asked
    assert form_url(complete_record, "follow_up") in asked  # skip to the next form
    empty = client.post(
        form_url(complete_record, "relapse"),
        {"__status": "0", "__version": "0", "action": "next"},
    )
    assert empty.status_code == 302 and empty.url == form_url(complete_record, "follow_up")
    assert not complete_record.instruments.filter(instrument="relapse").exists()
    filled = client.post(
        form_url(complete_record, "relapse"),
        {"__status": "0", "__version": "0", "relapse_date": "10/01/2012", "action": "stay"},
    )
    assert filled.status_code == 302
    assert complete_record.instruments.filter(instrument="relapse").exists()
    again = client.post(
        form_url(complete_record, "radiotherapy"),
        {
            "__status": "2",
            "__version": str(complete_record.instruments.get(instrument="radiotherapy").version),
            "rt_given": "0",
            "action": "next",
            "__reason": "checked",
        },
    )
    assert again.url == form_url(complete_record, "relapse")  # has one: no question


def test_a_data_manager_deletes_a_record_it_leaves_lists_and_exports(
    client, complete_record, people
):
    client.force_login(people["dm"])
    assert (
        client.get(reverse("registry:record_delete", args=[complete_record.record_id])).status_code
        == 200
    )
    response = client.post(
        reverse("registry:record_delete", args=[complete_record.record_id]),
        {"reason": "Duplicate of MIL-0002"},
    )
    assert response.status_code == 302
    for who in ("dm", "coord_mil", "pi"):
        assert not Record.objects.visible_to(people[who]).filter(pk=complete_record.pk).exists()
        assert not Record.objects.exportable_to(people[who]).filter(pk=complete_record.pk).exists()
    dashboard = client.get(reverse("registry:dashboard"))
    assert complete_record.pk not in [row[0].pk for row in dashboard.context["table"]]
    assert client.get(complete_record.get_absolute_url()).status_code == 404
    event = AuditEvent.objects.get(action="record_delete")
    assert event.reason == "Duplicate of MIL-0002"
    restore_deleted(user=people["dm"], event=event, reason="Not a duplicate")
    assert Record.objects.visible_to(people["coord_mil"]).filter(pk=complete_record.pk).exists()
    assert AuditEvent.objects.filter(action="record_restore").exists()


@pytest.mark.parametrize("who", ["coord_mil", "inv_mil", "pi", "monitor"])
def test_only_data_managers_delete_and_rename_records_on_the_web(
    client, complete_record, people, who
):
    client.force_login(people[who])
    for name in ("record_delete", "record_rename"):
        response = client.post(
            reverse(f"registry:{name}", args=[complete_record.record_id]),
            {"reason": "x", "new_id": "MIL-0999"},
        )
        assert response.status_code == 403, name
    complete_record.refresh_from_db()
    assert complete_record.deleted_at is None and complete_record.record_id == "MIL-0001"


def test_other_centre_records_are_404_on_the_new_pages(client, complete_record, people):
    client.force_login(people["coord_bol"])
    for name in ("record_delete", "record_rename"):
        url = reverse(f"registry:{name}", args=[complete_record.record_id])
        assert client.get(url).status_code == 404
        assert client.post(url, {"reason": "x", "new_id": "X-1"}).status_code == 404


def test_a_data_manager_renames_a_record(client, complete_record, people, centers):
    client.force_login(people["dm"])
    url = reverse("registry:record_rename", args=[complete_record.record_id])
    response = client.post(url, {"new_id": "MIL-0042", "reason": "Site's own numbering"})
    assert response.status_code == 302 and response.url.endswith("/records/MIL-0042/")
    event = AuditEvent.objects.get(action="record_identity_change")
    assert (event.old_value, event.new_value) == ("MIL-0001", "MIL-0042")
    assert event.reason == "Site's own numbering"
    other = create_record(user=people["coord_mil"], center=centers["MIL"])
    taken = client.post(
        reverse("registry:record_rename", args=[other.record_id]),
        {"new_id": "MIL-0001", "reason": "x"},  # an old id is never reused
    )
    assert taken.status_code == 409 and "used before" in taken.content.decode()
    bad = client.post(
        reverse("registry:record_rename", args=[other.record_id]),
        {"new_id": "<b>x</b>", "reason": "x"},
    )
    assert bad.status_code == 409


def test_locked_records_cannot_be_deleted_or_renamed(locked_record, people):
    with pytest.raises(RecordLocked):
        record_delete(user=people["dm"], record=locked_record, reason="x")
    with pytest.raises(RecordLocked):
        record_rename(user=people["dm"], record=locked_record, new_id="MIL-0777", reason="x")
    with pytest.raises(DatabaseError, match="locked"), transaction.atomic():
        set_audit_context(user=people["dm"], reason="raw SQL")
        Record.objects.filter(pk=locked_record.pk).update(record_id="MIL-0777")


@pytest.fixture
def api(client, people):
    cache.clear()
    tokens = {key: issue_api_token(user=people[key]) for key in ("coord_mil", "coord_bol", "dm")}

    def call(who, **data):
        data.update(token=tokens[who], content="record", action="delete", format="json")
        return client.post("/api/", data)

    return call


def test_the_api_deletes_one_instance_of_a_form(api, complete_record, people, dictionary):
    with_relapse = complete_record
    case = {"relapse": [RELAPSE, {"relapse_date": "2013-02-02", "relapse_type": "2"}]}
    enter_case(with_relapse, people["coord_mil"], dictionary, case=case, status=0)
    foreign = api("coord_bol", **{"records[0]": "MIL-0001", "instrument": "relapse"})
    assert foreign.status_code == 400
    unknown = api("coord_mil", **{"records[0]": "MIL-0001", "instrument": "nonsense"})
    assert unknown.status_code == 400 and "instrument" in json.loads(unknown.content)["error"]
    response = api(
        "coord_mil",
        **{
            "records[0]": "MIL-0001",
            "instrument": "relapse",
            "repeat_instance": "2",
            "reason": "Duplicate relapse",
        },
    )
    assert response.status_code == 200 and response.content == b"1"
    rows = InstrumentData.objects.filter(record=with_relapse, instrument="relapse")
    assert {(r.instance, r.deleted_at is None) for r in rows} == {(1, True), (2, False)}
    assert AuditEvent.objects.get(action="instance_delete").reason == "Duplicate relapse"
    again = api(
        "coord_mil", **{"records[0]": "MIL-0001", "instrument": "relapse", "repeat_instance": "2"}
    )
    assert again.status_code == 400  # nothing left to delete there


def test_the_api_refuses_to_delete_a_form_of_a_locked_record(api, locked_record):
    response = api("coord_mil", **{"records[0]": locked_record.record_id, "instrument": "stage"})
    assert response.status_code == 400 and "locked" in json.loads(response.content)["error"]
    assert not InstrumentData.objects.filter(deleted_at__isnull=False).exists()


def test_a_renamed_records_history_keeps_its_earlier_events(client, complete_record, people):
    record_rename(user=people["dm"], record=complete_record, new_id="MIL-0042", reason="a")
    record_rename(user=people["dm"], record=complete_record, new_id="MIL-0043", reason="b")
    client.force_login(people["coord_mil"])
    page = client.get(reverse("registry:record_history", args=["MIL-0043"]))
    shown = {e.record_id for e in page.context["page"]}
    assert shown == {"MIL-0001", "MIL-0042", "MIL-0043"}
    field = client.get(reverse("registry:field_history", args=["MIL-0043", "stage_dx"]))
    assert [row.event.record_id for row in field.context["rows"]] == ["MIL-0001"]


def test_the_deletion_is_confirmed_in_the_persons_language(client, with_relapse, people):
    coordinator = people["coord_mil"]
    coordinator.language = "it"
    coordinator.save(update_fields=["language"])
    client.force_login(coordinator)
    response = client.post(
        delete_url(with_relapse, "relapse"), {"reason": "Creato per errore"}, follow=True
    )
    assert "sono stati cancellati" in response.content.decode()
