"""The instrument form: rendering, saving, inline errors, reasons, conflicts, locks."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from registry.models import AuditEvent, InstrumentData
from registry.services.records import create_record

pytestmark = pytest.mark.django_db


def url(record, form="primary_surgery", instance=1):
    return reverse("registry:instrument", args=[record.record_id, form, instance])


@pytest.fixture
def record(dictionary, centers, people):
    return create_record(user=people["coord_mil"], center=centers["MIL"])


@pytest.fixture
def coord(client, people):
    client.force_login(people["coord_mil"])
    return client


def post(client, record, form, values, *, status=0, version=0, action="stay", reason=""):
    data = {
        "__status": str(status),
        "__version": str(version),
        "action": action,
        "__reason": reason,
        **values,
    }
    return client.post(url(record, form), data)


def test_form_renders_sections_required_markers_notes_and_tools(coord, record):
    body = coord.get(url(record, "diagnosis_pathology")).content.decode()
    assert "Immunohistochemistry" in body  # section header
    assert "(required)" in body
    assert "Largest diameter on the pathology report" in body  # field note
    assert 'placeholder="dd/mm/yyyy"' in body
    assert "registry-today" in body
    assert 'name="date_dx__missing"' in body and 'data-code="UNK"' in body
    assert reverse("registry:field_history", args=[record.record_id, "date_dx"]) in body
    assert 'data-branching="[path_review_confirmed] = &#x27;1&#x27;"' in body
    assert 'name="__version"' in body and "Save &amp; Next form" in body


def test_the_date_note_agrees_with_the_placeholder_in_the_persons_format(coord, record):
    body = coord.get(url(record, "diagnosis_pathology")).content.decode()
    # The dictionary's note says "(DD-MM-YYYY)"; the person reads one hint, theirs.
    assert "Date of the diagnostic biopsy or resection specimen (dd/mm/yyyy)" in body
    assert "DD-MM-YYYY" not in body
    user = coord.get(url(record, "diagnosis_pathology")).wsgi_request.user
    user.date_format = "ymd"
    user.save(update_fields=["date_format"])
    body = coord.get(url(record, "diagnosis_pathology")).content.decode()
    assert 'placeholder="yyyy-mm-dd"' in body
    assert "Date of the diagnostic biopsy or resection specimen (yyyy-mm-dd)" in body
    refused = post(coord, record, "diagnosis_pathology", {"date_dx": "yesterday"})
    assert "expected yyyy-mm-dd" in refused.content.decode()


def test_dates_typed_day_first_are_stored_iso_and_shown_day_first(coord, record):
    response = post(
        coord,
        record,
        "primary_surgery",
        {"surgery_done": "1", "surgery_date": "20/03/2010", "margins": "0", "rupture": "0"},
    )
    assert response.status_code == 302 and response.url == url(record)
    row = InstrumentData.objects.get(record=record, instrument="primary_surgery")
    assert row.data["surgery_date"] == "2010-03-20"
    assert row.version == 1
    body = coord.get(url(record)).content.decode()
    assert 'value="20/03/2010"' in body


def test_each_person_types_dates_in_their_own_format(coord, record, people):
    """A coordinator who chose month-first dates on their profile types and reads 03/20/2010;
    the stored value is ISO either way."""
    assert 'name="date_format"' in coord.get(reverse("profile")).content.decode()
    coord.post(reverse("profile"), {"date_format": "mdy"})
    people["coord_mil"].refresh_from_db()
    assert people["coord_mil"].date_format == "mdy"
    values = {"surgery_done": "1", "surgery_date": "03/20/2010", "margins": "0", "rupture": "0"}
    assert post(coord, record, "primary_surgery", values).status_code == 302
    row = InstrumentData.objects.get(record=record, instrument="primary_surgery")
    assert row.data["surgery_date"] == "2010-03-20"
    body = coord.get(url(record)).content.decode()
    assert 'value="03/20/2010"' in body and 'placeholder="mm/dd/yyyy"' in body
    assert '"date_order": "mdy"' in body  # the browser's Today button and logic use it too
    coord.post(reverse("profile"), {"date_format": "ymd"})
    assert 'value="2010-03-20"' in coord.get(url(record)).content.decode()
    response = coord.post(reverse("profile"), {"date_format": "xyz"})
    assert response.status_code == 200 and "not one of the available choices" in (
        response.content.decode()
    )


def test_validation_errors_are_inline_and_typed_values_kept(coord, record):
    response = post(
        coord,
        record,
        "primary_surgery",
        {
            "surgery_done": "1",
            "surgery_date": "31/02/2010",
            "surgery_procedure": "Gastrectomy",
            "margins": "1",
        },
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "surgery_date" in form.errors
    body = response.content.decode()
    assert "not a real calendar date" in body
    assert 'value="31/02/2010"' in body and 'value="Gastrectomy"' in body
    assert "invalid-feedback" in body or "is-invalid" in body
    assert not InstrumentData.objects.filter(record=record).exists()


def test_complete_requires_required_fields(coord, record):
    response = post(coord, record, "primary_surgery", {"surgery_done": "1"}, status=2)
    assert response.status_code == 400
    assert "surgery_date" in response.context["form"].errors
    assert "rupture" in response.context["form"].errors


def test_missing_data_code_in_one_click(coord, record):
    response = post(
        coord,
        record,
        "primary_surgery",
        {
            "surgery_done": "1",
            "surgery_date": "",
            "surgery_date__missing": "UNK",
            "margins__missing": "ND",
            "rupture": "0",
        },
        status=2,
    )
    assert response.status_code == 302
    row = InstrumentData.objects.get(record=record, instrument="primary_surgery")
    assert row.data["surgery_date"] == "UNK" and row.data["margins"] == "ND"
    body = coord.get(url(record)).content.decode()
    assert 'id="id_surgery_date__missing" value="UNK"' in body
    assert "registry-has-code" in body


def test_branching_hidden_values_are_cleared_and_reported(coord, record):
    post(coord, record, "primary_surgery", {"surgery_done": "1", "surgery_date": "20/03/2010"})
    response = post(
        coord,
        record,
        "primary_surgery",
        {"surgery_done": "0", "surgery_date": "20/03/2010"},
        version=1,
    )
    assert response.status_code == 302
    row = InstrumentData.objects.get(record=record, instrument="primary_surgery")
    assert row.data["surgery_date"] == ""
    page = coord.get(url(record))
    shown = [str(m) for m in page.context["messages"]]
    assert any("cleared: Date of surgery" in m for m in shown)  # the label, not surgery_date
    assert any(m.startswith("Saved Primary Surgery #1") for m in shown)
    assert not any("surgery_date" in m or "primary_surgery" in m for m in shown)
    event = AuditEvent.objects.get(
        record_id=record.record_id, field="surgery_date", action="update"
    )
    assert event.old_value == "2010-03-20"


def test_calc_fields_are_read_only_and_computed_on_the_server(coord, record):
    post(coord, record, "enrolment", {"year_of_birth": "1960", "sex": "1"})
    post(coord, record, "diagnosis_pathology", {"date_dx": "04/03/2010"})
    response = post(
        coord,
        record,
        "enrolment",
        {"year_of_birth": "1960", "sex": "1", "age_at_dx": "999"},
        version=1,
    )
    assert response.status_code == 302
    row = InstrumentData.objects.get(record=record, instrument="enrolment")
    assert row.data["age_at_dx"] == "49"
    body = coord.get(url(record, "enrolment")).content.decode()
    assert 'name="age_at_dx"' in body and "readonly" in body


def test_calc_on_another_form_follows_the_field_it_reads(coord, record):
    """Age at diagnosis lives on enrolment but reads the date of diagnosis on a later form."""
    post(coord, record, "enrolment", {"year_of_birth": "1960", "sex": "1"})
    enrolment = InstrumentData.objects.get(record=record, instrument="enrolment")
    assert enrolment.data["age_at_dx"] == ""
    post(coord, record, "diagnosis_pathology", {"date_dx": "04/03/2010"})
    enrolment.refresh_from_db()
    assert enrolment.data["age_at_dx"] == "49"
    assert enrolment.version == 1  # derived value: an open enrolment form does not conflict
    post(coord, record, "diagnosis_pathology", {"date_dx": "04/09/2012"}, version=1)
    enrolment.refresh_from_db()
    assert enrolment.data["age_at_dx"] == "52"
    change = AuditEvent.objects.filter(
        record_id=record.record_id, instrument="enrolment", field="age_at_dx"
    ).latest("seq")
    assert (change.old_value, change.new_value) == ("49", "52")


def test_the_side_menu_shows_each_forms_status(coord, record):
    post(coord, record, "stage", {"stage_dx": "1"}, status=2)
    body = coord.get(url(record, "enrolment")).content.decode()
    menu = body.split('aria-label="Instruments"')[1].split("</nav>")[0]
    stage = menu.split("/stage/1/")[0].rsplit("<li", 1)[1]
    enrolment = menu.split("/enrolment/1/")[0].rsplit("<li", 1)[1]
    assert "status-2" in stage and "status-none" in enrolment


def test_save_and_next_and_save_and_exit(coord, record):
    response = post(coord, record, "primary_surgery", {"surgery_done": "0"}, action="next")
    # Systemic therapy repeats and has no instance yet: the coordinator is asked first.
    assert response.url == url(record, "systemic_therapy") + "?ask=1"
    response = post(
        coord,
        record,
        "primary_surgery",
        {"surgery_done": "0", "rupture": "0"},
        version=1,
        action="exit",
    )
    assert response.url == record.get_absolute_url()


def test_reason_for_change_required_after_complete(coord, record):
    values = {"surgery_done": "0"}
    assert post(coord, record, "primary_surgery", values, status=2).status_code == 302
    body = coord.get(url(record)).content.decode()
    assert 'name="__reason"' in body and 'id="reason-box"' in body
    assert 'class="col-md-8 d-none" id="reason-box"' not in body
    response = post(coord, record, "primary_surgery", values, status=1, version=1)
    assert response.status_code == 400
    assert "__reason" in response.context["form"].errors
    assert InstrumentData.objects.get(record=record, instrument="primary_surgery").status == 2
    response = post(
        coord,
        record,
        "primary_surgery",
        values,
        status=1,
        version=1,
        reason="Not yet verified against the chart",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(record_id=record.record_id, action="form_status", new_value=1)
    assert event.reason == "Not yet verified against the chart"


def test_edit_conflict_is_409_with_diff_and_input_kept(client, record, people, centers):
    other = people["inv_mil"]  # a second person at the same centre
    client.force_login(other)
    post(client, record, "primary_surgery", {"surgery_done": "1", "margins": "0"})
    client.force_login(people["coord_mil"])
    # Alice opens the form at version 1 ...
    assert client.get(url(record)).context["form"]["__version"].value() == 1
    # ... meanwhile Ivan changes the margins ...
    client.force_login(other)
    post(client, record, "primary_surgery", {"surgery_done": "1", "margins": "2"}, version=1)
    # ... and Alice saves what she typed, starting from version 1.
    client.force_login(people["coord_mil"])
    response = post(
        client,
        record,
        "primary_surgery",
        {"surgery_done": "1", "margins": "1", "surgery_procedure": "Alice's text"},
        version=1,
    )
    assert response.status_code == 409
    changes = {c["field"]: c for c in response.context["conflict"]["changes"]}
    assert changes["margins"]["old"] == "0" and changes["margins"]["new"] == "2"
    assert other.full_name in changes["margins"]["who"]
    body = response.content.decode()
    assert "Someone else saved this form" in body
    assert "2 (R2 (macroscopic residual disease))" in body  # shown with its label
    assert 'value="Alice&#x27;s text"' in body
    assert 'name="__version" value="2"' in body
    row = InstrumentData.objects.get(record=record, instrument="primary_surgery")
    assert row.data["margins"] == "2" and row.version == 2  # nothing of Alice's was written
    # Having seen the diff, Alice saves again on purpose.
    response = post(
        client,
        record,
        "primary_surgery",
        {"surgery_done": "1", "margins": "1", "surgery_procedure": "Alice's text"},
        version=2,
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.data["margins"] == "1"


def test_locked_record_renders_read_only_and_refuses_posts(client, locked_record, people):
    client.force_login(people["coord_mil"])
    response = client.get(url(locked_record))
    body = response.content.decode()
    assert "the form is read-only" in body
    assert "Save &amp; Stay" not in body
    assert response.context["form"].fields["surgery_done"].disabled
    before = InstrumentData.objects.get(record=locked_record, instrument="primary_surgery")
    response = post(
        client,
        locked_record,
        "primary_surgery",
        {"surgery_done": "0"},
        version=before.version,
        reason="try",
    )
    assert response.status_code == 302
    after = InstrumentData.objects.get(record=locked_record, instrument="primary_surgery")
    assert after.data == before.data and after.version == before.version


def test_repeating_instances(coord, record):
    assert coord.get(url(record, "relapse", 1)).status_code == 200
    response = post(coord, record, "relapse", {"relapse_date": "01/01/2012", "relapse_type": "1"})
    assert response.status_code == 302
    response = coord.post(
        url(record, "relapse", 2), {"__status": "0", "__version": "0", "relapse_type": "2"}
    )
    assert response.status_code == 302
    assert InstrumentData.objects.filter(record=record, instrument="relapse").count() == 2
    assert coord.get(url(record, "relapse", 3)).status_code == 200  # the next one
    assert coord.get(url(record, "relapse", 5)).status_code == 404  # no gaps
    assert coord.get(url(record, "stage", 2)).status_code == 404  # not repeating
    assert coord.get(url(record, "nonexistent", 1)).status_code == 404


def test_study_wide_readers_see_but_cannot_save(client, record, people):
    client.force_login(people["monitor"])
    assert client.get(url(record)).status_code == 200
    assert post(client, record, "primary_surgery", {"surgery_done": "0"}).status_code == 404
    assert not InstrumentData.objects.filter(record=record).exists()


def test_field_history_lists_every_value(coord, record):
    values = {"surgery_done": "1", "surgery_date": "20/03/2010", "rupture": "0"}
    first = post(coord, record, "primary_surgery", {**values, "margins": "0"}, status=2)
    assert first.status_code == 302
    second = post(
        coord,
        record,
        "primary_surgery",
        {**values, "margins": "1"},
        status=2,
        version=1,
        reason="Pathology report revised",
    )
    assert second.status_code == 302
    history = reverse("registry:field_history", args=[record.record_id, "margins"])
    response = coord.get(history, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body  # a fragment for the dialog
    assert "Pathology report revised" in body
    assert [r.event.new_value for r in response.context["rows"]] == ["1", "0"]
    margins = response.context["rows"][0]
    assert margins.old and margins.new and margins.new != "1"  # choice labels, not codes
    assert "<html" in coord.get(history).content.decode()


def test_other_centre_gets_404_on_form_and_field_history(client, record, people):
    client.force_login(people["coord_bol"])
    for target in (
        url(record),
        reverse("registry:field_history", args=[record.record_id, "margins"]),
    ):
        assert client.get(target).status_code == 404
        assert client.post(target, {"__status": "0", "__version": "0"}).status_code in (404, 405)
    assert not InstrumentData.objects.filter(record=record).exists()


def test_an_unrelated_redcap_dictionary_renders_and_saves(client, centers, people):
    """Every field type and validation type of another study's dictionary works in the form."""
    from pathlib import Path

    from registry.services.dictionary import import_dictionary

    csv_text = (Path(__file__).parent / "fixtures" / "kitchen_sink_dictionary.csv").read_text()
    version = import_dictionary(
        csv_text=csv_text, project={"missing_codes": [{"code": "UNK", "label": "Unknown"}]}
    )
    record = create_record(user=people["coord_mil"], center=centers["MIL"])
    client.force_login(people["coord_mil"])
    for form in version.dictionary.form_names:
        response = client.get(url(record, form))
        assert response.status_code == 200, form
        saved = client.post(url(record, form), {"__status": "0", "__version": "0"})
        assert saved.status_code == 302, (form, saved.context and saved.context["form"].errors)
    screening = client.get(url(record, "screening")).content.decode()
    assert "Welcome to the HEART-LITE screening form." in screening  # descriptive text


