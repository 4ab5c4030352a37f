"""The admin: scoped like the views, the audit trail read-only, nothing deletable."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from registry.models import AuditEvent, InstrumentData, Record, Signature

pytestmark = pytest.mark.django_db


def request_for(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_querysets_are_scoped(complete_record, people):
    request = request_for(people["coord_bol"])
    for model in (Record, InstrumentData, Signature, AuditEvent):
        qs = site._registry[model].get_queryset(request)
        assert not [o for o in qs if complete_record.record_id in str(o)], model
    request = request_for(people["coord_mil"])
    assert list(site._registry[Record].get_queryset(request)) == [complete_record]


def test_audit_read_only_and_nothing_deletable(locked_record, complete_record, people):
    request = request_for(people["dm"])
    for model in (Record, InstrumentData, Signature, AuditEvent):
        admin = site._registry[model]
        assert not admin.has_delete_permission(request)
        assert "delete_selected" not in admin.get_actions(request)
        assert not admin.has_add_permission(request)
    event = AuditEvent.objects.first()
    assert not site._registry[AuditEvent].has_change_permission(request, event)
    assert not site._registry[Record].has_change_permission(
        request_for(people["coord_mil"]), locked_record
    )


def test_admin_change_view_cannot_alter_a_locked_record(client, locked_record, people):
    user = people["coord_mil"]
    user.is_staff = True
    user.is_superuser = True
    user.save()
    client.force_login(user)
    url = f"/admin/registry/record/{locked_record.pk}/change/"
    response = client.post(url, {"synthetic": "on", "deleted_at": "2020-01-01"})
    assert response.status_code in (302, 403)
    locked_record.refresh_from_db()
    assert locked_record.deleted_at is None and not locked_record.synthetic
    delete = client.post(f"/admin/registry/record/{locked_record.pk}/delete/", {"post": "yes"})
    assert delete.status_code in (302, 403)
    assert Record.objects.filter(pk=locked_record.pk).exists()
