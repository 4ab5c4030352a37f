"""registry.dataset: which records are in the locked dataset, its version, a consistent read of
its rows, and the locked-only export built from the same definition."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from registry.dataset import (
    changes_since,
    current_version,
    locked_records,
    read_locked_dataset,
)
from registry.exports.build import build_export
from registry.exports.options import ExportOptions
from registry.models import InstrumentData, LockOutbox
from registry.services.locking import SIGNATURE_MEANINGS, lock_records, unlock_record
from registry.services.records import create_record
from tests.fixtures_records import PASSWORD, enter_case, lock_with_forged_signature

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(dictionary, centers, people):
    """Three complete MIL records: locked, locked then unlocked, never locked."""
    user = people["inv_mil"]
    made = []
    for _ in range(3):
        record = create_record(user=user, center=centers["MIL"])
        enter_case(record, user, dictionary)
        made.append(record)
    lock_records(
        user=user,
        records=made[:2],
        password=PASSWORD,
        meaning=SIGNATURE_MEANINGS[0],
        dictionary_version=dictionary,
    )
    unlock_record(user=people["dm"], record=made[1], reason="correct a date")
    return made


def test_members_are_locked_signed_and_not_deleted(records):
    locked, unlocked, never = records
    assert list(locked_records()) == [locked]
    with read_locked_dataset() as dataset:
        members = dataset.members()
        read = list(dataset.records(members))
    signature = locked.signatures.get(voided_at__isnull=True)
    assert members == [(locked.pk, signature.pk)]
    assert dataset.version == current_version() == LockOutbox.objects.latest("pk").pk
    assert dataset.rejected == []
    (record,) = read
    assert (record.record_id, record.centre, record.signature.pk) == (
        locked.record_id,
        "MIL",
        signature.pk,
    )
    stored = InstrumentData.objects.filter(record=locked, deleted_at__isnull=True)
    assert [(r.instrument, r.instance, r.data) for r in record.rows] == [
        (r.instrument, r.instance, r.data) for r in stored.order_by("instrument", "instance")
    ]
    assert all(json.loads(r.text) == r.data for r in record.rows)


def test_a_record_whose_signature_does_not_match_is_left_out(records, people, tmp_path):
    locked, _unlocked, never = records
    lock_with_forged_signature(never, people["inv_mil"])
    with read_locked_dataset() as dataset:
        members = dataset.members()
        read = [r.record_id for r in dataset.records()]
    assert {pk for pk, _signature in members} == {locked.pk, never.pk}
    assert read == [locked.record_id]
    assert dataset.rejected == [never.record_id]
    # The locked-only export is the same dataset: left out, and named in the manifest.
    result = build_export(
        user=people["dm"], options=ExportOptions(formats=("csv",)), directory=tmp_path / "x"
    )
    text = (result.directory / "registry_data.csv").read_text()
    assert locked.record_id in text and never.record_id not in text
    assert result.manifest["records"] == 1
    assert result.manifest["signatures"] == {
        locked.record_id: "valid",
        never.record_id: "invalid",
    }


def test_the_consistent_read_holds_the_outbox_in_share_mode(records):
    def outbox_locks() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() "
                "AND relation = 'registry_lockoutbox'::regclass"
            )
            return [mode for (mode,) in cursor.fetchall()]

    # (A table lock lasts until the transaction ends: the test's, here; so this order.)
    with read_locked_dataset(wait_for_locks=False):
        assert "ShareLock" not in outbox_locks()
    with read_locked_dataset():
        assert "ShareLock" in outbox_locks()


def test_changes_since_a_version_count_locked_and_unlocked_records(records):
    first, second = LockOutbox.objects.order_by("pk")
    assert (first.action, second.action) == ("lock", "unlock")
    changes = changes_since(first.dataset_version - 1)
    assert (changes.versions, changes.locked, changes.unlocked) == (2, 2, 1)
    assert changes.latest_version == second.dataset_version
    assert changes.oldest_at == first.created_at
    assert changes_since(second.dataset_version).versions == 0
