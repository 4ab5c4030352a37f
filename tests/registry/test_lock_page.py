"""The lock page shows what is being signed (forms and values with labels, read-only), links
each blocker to the form that resolves it, and hides the Sign button while anything blocks."""

from __future__ import annotations

import pytest
from django.urls import reverse

from registry.services.records import create_record
from tests.fixtures_records import COMPLETE_CASE, enter_case

pytestmark = pytest.mark.django_db


def test_the_signer_reads_what_they_sign(client, complete_record, people):
    client.force_login(people["inv_mil"])
    body = client.get(reverse("registry:lock", args=[complete_record.record_id])).content.decode()
    summary = body.split('id="signed-summary"')[1].split("</section>")[0]
    assert "What you are signing" in summary
    assert "Date of diagnosis" in summary and "04/03/2010" in summary  # label, person's format
    assert "2010-03-04" not in summary
    assert "Female" in summary  # a choice's label, not its code
    assert "<input" not in summary and "<textarea" not in summary  # read-only
    assert 'id="sign"' in body and 'id="sign-hidden"' not in body


def test_blockers_link_to_their_forms_and_the_sign_button_is_hidden(
    client, dictionary, centers, people
):
    record = create_record(user=people["coord_mil"], center=centers["MIL"])
    case = {k: v for k, v in COMPLETE_CASE.items() if k != "stage"}
    case["follow_up"] = [
        {"last_contact_date": "2010-04-05", "vital_status": "1", "disease_status_last": "1"}
    ]
    enter_case(record, people["coord_mil"], dictionary, case=case)
    client.force_login(people["inv_mil"])
    body = client.get(reverse("registry:lock", args=[record.record_id])).content.decode()
    blockers = body.split('id="blockers"')[1].split("</div>")[0]
    stage = reverse("registry:instrument", args=[record.record_id, "stage", 1])
    follow_up = reverse("registry:instrument", args=[record.record_id, "follow_up", 1])
    assert f'<a href="{stage}">Stage is not Complete.</a>' in blockers
    assert f'href="{follow_up}"' in blockers  # the implausible follow-up finding
    assert 'id="sign"' not in body and 'id="sign-hidden"' in body


def test_other_centres_do_not_see_the_summary(client, complete_record, people):
    client.force_login(people["coord_bol"])
    assert client.get(reverse("registry:lock", args=[complete_record.record_id])).status_code == 404
