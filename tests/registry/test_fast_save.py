"""The one-statement form save (registry.services.fast_save) keeps every guarantee of the general
path: field-level audit with actor and reason, conflict detection against a row read before
someone else saved, locks taken in between, and dependent calculations on other forms."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.models import AuditEvent, InstrumentData, Record
from registry.services.errors import EditConflict, RecordLocked
from registry.services.locking import SIGNATURE_MEANINGS, lock_record
from registry.services.records import create_record, save_instrument
from tests.fixtures_records import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(dictionary, centers, people):
    return create_record(user=people["coord_mil"], center=centers["MIL"])


def _save(user, record, data, *, expected, known, version, reason="", status=0):
    return save_instrument(
        user=user,
        record=record,
        instrument="primary_surgery",
        instance=1,
        data=data,
        status=status,
        expected_version=expected,
        dictionary_version=version,
        reason=reason,
        known_row=known,
    )


def _row(record) -> InstrumentData:
    return InstrumentData.objects.get(record=record, instrument="primary_surgery", instance=1)


def test_known_row_save_is_one_statement_with_field_audit(record, people, dictionary):
    alice = people["coord_mil"]
    _save(alice, record, {"surgery_done": "1", "margins": "0"}, expected=0, known=None,
          version=dictionary)  # fmt: skip
    row = _row(record)
    with CaptureQueriesContext(connection) as queries:
        saved = _save(alice, record, {"surgery_done": "1", "margins": "2"}, expected=1, known=row,
                      version=dictionary, reason="typo")  # fmt: skip
    writes = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(writes) == 1 and "UPDATE registry_instrumentdata" in writes[0]
    assert saved.version == 2 and _row(record).data["margins"] == "2"
    event = AuditEvent.objects.filter(record_id=record.record_id, field="margins").latest("seq")
    assert (event.old_value, event.new_value) == ("0", "2")
    assert event.actor_id == alice.pk and event.actor_name == alice.full_name
    assert event.reason == "typo" and event.details["row_version"] == 2


def test_a_row_read_before_someone_else_saved_is_a_conflict(record, people, dictionary):
    alice, ivan = people["coord_mil"], people["inv_mil"]
    _save(alice, record, {"surgery_done": "1"}, expected=0, known=None, version=dictionary)
    stale = _row(record)  # Alice reads version 1 ...
    _save(ivan, record, {"surgery_done": "0"}, expected=1, known=_row(record), version=dictionary)
    with pytest.raises(EditConflict):  # ... and saves after Ivan
        _save(alice, record, {"surgery_done": "1", "margins": "1"}, expected=1, known=stale,
              version=dictionary)  # fmt: skip
    assert _row(record).data["surgery_done"] == "0"  # nothing of Alice's was written


def test_a_record_locked_after_the_read_refuses_the_save(
    complete_record, people, dictionary, django_capture_on_commit_callbacks
):
    record = Record.objects.get(pk=complete_record.pk)  # read before the lock
    row = _row(record)
    lock_record(
        user=people["inv_mil"],
        record=complete_record,
        password=PASSWORD,
        meaning=SIGNATURE_MEANINGS[0],
        dictionary_version=dictionary,
    )
    with pytest.raises(RecordLocked):
        _save(people["coord_mil"], record, {**row.data, "margins": "2"}, expected=row.version,
              known=row, version=dictionary, reason="late", status=row.status)  # fmt: skip
    assert _row(record).version == row.version


def test_a_change_read_by_another_forms_calculation_still_refreshes_it(client, record, people):
    client.force_login(people["coord_mil"])

    def post(form, values, version):
        url = reverse("registry:instrument", args=[record.record_id, form, 1])
        data = {"__status": "0", "__version": str(version), "action": "stay", **values}
        assert client.post(url, data).status_code == 302

    post("enrolment", {"year_of_birth": "1960", "sex": "1"}, 0)
    post("diagnosis_pathology", {"date_dx": "04/03/2010"}, 0)
    post("diagnosis_pathology", {"date_dx": "04/09/2012"}, 1)  # an existing row: known_row
    enrolment = InstrumentData.objects.get(record=record, instrument="enrolment")
    assert enrolment.data["age_at_dx"] == "52"
