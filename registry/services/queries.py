"""Data resolution: queries on a field (open, answer, close), acknowledging data-quality
findings, and data-quality rules. Every state change is audited."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from centers.access import access_for
from registry import notify
from registry.audit import record_event, set_audit_context
from registry.models import DataQualityRule, FindingAcknowledgement, Query, QueryMessage, Record

from .dictionary import current_dictionary_version
from .errors import PermissionDenied, ReasonRequired, RegistryError


def query_open(
    *, user, record: Record, instrument: str, instance: int, field: str, text: str
) -> Query:
    """A monitor or data manager asks the site about one field of a record."""
    if not access_for(user).can_raise_queries:
        raise PermissionDenied(_("Only monitors and data managers open queries."))
    if not text.strip():
        raise ReasonRequired(_("Write the question for the site."))
    with transaction.atomic():
        set_audit_context(user=user)
        query = Query.objects.create(
            record=record, instrument=instrument, instance=instance, field=field, opened_by=user
        )
        QueryMessage.objects.create(query=query, author=user, text=text.strip())
        record_event(
            "query_open",
            user=user,
            record=record,
            instrument=instrument,
            instance=instance,
            field=field,
            new=text.strip(),
            details={"query_id": query.pk},
        )
        notify.query_opened(query)
    return query


def query_answer(*, user, query: Query, text: str) -> Query:
    """The site (coordinator or investigator of the record's centre) answers."""
    if not access_for(user).can_edit_center(query.record.center_id):
        raise PermissionDenied(_("Only the record's centre answers its queries."))
    if not text.strip():
        raise ReasonRequired(_("Write an answer."))
    with transaction.atomic():
        set_audit_context(user=user)
        current = Query.objects.select_for_update().get(pk=query.pk)
        if current.status == Query.Status.CLOSED:
            raise RegistryError(_("This query is closed."))
        QueryMessage.objects.create(query=current, author=user, text=text.strip())
        current.status = Query.Status.ANSWERED
        current.save(update_fields=["status"])
        record_event(
            "query_answer",
            user=user,
            record=current.record,
            instrument=current.instrument,
            instance=current.instance,
            field=current.field,
            old=Query.Status.OPEN.value,
            new=text.strip(),
            details={"query_id": current.pk},
        )
        notify.query_answered(current, by=user)
    return current


def query_close(*, user, query: Query, text: str = "") -> Query:
    """Only the person who opened a query closes it."""
    if query.opened_by_id != user.pk:
        raise PermissionDenied(_("Only the person who opened this query can close it."))
    with transaction.atomic():
        set_audit_context(user=user)
        current = Query.objects.select_for_update().get(pk=query.pk)
        if current.status == Query.Status.CLOSED:
            raise RegistryError(_("This query is already closed."))
        if text.strip():
            QueryMessage.objects.create(query=current, author=user, text=text.strip())
        old = current.status
        current.status = Query.Status.CLOSED
        current.closed_at = timezone.now()
        current.save(update_fields=["status", "closed_at"])
        record_event(
            "query_close",
            user=user,
            record=current.record,
            instrument=current.instrument,
            instance=current.instance,
            field=current.field,
            old=old,
            new=Query.Status.CLOSED.value,
            reason=text.strip(),
            details={"query_id": current.pk},
        )
        notify.record_ready(current.record, current_dictionary_version())
    return current


def finding_acknowledge(
    *, user, record: Record, rule_key: str, reason: str
) -> FindingAcknowledgement:
    """Accept a data-quality finding as correct (it then no longer blocks locking)."""
    access = access_for(user)
    if not (access.can_edit_center(record.center_id) or access.is_data_manager):
        raise PermissionDenied(_("Only the record's centre or a data manager can acknowledge."))
    if not reason.strip():
        raise ReasonRequired(_("Acknowledging a finding needs a reason."))
    with transaction.atomic():
        set_audit_context(user=user, reason=reason.strip())
        ack, created = FindingAcknowledgement.objects.update_or_create(
            record=record,
            rule_key=rule_key,
            defaults={"reason": reason.strip(), "acknowledged_by": user},
        )
        record_event(
            "finding_acknowledge",
            user=user,
            record=record,
            reason=reason.strip(),
            details={"rule_key": rule_key},
        )
        if created:
            notify.record_ready(record, current_dictionary_version())
    return ack


def quality_rule_create(*, user, name: str, logic: str) -> DataQualityRule:
    if not access_for(user).is_data_manager:
        raise PermissionDenied(_("Only data managers write data-quality rules."))
    with transaction.atomic():
        set_audit_context(user=user)
        rule = DataQualityRule.objects.create(name=name, logic=logic, created_by=user)
        record_event(
            "dq_rule_create", user=user, new=logic, details={"rule_id": rule.pk, "name": name}
        )
    return rule


def quality_rule_set_active(*, user, rule: DataQualityRule, active: bool) -> DataQualityRule:
    if not access_for(user).is_data_manager:
        raise PermissionDenied(_("Only data managers change data-quality rules."))
    with transaction.atomic():
        set_audit_context(user=user)
        rule.is_active = active
        rule.save(update_fields=["is_active"])
        record_event(
            "dq_rule_change",
            user=user,
            old=not active,
            new=active,
            details={"rule_id": rule.pk, "name": rule.name},
        )
    return rule
