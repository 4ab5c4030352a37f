"""A locked record cannot change by any path, and the audit trail is append-only."""

from __future__ import annotations

import hashlib

import pytest
from django.db import DatabaseError, connection, transaction

from registry.models import AuditEvent, InstrumentData, Record, Signature
from registry.services.errors import RecordLocked
from registry.services.records import save_instrument

pytestmark = pytest.mark.django_db


def locked_rows_hash() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.record_id, r.is_locked, i.instrument, i.instance, i.data::text, i.status,"
            " i.version FROM registry_instrumentdata i JOIN registry_record r ON r.id = i.record_id"
            " WHERE r.is_locked ORDER BY 1, 3, 4"
        )
        return hashlib.sha256(repr(cursor.fetchall()).encode()).hexdigest()


def refused(action) -> None:
    with (
        pytest.raises(
            DatabaseError, match="(?i)locked|not allowed|never|cannot|permission denied|must void"
        ),
        transaction.atomic(),
    ):
        action()


def test_service_refuses_with_a_clear_message(locked_record, people, dictionary):
    row = locked_record.instruments.get(instrument="stage")
    with pytest.raises(RecordLocked, match="locked"):
        save_instrument(
            user=people["coord_mil"],
            record=locked_record,
            instrument="stage",
            instance=1,
            data={"stage_dx": "3"},
            status=2,
            expected_version=row.version,
            dictionary_version=dictionary,
        )


def test_every_orm_and_sql_path_is_refused(locked_record):
    before = locked_rows_hash()
    row = locked_record.instruments.get(instrument="stage")
    rows = InstrumentData.objects.filter(record=locked_record)

    def model_save():
        row.data = {"stage_dx": "3"}
        row.save()

    def bulk_update():
        row.data = {"stage_dx": "3"}
        InstrumentData.objects.bulk_update([row], ["data"])

    def bulk_create():
        InstrumentData.objects.bulk_create(
            [
                InstrumentData(
                    record=locked_record,
                    instrument="relapse",
                    instance=9,
                    data={"relapse_type": "1"},
                    dictionary_version_id=row.dictionary_version_id,
                )
            ]
        )

    def raw(sql, params=()):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)

        return run

    paths = [
        model_save,
        lambda: rows.update(data={"stage_dx": "3"}),
        lambda: rows.update(status=0),
        bulk_update,
        bulk_create,
        lambda: rows.delete(),
        lambda: row.delete(),
        raw(
            "UPDATE registry_instrumentdata SET data = '{}' WHERE record_id = %s",
            [locked_record.pk],
        ),
        raw("DELETE FROM registry_instrumentdata WHERE record_id = %s", [locked_record.pk]),
        raw("TRUNCATE registry_instrumentdata CASCADE"),
        # No session switch turns the guard off: settings games change nothing.
        raw(
            "SELECT set_config('registry.reason', 'x', false), set_config('registry.bypass', 'on',"
            " false); UPDATE registry_instrumentdata SET data = '{}' WHERE record_id = %s",
            [locked_record.pk],
        ),
        raw(
            "SET session_replication_role = replica; UPDATE registry_instrumentdata SET data = '{}'"
        ),
        # Moving data out of a locked record into another is an update of the locked row too.
        raw(
            "UPDATE registry_instrumentdata SET record_id = record_id WHERE record_id = %s",
            [locked_record.pk],
        ),
        lambda: Record.objects.filter(pk=locked_record.pk).update(record_id="MIL-9999"),
        lambda: Record.objects.filter(pk=locked_record.pk).delete(),
        raw("UPDATE registry_record SET is_locked = false WHERE id = %s", [locked_record.pk]),
        lambda: Signature.objects.filter(record=locked_record).update(meaning="forged"),
        lambda: Signature.objects.filter(record=locked_record).delete(),
    ]
    for path in paths:
        refused(path)
    assert locked_rows_hash() == before
    locked_record.refresh_from_db()
    assert locked_record.is_locked


def test_unlock_by_raw_sql_needs_a_reason_and_a_voided_signature(locked_record):
    with connection.cursor() as cursor:  # the lock's own context is still set in this transaction
        cursor.execute("SELECT set_config('registry.reason', '', true)")
    with pytest.raises(DatabaseError, match="reason"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE registry_record SET is_locked = false WHERE id = %s", [locked_record.pk]
            )
    with pytest.raises(DatabaseError, match="void its signature"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('registry.reason', 'sneaky', true)")
            cursor.execute(
                "UPDATE registry_record SET is_locked = false WHERE id = %s", [locked_record.pk]
            )


def test_raw_sql_unlock_needs_a_data_manager_as_the_actor(locked_record, people):
    """Even with a reason and the signature voided, raw SQL cannot unlock unless the
    transaction's actor is an active data manager; the unlock is then audited under that name."""
    unlock = [
        "UPDATE registry_signature SET voided_at = now(), void_reason = 'x' "
        "WHERE record_id = %s AND voided_at IS NULL",
        "UPDATE registry_record SET is_locked = false WHERE id = %s",
    ]
    for actor in ("", str(people["coord_mil"].pk), str(people["pi"].pk)):
        with pytest.raises(DatabaseError, match="only a data manager"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('registry.reason', 'sneaky', true),"
                    " set_config('registry.actor_id', %s, true)",
                    [actor],
                )
                for statement in unlock:
                    cursor.execute(statement, [locked_record.pk])
    locked_record.refresh_from_db()
    assert locked_record.is_locked
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('registry.reason', 'Correction requested by the site', true),"
            " set_config('registry.actor_id', %s, true)",
            [str(people["dm"].pk)],
        )
        for statement in unlock:
            cursor.execute(statement, [locked_record.pk])
    locked_record.refresh_from_db()
    assert not locked_record.is_locked


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE registry_auditevent SET reason = 'rewritten'",
        "DELETE FROM registry_auditevent",
        "TRUNCATE registry_auditevent",
    ],
)
def test_audit_trail_is_append_only(locked_record, sql):
    count = AuditEvent.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.count() == count


def test_audit_rows_refused_through_the_orm(locked_record):
    event = AuditEvent.objects.first()
    refused(lambda: AuditEvent.objects.filter(pk=event.pk).update(reason="x"))
    refused(lambda: AuditEvent.objects.all().delete())


def test_lock_needs_a_signature_even_through_sql(complete_record):
    refused(lambda: Record.objects.filter(pk=complete_record.pk).update(is_locked=True))