def test_action_tags_on_the_form_and_on_save(client, centers, people):
    """@TODAY/@DEFAULT fill a new form, @READONLY fields are shown but never taken from the
    submission (a crafted POST cannot change them), @HIDDEN fields are not shown, @NOMISSING
    fields offer no missing-data code."""
    from pathlib import Path

    from django.utils import timezone

    from registry.services.dictionary import import_dictionary

    csv_text = (Path(__file__).parent / "fixtures" / "kitchen_sink_dictionary.csv").read_text()
    import_dictionary(
        csv_text=csv_text, project={"missing_codes": [{"code": "UNK", "label": "Unknown"}]}
    )
    record = create_record(user=people["coord_mil"], center=centers["MIL"])
    client.force_login(people["coord_mil"])
    today = timezone.localdate()

    contact = client.get(url(record, "contact")).content.decode()
    field_html = contact.split('data-field="contact_date"')[1].split("registry-tools")[0]
    assert f'value="{today:%d/%m/%Y}"' in field_html and "disabled" in field_html
    assert 'value="18:30"' in contact  # @DEFAULT
    client.post(
        url(record, "contact"),
        {"__status": "0", "__version": "0", "contact_date": "01/01/2000", "best_time": "09:00"},
    )
    row = InstrumentData.objects.get(record=record, instrument="contact")
    assert row.data["contact_date"] == today.isoformat() and row.data["best_time"] == "09:00"

    consent = client.get(url(record, "consent")).content.decode()
    tag = re.search(r'<div[^>]*id="field-consent_version"[^>]*>', consent).group(0)
    assert "d-none" in tag  # @HIDDEN
    assert 'name="withdrawn__missing"' not in consent  # @NOMISSING
    client.post(
        url(record, "consent"), {"__status": "0", "__version": "0", "consent_version": "v9"}
    )
    row = InstrumentData.objects.get(record=record, instrument="consent")
    assert row.data["consent_version"] == "v2.1"


