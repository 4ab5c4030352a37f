"""A large import is written in short batches (registry.api.import_batches): counters advanced
and audit context set once per batch, every field still audited, and a batch that meets a
change made while the import ran is rolled back alone, with an error naming what was written."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from centers.tokens import issue_api_token
from registry.api import import_batches
from registry.models import AuditEvent, InstrumentData, Record, RecordCounter
from registry.services.records import create_record
from tests.registry.api_calls import read
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, dataset, people):
    cache.clear()
    token = issue_api_token(user=people["coord_mil"])

    def call(rows):
        data = {"token": token, "content": "record", "format": "json", "data": json.dumps(rows)}
        data["reason"] = "Bulk load from the hospital system"
        return read(client.post("/api/", data))

    return call


@pytest.fixture
def batches(monkeypatch):
    """Batches of two records, however long they take; the new records of each batch."""
    monkeypatch.setattr(import_batches, "IMPORT_BATCH_RECORDS", 2)
    monkeypatch.setattr(import_batches, "BATCH_SECONDS", float("inf"))
    created = []
    original = import_batches._create_new_records

    def counting(user, plans, errors):
        created.append([p.given_id for p in plans])
        return original(user, plans, errors)

    monkeypatch.setattr(import_batches, "_create_new_records", counting)
    return created


def test_new_and_existing_records_are_written_batch_by_batch(api, batches, people):
    rows = [{"record_id": f"MIL-{n:04d}", "sex": "1", "year_of_birth": "1970"} for n in (4, 5, 6)]
    rows += [{"record_id": "MIL-0003", "sex": "2"}, {"record_id": "MIL-0007", "sex": "2"}]
    response = api(rows)
    assert response.status_code == 200, response.content
    assert json.loads(response.content) == {"count": 5}
    assert batches == [["MIL-0004", "MIL-0005"], ["MIL-0006"], ["MIL-0007"]]
    mil = people["coord_mil"].memberships.get().center
    assert RecordCounter.objects.get(center=mil).last_number == 7
    assert Record.objects.get(record_id="MIL-0006").sequence == 6
    sex = InstrumentData.objects.get(record__record_id="MIL-0003", instrument="enrolment")
    assert sex.data["sex"] == "2"
    events = AuditEvent.objects.filter(record_id="MIL-0005", field="year_of_birth")
    assert [(e.new_value, e.actor_id, e.reason) for e in events] == [
        ("1970", people["coord_mil"].pk, "Bulk load from the hospital system")
    ]


def test_batches_shrink_while_they_take_longer_than_wanted(api, batches, monkeypatch):
    """The audit chain's lock is held for a whole batch: on a loaded machine, where a batch
    takes longer, batches take fewer records, so another centre's save waits as briefly."""
    monkeypatch.setattr(import_batches, "BATCH_SECONDS", 0.1)
    seconds = iter(range(1000))  # each batch seems to take a second
    monkeypatch.setattr(import_batches, "monotonic", lambda: next(seconds))
    rows = [{"record_id": f"MIL-{n:04d}", "sex": "1"} for n in (4, 5, 6, 7)]
    response = api([*rows[:3], {"record_id": "MIL-0003", "sex": "2"}, rows[3]])
    assert response.status_code == 200, response.content
    assert batches == [["MIL-0004", "MIL-0005"], ["MIL-0006"], [], ["MIL-0007"]]
    assert Record.objects.filter(record_id__in=[r["record_id"] for r in rows]).count() == 4


def test_a_batch_meeting_a_concurrent_change_is_rolled_back_alone(api, batches, people):
    original = import_batches._create_new_records

    def another_record_arrives(user, plans, errors):
        if len(batches) == 1:  # the second batch, after the first committed
            create_record(user=people["inv_mil"], center=plans[0].center)
        return original(user, plans, errors)

    import_batches._create_new_records = another_record_arrives
    try:
        response = api([{"record_id": f"MIL-{n:04d}", "sex": "1"} for n in (4, 5, 6, 7)])
    finally:
        import_batches._create_new_records = original
    assert response.status_code == 400
    message = json.loads(response.content)["error"]
    assert "2 records were imported before it (MIL-0004, MIL-0005)" in message
    assert "became MIL-0007" in message
    imported = set(Record.objects.filter(created_by=people["coord_mil"]).values_list(
        "record_id", flat=True
    ))  # fmt: skip
    assert {"MIL-0004", "MIL-0005"} <= imported and "MIL-0007" not in imported
    assert not InstrumentData.objects.filter(record__record_id="MIL-0006").exists()
