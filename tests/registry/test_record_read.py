"""Record.objects.visible_by_id, the one-statement read behind every form page and save, agrees
with visible_to (the scoping rule) for every kind of person and record."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from centers.access import access_for
from centers.models import Membership, Role
from registry.audit import set_audit_context
from registry.models import DictionaryVersion, Record
from registry.services.records import create_record, get_record_for_user
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    factories.gi_lms_dictionary()
    centers = factories.six_centers()
    mil, bol = centers["MIL"], centers["BOL"]
    dm = factories.data_manager()
    records = {
        "mil": create_record(user=dm, center=mil),
        "bol": create_record(user=dm, center=bol),
        "rom": create_record(user=dm, center=centers["ROM"]),
        "deleted": create_record(user=dm, center=mil),
    }
    with transaction.atomic():
        set_audit_context(user=dm, reason="entered twice")
        Record.objects.filter(pk=records["deleted"].pk).update(deleted_at=timezone.now())
    two_centres = factories.coordinator(mil)
    Membership.objects.create(user=two_centres, center=bol, role=Role.SITE_INVESTIGATOR)
    people = {
        "coordinator": factories.coordinator(mil),
        "investigator": factories.investigator(bol),
        "two centres": two_centres,
        "data manager": dm,
        "principal investigator": factories.principal_investigator(),
        "monitor": factories.monitor(),
        "no membership": factories.UserFactory(),
        "superuser": factories.UserFactory(is_superuser=True, is_staff=True),
    }
    return people, records


def test_it_finds_exactly_what_visible_to_finds(world):
    people, records = world
    checked = 0
    for person in people.values():
        for record in records.values():
            for record_id in (record.record_id, record.record_id.lower(), "MIL-9999"):
                expected = Record.objects.visible_to(person).filter(record_id=record_id).first()
                found = Record.objects.visible_by_id(person, record_id)
                assert (found and found.pk) == (expected and expected.pk), (person, record_id)
                checked += 1
    assert checked == len(people) * len(records) * 3


def test_the_record_comes_with_its_centre_and_the_current_dictionary_key(world):
    people, records = world
    expected = Record.objects.select_related("center").get(pk=records["mil"].pk)
    current = DictionaryVersion.objects.current()
    access_for(people["coordinator"]).readable_center_ids()  # a request reads it with the user
    with CaptureQueriesContext(connection) as queries:
        found = Record.objects.visible_by_id(people["coordinator"], expected.record_id)
        centre_name = found.center.name
    assert len(queries) == 1
    assert centre_name == expected.center.name
    fields = [f.attname for f in Record._meta.concrete_fields]
    assert [getattr(found, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert found.current_dictionary_key == f"{current.pk}:{current.number}:{current.sha256}"
    assert not found._state.adding and found._state.db == "default"


def test_a_foreign_or_deleted_record_is_a_404(world):
    people, records = world
    for key in ("bol", "deleted"):
        with pytest.raises(Http404):
            get_record_for_user(people["coordinator"], records[key].record_id)
    assert get_record_for_user(people["coordinator"], records["mil"].record_id).pk == (
        records["mil"].pk
    )
