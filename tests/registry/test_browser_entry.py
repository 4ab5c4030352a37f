"""A coordinator enters a GI-LMS case in a real browser (Debian's chromium via Playwright):
branching shows and hides fields as they type, a bad date is refused with the error beside the
field, they fix it, and complete every form."""

from __future__ import annotations

import json
import re

import pytest

from tests.browser_layout import chromium
from tests.live import live_stack

pytestmark = pytest.mark.browser

PASSWORD = "a-long-demo-password-2024"
SETUP = f"""
from centers.models import Center, Membership, Role, User
from registry.services.dictionary import import_default_dictionary
center = Center.objects.create(code="MIL", name="Istituto Nazionale dei Tumori", city="Milano")
user = User.objects.create_user("coordinator-mil", password="{PASSWORD}",
                                first_name="Carla", last_name="Rossi", language="en-gb")
Membership.objects.create(user=user, center=center, role=Role.SITE_COORDINATOR)
import_default_dictionary()
"""
STATUSES = """
import json
from registry.models import InstrumentData
rows = InstrumentData.objects.filter(record__record_id="MIL-0001")
print(json.dumps({r.instrument: [r.status, r.data] for r in rows}))
"""


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    with live_stack(django_db_blocker, prepare=lambda live: live.shell(SETUP)) as live:
        yield live


@pytest.fixture
def page(stack):
    with chromium() as browser:
        # An Italian browser; the coordinator chose English pages on the profile (the Italian
        # journey is tests/registry/test_browser_italian.py).
        context = browser.new_context(base_url=stack.url, locale="it-IT")
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.dialog_answers = []  # True: accept the next confirm(), False: cancel it
        page.dialogs = []

        def on_dialog(dialog):
            page.dialogs.append(dialog.message)
            if page.dialog_answers and not page.dialog_answers.pop(0):
                dialog.dismiss()
            else:
                dialog.accept()

        page.on("dialog", on_dialog)
        yield page


def field(page, name):
    return page.locator(f'.registry-field[data-field="{name}"]')


def radio(page, name, value):
    page.locator(f'input[name="{name}"][value="{value}"]').check()


def complete_and(page, button):
    page.select_option('select[name="__status"]', "2")
    page.click(f"#{button}")
    page.wait_for_load_state()


