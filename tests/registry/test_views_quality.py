"""The data-quality page: findings per centre with links; data managers' custom rules."""

from __future__ import annotations

import pytest

from registry.models import AuditEvent, DataQualityRule
from registry.services.records import create_record
from tests.fixtures_records import COMPLETE_CASE, enter_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def flagged(dictionary, centers, people):
    record = create_record(user=people["coord_mil"], center=centers["MIL"])
    case = dict(COMPLETE_CASE)
    case["primary_surgery"] = [
        {**COMPLETE_CASE["primary_surgery"][0], "surgery_date": "2009-01-01"}
    ]  # before the diagnosis
    enter_case(record, people["coord_mil"], dictionary, case=case)
    return record


def test_findings_listed_per_centre_with_links_to_the_field(client, flagged, people):
    client.force_login(people["dm"])
    response = client.get("/quality/")
    assert response.status_code == 200
    by_center = dict(response.context["by_center"])
    items = by_center["MIL"]
    assert any(i["finding"].rule_key == "dx_before_surgery" for i in items)
    link = f"/records/{flagged.record_id}/primary_surgery/1/#field-surgery_date"
    assert link in response.content.decode()
    # In labels and the reader's date format, not variable names and ISO dates.
    (item,) = [i for i in items if i["finding"].rule_key == "dx_before_surgery"]
    assert item["text"] == "Date of surgery (01/01/2009) is before Date of diagnosis (04/03/2010)"
    assert item["field_label"] == "Date of surgery"
    home = client.get(flagged.get_absolute_url()).content.decode()
    assert "Date of surgery (01/01/2009) is before Date of diagnosis (04/03/2010)" in home


def test_site_users_see_only_their_centre(client, flagged, people):
    client.force_login(people["coord_bol"])
    response = client.get("/quality/")
    assert response.context["by_center"] == []
    assert flagged.record_id not in response.content.decode()


def test_data_manager_adds_a_rule_in_redcap_logic(client, complete_record, people):
    client.force_login(people["dm"])
    response = client.post("/quality/", {"name": "Huge tumour", "logic": "[tumour_size_mm] > 50"})
    assert response.status_code == 302
    rule = DataQualityRule.objects.get()
    assert AuditEvent.objects.filter(action="dq_rule_create").exists()
    items = dict(client.get("/quality/").context["by_center"])["MIL"]
    assert any(i["finding"].rule_key == f"custom_{rule.pk}" for i in items)
    client.post(f"/quality/rules/{rule.pk}/toggle/")
    assert not DataQualityRule.objects.get().is_active


def test_bad_logic_is_refused_with_its_position(client, dictionary, people):
    client.force_login(people["dm"])
    response = client.post("/quality/", {"name": "Broken", "logic": "[tumour_size_mm] > > 5"})
    assert response.status_code == 400
    error = response.context["form"].errors["logic"][0]
    assert "position 19" in error  # 0-based offset of the second ">"
    response = client.post("/quality/", {"name": "Typo", "logic": "[tumor_size] > 5"})
    assert "Unknown field(s): tumor_size" in response.context["form"].errors["logic"][0]
    assert not DataQualityRule.objects.exists()


def test_only_data_managers_add_rules(client, dictionary, people):
    for who in ("coord_mil", "monitor", "pi"):
        client.force_login(people[who])
        response = client.post("/quality/", {"name": "x", "logic": "[sex] = '1'"})
        assert response.status_code == 403
    assert not DataQualityRule.objects.exists()
