"""Lock with a signature, bulk lock, unlock with a reason, acknowledging findings."""

from __future__ import annotations

import pytest

from registry.models import AuditEvent, FindingAcknowledgement, Record, Signature
from registry.services.locking import SIGNATURE_MEANINGS
from registry.services.records import create_record
from tests import factories
from tests.fixtures_records import COMPLETE_CASE, PASSWORD, enter_case

pytestmark = pytest.mark.django_db


def test_investigator_locks_with_password_and_meaning(
    client, complete_record, people, django_capture_on_commit_callbacks
):
    client.force_login(people["inv_mil"])
    page = client.get(f"/records/{complete_record.record_id}/lock/")
    assert page.status_code == 200 and page.context["blockers"] == []
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/records/{complete_record.record_id}/lock/",
            {"password": PASSWORD, "meaning": SIGNATURE_MEANINGS[1]},
        )
    assert response.status_code == 302
    complete_record.refresh_from_db()
    assert complete_record.is_locked
    signature = Signature.objects.get(record=complete_record)
    assert signature.meaning == SIGNATURE_MEANINGS[1]
    assert signature.signer_name == people["inv_mil"].full_name


def test_wrong_password_signs_nothing(client, complete_record, people):
    client.force_login(people["inv_mil"])
    response = client.post(
        f"/records/{complete_record.record_id}/lock/",
        {"password": "wrong", "meaning": SIGNATURE_MEANINGS[0]},
    )
    assert response.status_code == 403
    assert "password is not correct" in response.content.decode()
    complete_record.refresh_from_db()
    assert not complete_record.is_locked


def test_lock_page_shows_blockers(client, dictionary, centers, people):
    record = create_record(user=people["coord_mil"], center=centers["MIL"])
    client.force_login(people["inv_mil"])
    body = client.get(f"/records/{record.record_id}/lock/").content.decode()
    assert "cannot be locked yet" in body and "Enrolment is not Complete" in body
    response = client.post(
        f"/records/{record.record_id}/lock/",
        {"password": PASSWORD, "meaning": SIGNATURE_MEANINGS[0]},
    )
    assert response.status_code == 409
    assert not Record.objects.get(pk=record.pk).is_locked


def test_coordinators_cannot_lock(client, complete_record, people):
    client.force_login(people["coord_mil"])
    assert client.get(f"/records/{complete_record.record_id}/lock/").status_code == 403


def test_acknowledging_a_finding_unblocks_locking(client, dictionary, centers, people):
    record = create_record(user=people["coord_mil"], center=centers["MIL"])
    case = dict(COMPLETE_CASE)
    case["follow_up"] = [
        {"last_contact_date": "2010-04-05", "vital_status": "1", "disease_status_last": "1"}
    ]  # a month of follow-up: implausible
    enter_case(record, people["coord_mil"], dictionary, case=case)
    client.force_login(people["inv_mil"])
    body = client.get(f"/records/{record.record_id}/lock/").content.decode()
    assert "Follow-up long enough" in body
    response = client.post(
        f"/records/{record.record_id}/acknowledge/",
        {"rule_key": "followup_plausible", "reason": "Lost to follow-up"},
    )
    assert response.status_code == 302
    ack = FindingAcknowledgement.objects.get(record=record)
    assert ack.reason == "Lost to follow-up"
    assert AuditEvent.objects.filter(
        action="finding_acknowledge", record_id=record.record_id
    ).exists()
    assert client.get(f"/records/{record.record_id}/lock/").context["blockers"] == []


def test_bulk_lock_one_password_one_signature_each(
    client, dictionary, centers, people, django_capture_on_commit_callbacks
):
    records = [create_record(user=people["coord_mil"], center=centers["MIL"]) for _ in range(3)]
    for record in records[:2]:
        enter_case(record, people["coord_mil"], dictionary)
    client.force_login(people["inv_mil"])
    page = client.get("/records/lock/")
    assert [r.record_id for r in page.context["lockable"]] == [r.record_id for r in records[:2]]
    assert page.context["not_ready"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/records/lock/",
            {
                "records": [r.record_id for r in records[:2]],
                "password": PASSWORD,
                "meaning": SIGNATURE_MEANINGS[0],
            },
        )
    assert response.status_code == 302
    assert Signature.objects.filter(record__in=records[:2]).count() == 2
    assert not Record.objects.get(pk=records[2].pk).is_locked


def test_bulk_lock_refuses_other_centres_records(client, dictionary, centers, people):
    mil = create_record(user=people["coord_mil"], center=centers["MIL"])
    enter_case(mil, people["coord_mil"], dictionary)
    bol_investigator = factories.investigator(centers["BOL"], username="bianca")
    client.force_login(bol_investigator)
    assert client.get("/records/lock/").context["lockable"] == []
    response = client.post(
        "/records/lock/",
        {"records": [mil.record_id], "password": PASSWORD, "meaning": SIGNATURE_MEANINGS[0]},
    )
    assert response.status_code == 400
    assert not Record.objects.get(pk=mil.pk).is_locked


def test_data_manager_unlocks_with_mandatory_reason(
    client, locked_record, people, django_capture_on_commit_callbacks
):
    client.force_login(people["dm"])
    url = f"/records/{locked_record.record_id}/unlock/"
    assert client.post(url, {"reason": "  "}).status_code == 400
    locked_record.refresh_from_db()
    assert locked_record.is_locked
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "Site found a transcription error"})
    assert response.status_code == 302
    locked_record.refresh_from_db()
    assert not locked_record.is_locked
    signature = Signature.objects.get(record=locked_record)
    assert signature.void_reason == "Site found a transcription error"
    body = client.get(locked_record.get_absolute_url()).content.decode()
    assert "Voided signatures" in body


def test_only_data_managers_unlock(client, locked_record, people):
    for who in ("coord_mil", "inv_mil", "monitor"):
        client.force_login(people[who])
        response = client.post(f"/records/{locked_record.record_id}/unlock/", {"reason": "x"})
        assert response.status_code == 403
    locked_record.refresh_from_db()
    assert locked_record.is_locked


@pytest.mark.parametrize("suffix", ["lock/", "unlock/", "acknowledge/"])
def test_other_centre_gets_404(client, locked_record, people, suffix):
    client.force_login(people["coord_bol"])
    url = f"/records/{locked_record.record_id}/{suffix}"
    assert client.get(url).status_code in (404, 405)
    response = client.post(
        url,
        {"password": PASSWORD, "meaning": SIGNATURE_MEANINGS[0], "reason": "x", "rule_key": "x"},
    )
    assert response.status_code == 404
    locked_record.refresh_from_db()
    assert locked_record.is_locked