def test_each_field_has_one_tools_menu_and_today_only_on_dates(coord, record):
    body = coord.get(url(record, "diagnosis_pathology")).content.decode()
    fields = re.findall(r'<div id="field-(\w+)"', body)
    menus = re.findall(r'<details class="registry-field-menu', body)
    assert len(menus) == len(fields) > 5  # one menu per field, not four controls
    date_dx = body.split('id="field-date_dx"')[1].split('id="field-')[0]
    assert date_dx.count("registry-today") == 1 and date_dx.count("<summary") == 1
    size = body.split('id="field-tumour_size_mm"')[1].split('id="field-')[0]
    assert "registry-today" not in size
    menu = size.split("<details")[1].split("</details>")[0]
    assert "UNK · Unknown" in menu and "History" in menu
    assert reverse("registry:query_open", args=[record.record_id]) not in menu  # sites don't raise


def test_the_monitors_menu_offers_a_query_and_no_missing_codes(client, record, people):
    client.force_login(people["monitor"])
    body = client.get(url(record, "diagnosis_pathology")).content.decode()
    size = body.split('id="field-tumour_size_mm"')[1].split('id="field-')[0]
    menu = size.split("<details")[1].split("</details>")[0]
    assert "Open a query" in menu and "registry-code-button" not in menu


