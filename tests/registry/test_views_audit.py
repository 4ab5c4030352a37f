"""Record history, field history and the filterable audit log with its CSV download."""

from __future__ import annotations

import csv
import io
import re

import pytest

from registry.audit import record_event
from registry.csv_safety import safe_cell, writer
from registry.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_record_history_shows_every_event_with_reason(client, locked_record, people):
    client.force_login(people["coord_mil"])
    response = client.get(f"/records/{locked_record.record_id}/history/")
    assert response.status_code == 200
    actions = {e.action for e in response.context["page"]}
    assert {"record_create", "create", "form_status", "signature", "lock"} <= actions
    body = response.content.decode()
    # In the words and the date format of the person reading it, not variable names and ISO.
    assert "Date of surgery" in body and "20/03/2010" in body
    assert "2010-03-20" not in body
    assert "I reviewed this record" in body  # the signature's meaning is the lock's reason


def test_history_shows_choices_signatures_and_statuses_as_text(
    client, locked_record, people, dictionary
):
    from registry.services.locking import unlock_record
    from registry.services.records import save_instrument

    unlock_record(user=people["dm"], record=locked_record, reason="Sex was entered wrongly")
    row = locked_record.instruments.get(instrument="enrolment")
    save_instrument(
        user=people["coord_mil"],
        record=locked_record,
        instrument="enrolment",
        instance=1,
        data={**row.data, "sex": "1"},
        status=row.status,
        expected_version=row.version,
        dictionary_version=dictionary,
        reason="Checked the chart",
    )
    people["coord_mil"].date_format = "ymd"
    people["coord_mil"].save(update_fields=["date_format"])
    client.force_login(people["coord_mil"])
    rows = client.get(f"/records/{locked_record.record_id}/history/").context["rows"]
    by_action = {}
    for r in rows:
        by_action.setdefault(r.event.action, []).append(r)
    sex = next(r for r in by_action["update"] if r.event.field == "sex")
    assert sex.change == "Sex: Female -> Male"
    assert sex.form == "Enrolment #1"
    (signed,) = by_action["signature"]
    assert signed.new.startswith(f"Signed by {people['inv_mil'].full_name}, meaning")
    assert "{" not in signed.new and "content_sha256" not in signed.new
    assert "Complete" in {r.new for r in by_action["form_status"]}
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \S+", sex.when)  # their ymd
    body = client.get(f"/records/{locked_record.record_id}/history/").content.decode()
    assert "Female</span> → Male" in body
    assert "{&#x27;signer&#x27;" not in body and "{'signer'" not in body


def test_audit_log_site_users_see_only_their_centre(client, complete_record, people, centers):
    from registry.services.records import create_record

    bol = create_record(user=people["coord_bol"], center=centers["BOL"])
    client.force_login(people["coord_bol"])
    events = list(client.get("/audit/").context["page"])
    assert bol.record_id in {e.record_id for e in events}
    assert {e.center_id for e in events} == {centers["BOL"].pk}  # incl. BOL's role changes
    # Filtering on another centre's record finds nothing.
    response = client.get("/audit/", {"record": complete_record.record_id})
    assert list(response.context["page"]) == []


def test_audit_log_filters(client, complete_record, people, centers):
    client.force_login(people["dm"])
    rid = complete_record.record_id
    by_record = client.get("/audit/", {"record": rid}).context["page"].paginator.count
    assert by_record == AuditEvent.objects.filter(record_id=rid).count()
    by_action = client.get("/audit/", {"action": "form_status"}).context["page"]
    assert {e.action for e in by_action} == {"form_status"}
    by_user = client.get("/audit/", {"user": people["coord_mil"].last_name}).context["page"]
    assert by_user.paginator.count and all(e.actor_id == people["coord_mil"].pk for e in by_user)
    by_centre = client.get("/audit/", {"center": centers["BOL"].pk}).context["page"]
    assert {e.center_id for e in by_centre} == {centers["BOL"].pk}
    assert rid not in {e.record_id for e in by_centre}
    future = client.get("/audit/", {"date_from": "01/01/2999"}).context["page"]
    assert future.paginator.count == 0
    today = client.get("/audit/", {"date_to": "01/01/2999", "record": rid}).context["page"]
    assert today.paginator.count == by_record


def test_audit_csv_is_scoped_neutralised_and_audited(client, complete_record, people):
    record_event("note", user=people["coord_mil"], record=complete_record, reason="=HYPERLINK()")
    client.force_login(people["coord_mil"])
    response = client.get("/audit/", {"format": "csv", "record": complete_record.record_id})
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and {r["record_id"] for r in rows} == {complete_record.record_id}
    assert any(r["reason"] == "'=HYPERLINK()" for r in rows)
    assert AuditEvent.objects.filter(action="audit_export", actor_id=people["coord_mil"].pk)


def test_csv_safety():
    for dangerous in ("=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(dangerous) == "'" + dangerous
    assert safe_cell("-3.5") == "-3.5" and safe_cell(None) == "" and safe_cell(7) == "7"
    out = io.StringIO()
    writer(out).writerow(["=x", "ok"])
    assert out.getvalue().strip() == "'=x,ok"


def test_other_centre_gets_404_on_record_history(client, complete_record, people):
    client.force_login(people["coord_bol"])
    url = f"/records/{complete_record.record_id}/history/"
    assert client.get(url).status_code == 404
    assert client.post(url).status_code in (404, 405)
