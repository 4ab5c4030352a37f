"""E-mail notifications (Celery tasks sent after commit, eager here): a new query tells the
coordinators of its centre, an answer tells who raised it, a record that becomes ready to sign
tells its centre's investigators, a failed nightly integrity check tells the data managers.
Each person may choose every e-mail, a daily digest or none."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from centers.models import EmailNotifications, Notification
from centers.tasks import send_notification_digests, sweep_notifications
from registry import integrity, tasks
from registry.models import AuditEvent
from registry.services.queries import query_answer, query_close, query_open
from registry.services.records import create_record
from tests import factories
from tests.fixtures_records import enter_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailboxes(people, centers):
    """Everyone has an address; one more investigator at MIL, one at BOL."""
    people["inv_mil2"] = factories.investigator(centers["MIL"], username="ines")
    people["inv_bol"] = factories.investigator(centers["BOL"], username="bruno")
    for person in people.values():
        person.email = f"{person.username}@example.org"
        person.save()
    mail.outbox.clear()
    return people


def recipients() -> list[str]:
    return sorted(r for m in mail.outbox for r in m.to)


def ask_about_stage(monitor, record, *, field: str = "stage_dx", text: str = "Check?"):
    return query_open(
        user=monitor, record=record, instrument="stage", instance=1, field=field, text=text
    )


def test_a_new_query_tells_the_coordinators_of_its_centre(
    complete_record, mailboxes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ask_about_stage(
            mailboxes["monitor"],
            complete_record,
            text="Stage III with a metastasis? Please check the CT report of 2019.",
        )
    assert recipients() == ["alice@example.org"]  # not charlie (BOL), not the investigators
    message = mail.outbox[0]
    assert complete_record.record_id in message.subject
    assert "/queries/" in message.body and "stage_dx" in message.body
    assert "CT report" not in message.body  # no clinical text in hospital mail
    assert "/profile/" in message.body  # how to choose fewer e-mails


def test_an_answer_tells_the_person_who_raised_the_query(
    complete_record, mailboxes, django_capture_on_commit_callbacks
):
    query = ask_about_stage(mailboxes["monitor"], complete_record)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        query_answer(user=mailboxes["coord_mil"], query=query, text="Checked, correct.")
    assert recipients() == ["mona@example.org"]
    assert "answered" in mail.outbox[0].subject


def test_a_record_that_becomes_ready_tells_its_centres_investigators(
    dictionary, centers, mailboxes, django_capture_on_commit_callbacks
):
    alice = mailboxes["coord_mil"]
    with django_capture_on_commit_callbacks(execute=True):
        record = create_record(user=alice, center=centers["MIL"])
        enter_case(record, alice, dictionary)
    # Only the last form saved Complete made it ready: one e-mail each, none to BOL.
    assert recipients() == ["ines@example.org", "ivan@example.org"]
    assert "ready to sign" in mail.outbox[0].subject
    assert f"/records/{record.record_id}/lock/" in mail.outbox[0].body

    # A query blocks it; closing the query makes it ready again.
    with django_capture_on_commit_callbacks(execute=True):
        query = ask_about_stage(mailboxes["monitor"], record)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        query_close(user=mailboxes["monitor"], query=query)
    assert recipients() == ["ines@example.org", "ivan@example.org"]


def test_a_failed_integrity_check_tells_the_data_managers(
    monkeypatch, mailboxes, django_capture_on_commit_callbacks
):
    mailboxes["dm2"] = factories.data_manager(username="dario", email="dario@example.org")
    # A real break needs the database owner (tests/registry/test_tamper_evidence.py); the
    # check's report is what the task acts on.
    monkeypatch.setattr(
        integrity,
        "check_all",
        lambda: {"ok": False, "problem": "audit event #42: hash does not match", "events": 41},
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.verify_integrity() is False
    assert recipients() == ["dario@example.org", "dora@example.org"]
    assert "FAILED" in mail.outbox[0].subject
    assert "audit event #42: hash does not match" in mail.outbox[0].body


def test_a_passed_integrity_check_tells_nobody(mailboxes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.verify_integrity() is True
    assert mail.outbox == []


def test_opt_out_and_the_daily_digest(
    complete_record, mailboxes, django_capture_on_commit_callbacks
):
    alice, monitor = mailboxes["coord_mil"], mailboxes["monitor"]
    alice.email_notifications = EmailNotifications.DAILY
    alice.save()
    monitor.email_notifications = EmailNotifications.OFF
    monitor.save()
    with django_capture_on_commit_callbacks(execute=True):
        for field in ("stage_dx", "sex"):
            query = ask_about_stage(monitor, complete_record, field=field)
        query_answer(user=alice, query=query, text="Done.")
    assert mail.outbox == []  # alice waits for her digest; the monitor chose none
    assert not Notification.objects.filter(user=monitor).exists()

    assert send_notification_digests() == 1
    assert recipients() == ["alice@example.org"]
    digest = mail.outbox[0]
    assert "2 notifications" in digest.subject
    assert digest.body.count(complete_record.record_id) >= 2
    assert send_notification_digests() == 0  # nothing twice


def test_the_sweep_sends_what_the_broker_held_back(
    monkeypatch, complete_record, mailboxes, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from centers import mail as centers_mail

    monkeypatch.setattr(centers_mail, "send_task_now", lambda name, args: False)
    with django_capture_on_commit_callbacks(execute=True):
        ask_about_stage(mailboxes["monitor"], complete_record)
    assert mail.outbox == []
    monkeypatch.undo()
    Notification.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    assert sweep_notifications() == 1
    assert recipients() == ["alice@example.org"]
    assert sweep_notifications() == 0


def test_a_rolled_back_event_sends_nothing(
    complete_record, mailboxes, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            ask_about_stage(mailboxes["monitor"], complete_record)
            raise RuntimeError("the event fails after the notification was written")
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_the_profile_page_sets_the_choice_audited(mailboxes):
    client = Client()
    client.force_login(mailboxes["coord_mil"])
    page = client.get("/profile/").content.decode()
    assert 'name="email_notifications"' in page and "alice@example.org" in page
    response = client.post("/profile/", {"email_notifications": "daily"})
    assert response.status_code == 302
    mailboxes["coord_mil"].refresh_from_db()
    assert mailboxes["coord_mil"].email_notifications == "daily"
    event = AuditEvent.objects.get(action="email_notifications_set")
    assert event.details == {"choice": "daily", "username": "alice"}
    assert client.post("/profile/", {"email_notifications": "hourly"}).status_code == 200


def test_acknowledging_the_last_finding_makes_a_record_ready(
    dictionary, centers, mailboxes, django_capture_on_commit_callbacks
):
    from registry.services.queries import finding_acknowledge
    from tests.fixtures_records import COMPLETE_CASE

    alice = mailboxes["coord_mil"]
    case = dict(COMPLETE_CASE)
    case["follow_up"] = [
        {"last_contact_date": "2010-04-05", "vital_status": "1", "disease_status_last": "1"}
    ]  # a month of follow-up: a data-quality finding blocks the lock
    with django_capture_on_commit_callbacks(execute=True):
        record = create_record(user=alice, center=centers["MIL"])
        enter_case(record, alice, dictionary, case=case)
    assert mail.outbox == []  # complete, but not ready
    with django_capture_on_commit_callbacks(execute=True):
        finding_acknowledge(
            user=mailboxes["inv_mil"],
            record=record,
            rule_key="followup_plausible",
            reason="Lost to follow-up",
        )
    assert recipients() == ["ines@example.org", "ivan@example.org"]
