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
from registry.models import DictionaryVersion, InstrumentData, Record
from registry.services.records import (
    create_record,
    get_record_and_rows_for_user,
    get_record_for_user,
    live_rows,
)
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


def _add_rows(record, dm, instances: dict[str, list[int]], *, deleted: tuple = ()) -> None:
    version = DictionaryVersion.objects.current()
    with transaction.atomic():
        set_audit_context(user=dm, reason="test rows")
        for instrument, numbers in instances.items():
            for n in numbers:
                InstrumentData.objects.create(
                    record=record,
                    instrument=instrument,
                    instance=n,
                    data={"note": f"{instrument} #{n}", "list": [n, "x"]},
                    dictionary_version=version,
                    updated_by=dm,
                )
        InstrumentData.objects.filter(
            record=record,
            instrument__in=[i for i, _ in deleted],
            instance__in=[n for _, n in deleted],
        ).update(deleted_at=timezone.now())


def _fields(row) -> list:
    return [getattr(row, f.attname) for f in InstrumentData._meta.concrete_fields]


def test_the_rows_read_with_the_record_are_live_rows(world):
    """visible_with_rows gives the same record as visible_by_id and the same rows, in the same
    order and with the same values (JSON decoded, times aware), as live_rows; deleted rows are
    left out and a record without rows comes with none."""
    people, records = world
    dm = people["data manager"]
    _add_rows(
        records["mil"],
        dm,
        {"demographics": [1], "treatment": [1, 2, 3], "follow_up": [1, 2]},
        deleted=(("treatment", 2),),
    )
    _add_rows(records["rom"], dm, {"demographics": [1]})
    checked = 0
    for person in people.values():
        for record in records.values():
            found = Record.objects.visible_with_rows(person, record.record_id)
            alone = Record.objects.visible_by_id(person, record.record_id)
            assert (found and found[0].pk) == (alone and alone.pk), (person, record.record_id)
            if found is None:
                continue
            got, rows = found
            expected = live_rows(alone)
            assert [r.instance for r in rows] == [r.instance for r in expected]
            assert sorted(map(_fields, rows), key=str) == sorted(map(_fields, expected), key=str)
            assert all(r.record is got and not r._state.adding for r in rows)
            checked += 1
    assert checked >= 8
    rows = get_record_and_rows_for_user(dm, records["mil"].record_id)[1]
    assert len(rows) == 5 and isinstance(rows[0].data, dict)
    assert rows[0].updated_at.tzinfo is not None
    assert get_record_and_rows_for_user(dm, records["bol"].record_id)[1] == []


def test_the_record_and_its_rows_are_one_statement(world):
    people, records = world
    _add_rows(records["mil"], people["data manager"], {"demographics": [1], "treatment": [1, 2]})
    access_for(people["coordinator"]).readable_center_ids()
    with CaptureQueriesContext(connection) as queries:
        record, rows = get_record_and_rows_for_user(people["coordinator"], "MIL-0001")
        names = (record.center.name, [r.record.record_id for r in rows])
    assert len(queries) == 1
    assert names[1] == ["MIL-0001"] * 3
    with pytest.raises(Http404):
        get_record_and_rows_for_user(people["coordinator"], records["bol"].record_id)
