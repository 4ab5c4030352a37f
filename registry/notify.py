"""Who is told of what (centers.notifications sends it): a new query tells the coordinators of
the record's centre, an answer tells whoever raised the query, a record that becomes ready to
sign tells its centre's investigators, a failed integrity check tells the data managers.
Each call belongs inside the transaction of its event, so a rolled-back event tells nobody."""

from __future__ import annotations

from django.urls import reverse

from centers.models import Role, User
from centers.notifications import notify
from registry.models import DictionaryVersion, Query, Record


def _holders(role: str, center_id: int | None = None):
    people = User.objects.filter(memberships__role=role, is_active=True)
    if center_id is not None:
        people = people.filter(memberships__center_id=center_id)
    return people.distinct()


def _query_context(query: Query) -> dict:
    return {
        "record": query.record,
        "instrument": query.instrument,
        "field": query.field,
        "url": reverse("registry:query", args=[query.pk]),
    }


def query_opened(query: Query) -> int:
    coordinators = _holders(Role.SITE_COORDINATOR, query.record.center_id)
    return notify(
        users=coordinators,
        kind="query_opened",
        template="query_opened",
        context={**_query_context(query), "opened_by": query.opened_by},
    )


def query_answered(query: Query, *, by: User) -> int:
    if query.opened_by_id == by.pk:
        return 0
    return notify(
        users=[query.opened_by],
        kind="query_answered",
        template="query_answered",
        context={**_query_context(query), "answered_by": by},
    )


def record_is_ready(record: Record, version: DictionaryVersion) -> bool:
    from registry.services.locking import lock_blockers

    return not record.is_locked and not lock_blockers(record, version)


def record_ready(record: Record, version: DictionaryVersion) -> int:
    """Call after a change that may have removed the record's last blocker (a form saved
    Complete, a query closed, a finding acknowledged): tells the investigators if it did."""
    if not record_is_ready(record, version):
        return 0
    return notify(
        users=_holders(Role.SITE_INVESTIGATOR, record.center_id),
        kind="record_ready",
        template="record_ready",
        context={"record": record, "url": reverse("registry:lock", args=[record.record_id])},
    )


def integrity_failed(report: dict) -> int:
    return notify(
        users=_holders(Role.DATA_MANAGER),
        kind="integrity_failed",
        template="integrity_failed",
        context={"problem": report.get("problem", "")},
    )