def test_form_fields_are_built_once_and_each_form_gets_its_own_copies(dictionary):
    from django.utils import translation

    from registry.forms.instrument import InstrumentForm

    version = dictionary
    make = dict(dictionary=version.dictionary, instrument="enrolment", context={}, missing_codes=[])
    first = InstrumentForm(**make)
    first.fields["sex"].widget.attrs["data-probe"] = "1"
    first.fields["sex"].disabled = True
    second = InstrumentForm(**make)
    assert "data-probe" not in second.fields["sex"].widget.attrs
    assert not second.fields["sex"].disabled
    assert second.fields["sex"] is not first.fields["sex"]
    assert all(f.disabled for f in InstrumentForm(**make, readonly=True).fields.values())
    assert not InstrumentForm(**make).fields["sex"].disabled
    dated = {**make, "instrument": "diagnosis_pathology"}
    us = InstrumentForm(**dated, date_order="mdy")
    assert us.fields["date_dx"].widget.attrs["placeholder"] == "mm/dd/yyyy"
    assert InstrumentForm(**dated).fields["date_dx"].widget.attrs["placeholder"] == "dd/mm/yyyy"
    with translation.override("it"):
        italian = InstrumentForm(**make)
    assert "Obbligatorio" in str(italian.fields["sex"].label)
    assert "Required" in str(InstrumentForm(**make).fields["sex"].label)