def test_coordinator_enters_a_complete_case(stack, page):
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    page.fill('input[name="username"]', "coordinator-mil")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"], input[type="submit"]')
    expect(page).to_have_url(re.compile(r"/records/$"))
    page.click("#add-record")
    expect(page).to_have_url(re.compile(r"/records/MIL-0001/enrolment/1/$"))

    # Enrolment: the "not eligible" notice appears only when an inclusion criterion fails.
    radio(page, "sex", "2")
    page.fill('input[name="year_of_birth"]', "1960")
    expect(field(page, "not_eligible")).to_be_hidden()
    radio(page, "kit_negative", "0")
    expect(field(page, "not_eligible")).to_be_visible()
    radio(page, "kit_negative", "1")
    expect(field(page, "not_eligible")).to_be_hidden()
    radio(page, "expert_review_confirmed", "1")
    radio(page, "dx_in_study_period", "1")
    complete_and(page, "save-next")
    expect(page).to_have_url(re.compile(r"/diagnosis_pathology/1/$"))

    # Diagnosis: keyboard only, "Today" fills the date in the coordinator's format.
    page.focus('input[name="date_dx"]')
    page.keyboard.press("Tab")  # the Today button (the field's tools menu comes next)
    page.keyboard.press("Enter")
    today = page.evaluate(
        "() => { const d = new Date(); const p = n => String(n).padStart(2, '0');"
        " return p(d.getDate()) + '/' + p(d.getMonth() + 1) + '/' +"
        " d.getFullYear(); }"
    )
    expect(page.locator('input[name="date_dx"]')).to_have_value(today)
    # The review date shows only once the expert review is confirmed.
    page.fill('input[name="date_dx"]', "04/03/2010")
    page.select_option('select[name="site_of_origin"]', "3")
    page.fill('input[name="tumour_size_mm"]', "80")
    radio(page, "fnclcc_grade", "3")
    page.fill('input[name="mitotic_count"]', "12")
    field(page, "mitotic_count").locator("summary").click()  # the field's tools menu
    field(page, "mitotic_count").locator('.registry-code-button[data-code="UNK"]').click()
    expect(page.locator('input[name="mitotic_count"]')).to_have_value("")
    expect(page.locator('input[name="mitotic_count__missing"]')).to_have_value("UNK")
    radio(page, "kit_cd117", "2")
    expect(field(page, "path_review_date")).to_be_hidden()
    radio(page, "path_review_confirmed", "1")
    expect(field(page, "path_review_date")).to_be_visible()
    page.fill('input[name="path_review_date"]', "01/04/2010")
    complete_and(page, "save-next")
    expect(page).to_have_url(re.compile(r"/stage/1/$"))

    radio(page, "stage_dx", "3")
    expect(field(page, "metastatic_sites")).to_be_visible()
    radio(page, "stage_dx", "1")
    expect(field(page, "metastatic_sites")).to_be_hidden()
    complete_and(page, "save-next")
    expect(page).to_have_url(re.compile(r"/primary_surgery/1/$"))

    # Surgery: "No" hides the date; a typed date makes the browser ask before clearing it.
    radio(page, "surgery_done", "0")
    expect(field(page, "surgery_date")).to_be_hidden()
    radio(page, "surgery_done", "1")
    expect(field(page, "surgery_date")).to_be_visible()
    page.fill('input[name="surgery_date"]', "31/02/2010")  # no such day
    page.fill('input[name="surgery_procedure"]', "Segmental small-bowel resection")
    page.dispatch_event('input[name="surgery_date"]', "change")
    page.dialog_answers.append(False)  # cancel: the change is undone, the date kept
    page.locator('input[name="surgery_done"][value="0"]').click()
    assert page.dialogs and "Date of surgery" in page.dialogs[-1]  # the label, not the name
    expect(page.locator('input[name="surgery_done"][value="1"]')).to_be_checked()
    expect(field(page, "surgery_date")).to_be_visible()
    expect(page.locator('input[name="surgery_date"]')).to_have_value("31/02/2010")
    radio(page, "margins", "0")
    radio(page, "rupture", "0")
    complete_and(page, "save-stay")
    # Refused: the error sits beside the field and everything typed is still there.
    expect(page.locator("#form-errors")).to_be_visible()
    expect(field(page, "surgery_date")).to_contain_text("not a real calendar date")
    expect(page.locator('input[name="surgery_date"]')).to_have_value("31/02/2010")
    expect(page.locator('input[name="surgery_procedure"]')).to_have_value(
        "Segmental small-bowel resection"
    )
    expect(page.locator('input[name="margins"][value="0"]')).to_be_checked()
    page.fill('input[name="surgery_date"]', "20/03/2010")
    complete_and(page, "save-next")
    expect(page).to_have_url(re.compile(r"/systemic_therapy/1/\?ask=1$"))  # repeating: asked

    page.click('nav[aria-label="Instruments"] >> text=Radiotherapy')
    radio(page, "rt_given", "1")
    expect(field(page, "rt_dose_gy")).to_be_visible()
    # Leaving with unsaved changes asks first; staying keeps the input.
    page.dialog_answers.append(False)
    page.click('nav[aria-label="Instruments"] >> text=Follow Up', no_wait_after=True)
    page.wait_for_timeout(300)
    expect(page).to_have_url(re.compile(r"/radiotherapy/1/$"))
    expect(page.locator('input[name="rt_given"][value="1"]')).to_be_checked()
    radio(page, "rt_given", "0")
    expect(field(page, "rt_dose_gy")).to_be_hidden()
    complete_and(page, "save-next")
    expect(page).to_have_url(re.compile(r"/relapse/1/\?ask=1$"))

    # Follow-up: "Dead" shows the death fields; the months of follow-up are computed live.
    page.click('nav[aria-label="Instruments"] >> text=Follow Up')
    expect(field(page, "death_date")).to_be_hidden()
    page.fill('input[name="last_contact_date"]', "05/05/2015")
    page.dispatch_event('input[name="last_contact_date"]', "change")
    expect(page.locator('input[name="followup_months"]')).to_have_value("62")
    radio(page, "vital_status", "0")
    expect(field(page, "death_date")).to_be_visible()
    expect(field(page, "death_cause")).to_be_visible()
    page.fill('input[name="death_date"]', "05/05/2015")
    radio(page, "death_cause", "1")
    radio(page, "disease_status_last", "3")
    complete_and(page, "save-exit")
    expect(page).to_have_url(re.compile(r"/records/MIL-0001/$"))
    expect(page.locator("text=Complete")).to_have_count(6)

    stored = json.loads(stack.shell(STATUSES).strip().splitlines()[-1])
    singles = [
        "enrolment",
        "diagnosis_pathology",
        "stage",
        "primary_surgery",
        "radiotherapy",
        "follow_up",
    ]
    assert {name: stored[name][0] for name in singles} == dict.fromkeys(singles, 2)
    assert stored["primary_surgery"][1]["surgery_date"] == "2010-03-20"
    assert stored["follow_up"][1]["death_date"] == "2015-05-05"
    assert stored["follow_up"][1]["followup_months"] == "62"  # the server agrees with the page
    assert stored["stage"][1]["metastatic_sites"] == []
    assert stored["diagnosis_pathology"][1]["mitotic_count"] == "UNK"


def tab_to(page, selector: str, limit: int = 120) -> None:
    """Press Tab until the element matching `selector` has the focus (keyboard only)."""
    for _ in range(limit):
        if page.evaluate(f"document.activeElement.matches({json.dumps(selector)})"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def test_a_form_can_be_filled_and_saved_with_the_keyboard_only(stack, page):
    page.goto("/accounts/login/")
    tab_to(page, 'input[name="username"]')
    page.keyboard.type("coordinator-mil")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/records/$"))

    tab_to(page, "#add-record")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/records/MIL-\d+/enrolment/1/$"))
    record_id = re.search(r"/records/(MIL-\d+)/", page.url).group(1)

    page.goto(f"/records/{record_id}/stage/1/")
    tab_to(page, 'input[name="stage_dx"]')
    page.keyboard.press("Space")  # Localized
    page.keyboard.press("ArrowDown")  # Locally advanced
    page.keyboard.press("ArrowDown")  # Metastatic: the metastatic sites appear
    tab_to(page, 'input[name="metastatic_sites"]')
    page.keyboard.press("Space")  # Liver
    tab_to(page, 'select[name="__status"]')
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # Complete
    tab_to(page, "#save-stay")
    page.keyboard.press("Enter")
    page.wait_for_load_state()

    saved = json.loads(stack.shell(STATUSES.replace("MIL-0001", record_id)).strip())
    status, data = saved["stage"]
    assert status == 2
    assert data["stage_dx"] == "3" and data["metastatic_sites"] == ["1"]
