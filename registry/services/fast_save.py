"""The common form save in one statement: an existing, unlocked instance whose version is the
one the user started from, where no changed field feeds a calculation on another form.

A save through `save_instrument`'s general path costs six round trips (BEGIN, the record and the
row `SELECT ... FOR UPDATE`, the audit context, the UPDATE, COMMIT). Here one UPDATE carries the
same checks in its WHERE clause and the audit context in a CTE, so it commits on its own:
- conflict detection: `version = expected`; a concurrent save makes PostgreSQL re-check the row
  after the other commits (READ COMMITTED), and the version no longer matches;
- locks: the row's own flag here, the record's in the join; the guard trigger still takes the
  record `FOR SHARE` and refuses a record locked in between;
- audit: the field-level events are written by the same triggers, after the CTE set who acts.
Whenever the statement does not update the row (a conflict, a lock, a deleted instance), the
caller falls back to the general path, which tells the user why.
"""

from __future__ import annotations

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from config.prepared_statements import prepared_cursor
from registry.models import DictionaryVersion, InstrumentData

__all__ = ["save_known_row"]

# The CTE is joined, so the set_config calls run before any row reaches the UPDATE's triggers.
_SAVE = """
WITH actor AS MATERIALIZED (
  SELECT set_config('registry.actor_id', %s, true) AS actor_id,
         set_config('registry.actor_name', %s, true) AS actor_name,
         set_config('registry.reason', %s, true) AS reason
)
UPDATE registry_instrumentdata AS d
   SET data = %s::jsonb, status = %s, ever_completed = d.ever_completed OR %s,
       version = d.version + 1, dictionary_version_id = %s, updated_by_id = %s, updated_at = %s
  FROM registry_record AS r, actor
 WHERE d.id = %s AND d.version = %s AND NOT d.is_locked AND d.deleted_at IS NULL
   AND r.id = d.record_id AND NOT r.is_locked AND r.deleted_at IS NULL
RETURNING d.version
"""


def save_known_row(
    *,
    user,
    row: InstrumentData,
    data: dict,
    status: int,
    dictionary_version: DictionaryVersion,
    reason: str,
) -> bool:
    """Store `data` on `row` (as the caller read it) if the database still holds that version
    unlocked; True when saved (and `row` updated to match), False when the caller must take the
    general path."""
    now = timezone.now()
    params = [
        str(user.pk),
        user.full_name,
        reason,
        InstrumentData._meta.get_field("data").get_db_prep_value(data, connection),
        status,
        status == 2,
        dictionary_version.pk,
        user.pk,
        now,
        row.pk,
        row.version,
    ]
    try:
        if connection.in_atomic_block:  # a savepoint, so a refusal leaves the caller's work
            with transaction.atomic():
                version = _execute(params)
        else:  # autocommit: the statement is its own transaction
            version = _execute(params)
    except DatabaseError:
        return False  # e.g. the guard trigger refused a record locked in between
    if version is None:
        return False
    row.data = data
    row.status = status
    row.ever_completed = row.ever_completed or status == 2
    row.version = version
    row.dictionary_version = dictionary_version
    row.updated_by = user
    row.updated_at = now
    return True


def _execute(params: list) -> int | None:
    with prepared_cursor() as cursor:
        cursor.execute(_SAVE, params)
        found = cursor.fetchone()
    return found[0] if found else None
