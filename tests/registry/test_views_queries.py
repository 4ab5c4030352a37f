"""Queries: a monitor opens one on a field, the site answers, the opener closes it."""

from __future__ import annotations

import pytest

from registry.models import AuditEvent, Query

pytestmark = pytest.mark.django_db


def open_query(client, record, field="surgery_date", text="Please check the date"):
    return client.post(
        f"/records/{record.record_id}/queries/new/", {"field": field, "instance": 1, "text": text}
    )


def test_query_life_cycle_is_audited(client, complete_record, people):
    client.force_login(people["monitor"])
    form_page = client.get(
        f"/records/{complete_record.record_id}/queries/new/?field=surgery_date&instance=1"
    )
    assert form_page.context["form"].initial["field"] == "surgery_date"
    assert open_query(client, complete_record).status_code == 302
    query = Query.objects.get()
    assert (query.instrument, query.field, query.status) == (
        "primary_surgery",
        "surgery_date",
        "open",
    )
    # The form shows the open query beside the field.
    client.force_login(people["coord_mil"])
    body = client.get(f"/records/{complete_record.record_id}/primary_surgery/1/").content
    assert b"1 open query" in body
    assert client.get("/queries/").context["page"].paginator.count == 1
    response = client.post(
        f"/queries/{query.pk}/", {"action": "answer", "text": "Checked: correct"}
    )
    assert response.status_code == 302
    query.refresh_from_db()
    assert query.status == "answered"
    # Only the opener closes it.
    response = client.post(f"/queries/{query.pk}/", {"action": "close", "text": ""})
    assert response.status_code == 403
    client.force_login(people["monitor"])
    client.post(f"/queries/{query.pk}/", {"action": "close", "text": "Thanks"})
    query.refresh_from_db()
    assert query.status == "closed" and query.closed_at
    actions = list(
        AuditEvent.objects.filter(action__startswith="query_").values_list("action", flat=True)
    )
    assert actions == ["query_open", "query_answer", "query_close"]


def test_open_queries_block_locking(client, complete_record, people):
    client.force_login(people["monitor"])
    open_query(client, complete_record)
    client.force_login(people["inv_mil"])
    blockers = client.get(f"/records/{complete_record.record_id}/lock/").context["blockers"]
    assert any("open" in b for b in blockers)


def test_site_users_cannot_open_queries(client, complete_record, people):
    client.force_login(people["coord_mil"])
    assert open_query(client, complete_record).status_code == 403
    assert not Query.objects.exists()


def test_other_centre_gets_404_on_queries(client, complete_record, people):
    client.force_login(people["monitor"])
    open_query(client, complete_record)
    query = Query.objects.get()
    client.force_login(people["coord_bol"])
    assert client.get("/queries/").context["page"].paginator.count == 0
    for url in (f"/queries/{query.pk}/", f"/records/{complete_record.record_id}/queries/new/"):
        assert client.get(url).status_code == 404
        assert client.post(url, {"action": "answer", "text": "x"}).status_code == 404
    query.refresh_from_db()
    assert query.status == "open"


def test_unresolved_queries_show_in_the_menu_rows_forms_and_query_page(
    client, complete_record, people, dictionary, centers
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from registry.services.records import create_record

    client.force_login(people["monitor"])
    open_query(client, complete_record)  # Date of surgery
    open_query(client, complete_record, field="sex", text="Sex looks wrong")
    create_record(user=people["coord_mil"], center=centers["MIL"])  # a row without queries
    rid = complete_record.record_id

    client.force_login(people["coord_mil"])
    with CaptureQueriesContext(connection) as sql:
        dashboard = client.get("/records/")
    body = dashboard.content.decode()
    assert 'id="nav-query-count">2<' in body  # the menu
    counts = {r.record_id: n for r, _home, _cells, n in dashboard.context["table"]}
    assert counts[rid] == 2 and sum(counts.values()) == 2  # each record's row
    on_queries = [q["sql"] for q in sql.captured_queries if '"registry_query"' in q["sql"]]
    assert len(on_queries) == 2  # one aggregate for the menu, one for every row of the page

    form = client.get(f"/records/{rid}/enrolment/1/")
    assert form.context["form_queries"] == {"primary_surgery": 1, "enrolment": 1}
    assert form.content.decode().count("form-query-badge") == 2  # in the side menu
    home = client.get(f"/records/{rid}/").content.decode()
    assert "Date of surgery</a> (Primary Surgery #1)" in home and "form-query-badge" in home

    query = Query.objects.get(field="surgery_date")
    page = client.get(f"/queries/{query.pk}/")
    text = page.content.decode()
    assert page.context["field_label"] == "Date of surgery"
    assert page.context["current_value"] == "20/03/2010"  # the coordinator's format
    assert [r.new for r in page.context["value_history"]] == ["20/03/2010"]
    assert 'id="query-current-value"><strong>20/03/2010</strong>' in text
    listing = client.get("/queries/").content.decode()
    assert "Date of surgery</a>" in listing and "Sex</a>" in listing

    # Answered queries still count until the monitor closes them; closed ones do not.
    client.post(f"/queries/{query.pk}/", {"action": "answer", "text": "Correct"})
    assert 'id="nav-query-count">2<' in client.get("/records/").content.decode()
    client.force_login(people["monitor"])
    client.post(f"/queries/{query.pk}/", {"action": "close", "text": "Thanks"})
    assert 'id="nav-query-count">1<' in client.get("/records/").content.decode()

    # Another centre sees none of them.
    client.force_login(people["coord_bol"])
    assert "nav-query-count" not in client.get("/records/").content.decode()
