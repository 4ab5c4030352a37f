"""REDCap's per-form lock: a locked form is read-only on every path until a data manager unlocks
it with a reason; both transitions are audited."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from registry.models import AuditEvent, InstrumentData
from registry.services.errors import PermissionDenied, RecordLocked
from registry.services.locking import lock_instrument, unlock_instrument
from registry.services.records import save_instrument
from tests.fixtures_records import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def locked_form(complete_record, people):
    row = complete_record.instruments.get(instrument="stage")
    lock_instrument(user=people["inv_mil"], row=row, password=PASSWORD)
    row.refresh_from_db()
    return row


def test_locked_form_refuses_service_orm_and_sql(locked_form, people, dictionary):
    with pytest.raises(RecordLocked):
        save_instrument(
            user=people["coord_mil"],
            record=locked_form.record,
            instrument="stage",
            instance=1,
            data={"stage_dx": "3"},
            status=2,
            expected_version=locked_form.version,
            dictionary_version=dictionary,
            reason="x",
        )
    for action in (
        lambda: InstrumentData.objects.filter(pk=locked_form.pk).update(data={"stage_dx": "3"}),
        lambda: connection.cursor().execute(
            "UPDATE registry_instrumentdata SET status = 0 WHERE id = %s", [locked_form.pk]
        ),
    ):
        with pytest.raises(DatabaseError, match="locked"), transaction.atomic():
            action()
    locked_form.refresh_from_db()
    assert locked_form.data["stage_dx"] == "1" and locked_form.status == 2


def test_only_an_investigator_locks_and_only_a_data_manager_unlocks(complete_record, people):
    row = complete_record.instruments.get(instrument="stage")
    with pytest.raises(PermissionDenied):
        lock_instrument(user=people["coord_mil"], row=row, password=PASSWORD)
    lock_instrument(user=people["inv_mil"], row=row, password=PASSWORD)
    with pytest.raises(PermissionDenied):
        unlock_instrument(user=people["inv_mil"], row=row, reason="typo")
    unlock_instrument(user=people["dm"], row=row, reason="Correct the stage after review")
    actions = list(
        AuditEvent.objects.filter(instrument="stage", action__startswith="instrument_").values_list(
            "action", "reason"
        )
    )
    assert actions == [
        ("instrument_lock", "instrument locked"),
        ("instrument_unlock", "Correct the stage after review"),
    ]


def test_unlock_by_sql_needs_a_reason(locked_form):
    with pytest.raises(DatabaseError, match="reason"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('registry.reason', '', true)")
            cursor.execute(
                "UPDATE registry_instrumentdata SET is_locked = false WHERE id = %s",
                [locked_form.pk],
            )


def test_the_form_page_locks_and_unlocks_one_form(client, complete_record, people):
    from django.urls import reverse

    page = reverse("registry:instrument", args=[complete_record.record_id, "stage", 1])
    lock_url = reverse("registry:instrument_lock", args=[complete_record.record_id, "stage", 1])
    client.force_login(people["coord_mil"])
    assert 'id="form-lock"' not in client.get(page).content.decode()  # coordinators cannot lock
    client.post(lock_url, {"action": "lock", "password": PASSWORD})
    assert not InstrumentData.objects.get(record=complete_record, instrument="stage").is_locked

    client.force_login(people["inv_mil"])
    assert 'id="form-lock"' in client.get(page).content.decode()
    client.post(lock_url, {"action": "lock", "password": "wrong"})
    assert not InstrumentData.objects.get(record=complete_record, instrument="stage").is_locked
    response = client.post(lock_url, {"action": "lock", "password": PASSWORD}, follow=True)
    assert "The form is locked." in response.content.decode()
    assert InstrumentData.objects.get(record=complete_record, instrument="stage").is_locked

    client.force_login(people["coord_mil"])
    body = client.get(page).content.decode()
    assert 'id="form-locked"' in body and 'id="save-stay"' not in body

    client.force_login(people["dm"])
    client.post(lock_url, {"action": "unlock", "reason": " "})
    assert InstrumentData.objects.get(record=complete_record, instrument="stage").is_locked
    client.post(lock_url, {"action": "unlock", "reason": "Stage corrected after review"})
    assert not InstrumentData.objects.get(record=complete_record, instrument="stage").is_locked

    client.force_login(people["coord_bol"])  # another centre: the form does not exist for them
    assert client.post(lock_url, {"action": "lock", "password": PASSWORD}).status_code == 404
