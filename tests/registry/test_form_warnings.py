"""Problems shown where they are made: after a save, the form shows the data-quality findings
that involve its fields beside them (labels, the person's date format), a soft check never
blocks saving, and a warning is acknowledged in place with a reason."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from registry.models import DataQualityRule, FindingAcknowledgement, InstrumentData
from registry.services.records import create_record
from tests.fixtures_records import COMPLETE_CASE, enter_case

pytestmark = pytest.mark.django_db


def form_url(record, form, instance=1):
    return reverse("registry:instrument", args=[record.record_id, form, instance])


def field_block(body: str, name: str) -> str:
    """The HTML of one field's wrapper on the form."""
    start = body.index(f'id="field-{name}"')
    following = re.search(r'id="field-(?!' + re.escape(name) + ")", body[start:])
    return body[start : start + following.start()] if following else body[start:]


@pytest.fixture
def record(dictionary, centers, people):
    record = create_record(user=people["coord_mil"], center=centers["MIL"])
    case = {k: v for k, v in COMPLETE_CASE.items() if k != "follow_up"}
    enter_case(record, people["coord_mil"], dictionary, case=case)
    return record


def save_follow_up(client, record, action="stay", **values):
    data = {
        "__status": "2",
        "__version": "0",
        "action": action,
        "last_contact_date": "05/05/2015",
        "vital_status": "0",
        "death_cause": "1",
        "disease_status_last": "3",
        **values,
    }
    return client.post(form_url(record, "follow_up"), data)


def test_a_death_before_diagnosis_saves_and_is_shown_beside_the_date(client, record, people):
    client.force_login(people["coord_mil"])
    # diagnosed 04/03/2010; death (and last contact) 14 months earlier
    response = save_follow_up(
        client, record, death_date="04/01/2009", last_contact_date="04/01/2009"
    )
    assert response.status_code == 302  # a soft check never blocks saving
    row = InstrumentData.objects.get(record=record, instrument="follow_up")
    assert row.data["death_date"] == "2009-01-04"
    body = client.get(response.url).content.decode()
    death = field_block(body, "death_date")
    assert "registry-warning" in death
    assert "Date of diagnosis (04/03/2010) is after Date of death (04/01/2009)" in death
    assert "date_dx" not in death.split("registry-warning", 1)[1].split("</strong>", 1)[1][:200]
    assert "2010-03-04" not in death  # no ISO dates for people
    assert "Acknowledge" in death
    # the calculated follow-up is negative: shown beside it, too
    months = field_block(body, "followup_months")
    assert "Follow-up from diagnosis (months) is negative (-13.9)" in months


def test_dates_follow_the_persons_date_format(client, record, people):
    people["coord_mil"].date_format = "mdy"
    people["coord_mil"].save()
    client.force_login(people["coord_mil"])
    save_follow_up(client, record, death_date="01/04/2009")
    body = client.get(form_url(record, "follow_up")).content.decode()
    assert "Date of diagnosis (03/04/2010) is after Date of death (01/04/2009)" in body


def test_save_and_next_stops_on_the_form_with_its_warnings_and_offers_to_continue(
    client, record, people
):
    client.force_login(people["coord_mil"])
    response = save_follow_up(client, record, action="next", death_date="04/01/2009")
    assert response.status_code == 302 and response.url.endswith("?saved=next")
    body = client.get(response.url).content.decode()
    assert 'id="saved-with-warnings"' in body
    assert f'href="{record.get_absolute_url()}" id="continue"' in body  # follow-up is the last


def test_without_warnings_save_and_next_moves_on(client, record, people):
    client.force_login(people["coord_mil"])
    response = save_follow_up(client, record, action="exit", death_date="05/05/2015")
    assert response.url == record.get_absolute_url()


def test_an_out_of_range_value_stays_visible_beside_its_field(client, record, people):
    client.force_login(people["coord_mil"])
    row = record.instruments.get(instrument="diagnosis_pathology")
    data = {
        "__status": "2",
        "__version": str(row.version),
        "__reason": "Pathology report re-read",
        "action": "stay",
        "date_dx": "04/03/2010",
        "site_of_origin": "3",
        "tumour_size_mm": "900",
        "fnclcc_grade": "3",
        "kit_cd117": "2",
        "path_review_confirmed": "1",
        "path_review_date": "01/04/2010",
    }
    assert client.post(form_url(record, "diagnosis_pathology"), data).status_code == 302
    for _ in range(2):  # not a message flashed once: it is there every time the form opens
        body = client.get(form_url(record, "diagnosis_pathology")).content.decode()
        block = field_block(body, "tumour_size_mm")
        assert (
            "Value out of range" in block
            and "900 is outside the expected range (1 to 500)" in block
        )


def test_a_hard_error_stays_a_hard_error(client, record, people):
    client.force_login(people["coord_mil"])
    response = save_follow_up(client, record, death_date="31/02/2009")
    assert response.status_code == 400
    assert not InstrumentData.objects.filter(record=record, instrument="follow_up").exists()


def test_a_rule_in_redcap_logic_shows_beside_the_fields_it_reads(client, record, people):
    DataQualityRule.objects.create(name="Very large tumour", logic="[tumour_size_mm] > 50")
    client.force_login(people["coord_mil"])
    body = client.get(form_url(record, "diagnosis_pathology")).content.decode()
    assert "Very large tumour" in field_block(body, "tumour_size_mm")
    assert "Very large tumour" not in field_block(body, "date_dx")


def test_a_warning_is_acknowledged_in_place(client, record, people):
    client.force_login(people["coord_mil"])
    save_follow_up(client, record, death_date="04/01/2009")
    ack = reverse("registry:acknowledge", args=[record.record_id])
    payload = {"rule_key": "death_after_all", "instrument": "follow_up", "instance": "1"}
    empty = client.post(ack, {**payload, "reason": ""}, HTTP_HX_REQUEST="true")
    assert empty.status_code == 200 and "Give a reason" in empty.content.decode()
    assert not FindingAcknowledgement.objects.exists()
    response = client.post(
        ack,
        {**payload, "reason": "Death date confirmed by the registry office"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acknowledged by" in html and "confirmed by the registry office" in html
    assert "<html" not in html  # a fragment, swapped in place
    ack_row = FindingAcknowledgement.objects.get(record=record)
    assert ack_row.rule_key == "death_after_all" and ack_row.acknowledged_by == people["coord_mil"]
    body = client.get(form_url(record, "follow_up")).content.decode()
    assert "Acknowledged by" in field_block(body, "death_date")


@pytest.mark.parametrize("who", ["coord_bol"])
def test_other_centres_cannot_see_or_acknowledge(client, record, people, who):
    client.force_login(people["coord_mil"])
    save_follow_up(client, record, death_date="04/01/2009")
    client.force_login(people[who])
    assert client.get(form_url(record, "follow_up")).status_code == 404
    response = client.post(
        reverse("registry:acknowledge", args=[record.record_id]),
        {"rule_key": "death_after_all", "instrument": "follow_up", "instance": "1", "reason": "x"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 404
    assert not FindingAcknowledgement.objects.exists()


def test_readers_see_the_warning_without_the_acknowledge_box(client, record, people):
    client.force_login(people["coord_mil"])
    save_follow_up(client, record, death_date="04/01/2009")
    client.force_login(people["pi"])
    body = client.get(form_url(record, "follow_up")).content.decode()
    death = field_block(body, "death_date")
    assert "registry-warning" in death and "registry-ack-button" not in death
