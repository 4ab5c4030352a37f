"""The application role cannot switch off the database's guarantees."""

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

pytestmark = pytest.mark.django_db


def test_tests_run_as_the_application_role():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == settings.DATABASE_APP_ROLE


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE registry_instrumentdata DISABLE TRIGGER ALL",
        "ALTER TABLE registry_auditevent DISABLE TRIGGER registry_audit_append_only",
        "DROP TRIGGER registry_record_guard ON registry_record",
        "SET session_replication_role = replica",
        "TRUNCATE registry_auditevent",
        "DELETE FROM registry_auditevent",
        "UPDATE registry_auditevent SET reason = 'x'",
        "RESET ROLE",
    ],
)
def test_the_application_role_cannot_bypass_guards(statement):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
        if statement == "RESET ROLE":
            cursor.execute("ALTER TABLE registry_auditevent DISABLE TRIGGER ALL")
