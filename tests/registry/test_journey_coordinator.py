"""A coordinator's day and an investigator's signature, end to end in a real browser (Debian's
chromium via Playwright): a complete case from a blank record, a repeating instance created by
mistake and deleted, a soft warning seen beside its field and acknowledged, a query answered;
then the investigator reads what they sign and signs.

Every page visited is measured at 1366x900 and at a 390x844 phone: nothing may scroll
sideways (document.documentElement.scrollWidth <= window.innerWidth). Overflows are collected
along the way and asserted at the end of each journey, naming the page and the elements that
stick out, so one layout fault does not hide the rest of the journey."""

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
for username, first, last, role in [
    ("coordinator-mil", "Carla", "Rossi", Role.SITE_COORDINATOR),
    ("investigator-mil", "Ivo", "Bianchi", Role.SITE_INVESTIGATOR),
    ("monitor", "Mona", "Verdi", Role.MONITOR),
]:
    user = User.objects.create_user(username, password="{PASSWORD}", first_name=first,
                                    last_name=last)
    Membership.objects.create(
        user=user, center=center if role != Role.MONITOR else None, role=role)
import_default_dictionary()
"""
OPEN_QUERY = """
from centers.models import User
from registry.models import Record
from registry.services.queries import query_open
query = query_open(user=User.objects.get(username="monitor"),
                   record=Record.objects.get(record_id="MIL-0001"), instrument="follow_up",
                   instance=1, field="last_contact_date",
                   text="Please confirm the date of last contact against the clinic letter.")
print(query.pk)
"""
CLOSE_QUERY = """
from centers.models import User
from registry.models import Query
from registry.services.queries import query_close
query_close(user=User.objects.get(username="monitor"), query=Query.objects.get(pk={pk}),
            text="Confirmed, thank you.")
"""
STATE = """
import json
from registry.models import AuditEvent, InstrumentData, Record
record = Record.objects.get(record_id="MIL-0001")
rows = InstrumentData.objects.filter(record=record)
print(json.dumps({
    "locked": record.is_locked,
    "forms": {f"{r.instrument}#{r.instance}": [r.status, r.deleted_at is not None, r.data]
              for r in rows},
    "deleted_reason": list(AuditEvent.objects.filter(action="instance_delete")
                           .values_list("reason", flat=True)),
    "acks": list(record.acknowledgements.values_list("rule_key", "reason")),
}))
"""
VIEWPORTS = [(1366, 900), (390, 844)]
# The elements that stick out past the right edge (outermost first), to name the culprit.
OVERFLOW_JS = """() => {
  const inner = window.innerWidth;
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > inner + 1 && !(el.parentElement && out.includes(el.parentElement))) {
      out.push(el);
    }
  }
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string'
      ? '.' + el.className.trim().split(/\\s+/).slice(0, 3).join('.') : '');
  return {scroll: document.documentElement.scrollWidth, inner: inner,
          offenders: out.slice(0, 4).map(el => name(el) +
            (el.closest('nav.navbar') ? ' [in the navbar]' : ''))};
}"""


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    with live_stack(django_db_blocker, prepare=lambda live: live.shell(SETUP)) as live:
        yield live


@pytest.fixture
def overflows():
    return []


@pytest.fixture
def browser_page(stack):
    with chromium() as browser:
        # English pages (the browser's language chooses them; the Italian journey is
        # tests/registry/test_browser_italian.py).
        context = browser.new_context(
            base_url=stack.url, locale="en-GB", viewport={"width": 1366, "height": 900}
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.script_errors = errors
        yield page


def fits(page, overflows: list, where: str) -> None:
    """Measure the page at both sizes; record what scrolls sideways (asserted at the end)."""
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        measured = page.evaluate(OVERFLOW_JS)
        if measured["scroll"] > measured["inner"]:
            overflows.append(
                f"{where} at {width}x{height}: scrollWidth {measured['scroll']} > "
                f"{measured['inner']}; sticking out: {', '.join(measured['offenders'])}"
            )
    page.set_viewport_size({"width": 1366, "height": 900})


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"], input[type="submit"]')
    page.wait_for_url(re.compile(r"/records/$|/analytics/$|/$"))


def field(page, name):
    return page.locator(f'.registry-field[data-field="{name}"]')


def radio(page, name, value):
    page.locator(f'input[name="{name}"][value="{value}"]').check()


def complete_and(page, button):
    page.select_option('select[name="__status"]', "2")
    page.click(f"#{button}")
    page.wait_for_load_state()


def focused(page, selector: str) -> bool:
    return page.evaluate(f"document.activeElement.matches({json.dumps(selector)})")


def test_the_coordinator_enters_a_complete_case(stack, browser_page, overflows):
    from playwright.sync_api import expect

    page = browser_page
    log_in(page, "coordinator-mil")
    fits(page, overflows, "record status dashboard")
    page.click("#add-record")
    expect(page).to_have_url(re.compile(r"/records/MIL-0001/enrolment/1/$"))
    fits(page, overflows, "enrolment (blank)")
    radio(page, "sex", "2")
    page.fill('input[name="year_of_birth"]', "1958")
    radio(page, "kit_negative", "1")
    radio(page, "expert_review_confirmed", "1")
    radio(page, "dx_in_study_period", "1")
    complete_and(page, "save-next")
    expect(page).to_have_url(re.compile(r"/diagnosis_pathology/1/$"))
    fits(page, overflows, "diagnosis (blank)")

    # One Tab stop per field's tools; Today stays on date fields.
    page.focus('input[name="date_dx"]')
    page.keyboard.press("Tab")
    assert focused(page, "#field-date_dx .registry-today")
    page.keyboard.press("Tab")
    assert focused(page, "#field-date_dx summary")
    page.keyboard.press("Tab")
    assert focused(page, 'select[name="site_of_origin"]')
    page.fill('input[name="date_dx"]', "04/03/2010")
    page.select_option('select[name="site_of_origin"]', "3")
    page.fill('input[name="tumour_size_mm"]', "600")  # above the range's 500: a soft warning
    page.focus('input[name="tumour_size_mm"]')
    page.keyboard.press("Tab")
    assert focused(page, "#field-tumour_size_mm summary")
    page.keyboard.press("Tab")
    assert focused(page, 'input[name="fnclcc_grade"]')
    radio(page, "fnclcc_grade", "3")
    # The missing-data code from the field's menu.
    field(page, "mitotic_count").locator("summary").click()
    field(page, "mitotic_count").locator('.registry-code-button[data-code="UNK"]').click()
    expect(page.locator('input[name="mitotic_count__missing"]')).to_have_value("UNK")
    expect(field(page, "mitotic_count").locator(".registry-code-badge")).to_have_text(
        "UNK · Unknown"
    )
    radio(page, "kit_cd117", "2")
    radio(page, "path_review_confirmed", "1")
    page.fill('input[name="path_review_date"]', "01/04/2010")
    complete_and(page, "save-next")

    # Saved, but the warning is shown beside the field instead of moving on.
    expect(page).to_have_url(re.compile(r"/diagnosis_pathology/1/\?saved=next$"))
    expect(page.locator("#saved-with-warnings")).to_be_visible()
    warning = field(page, "tumour_size_mm").locator(".registry-warning")
    expect(warning).to_contain_text("600 is outside the expected range (1 to 500)")
    fits(page, overflows, "diagnosis with a warning")
    warning.locator('input[name="reason"]').fill("Giant tumour, confirmed on the pathology report")
    warning.locator(".registry-ack-button").click()
    expect(field(page, "tumour_size_mm").locator(".registry-ack-done")).to_contain_text(
        "Giant tumour, confirmed on the pathology report"
    )
    page.click("#continue")
    expect(page).to_have_url(re.compile(r"/stage/1/$"))
    fits(page, overflows, "stage")
    radio(page, "stage_dx", "1")
    complete_and(page, "save-next")
    expect(page).to_have_url(re.compile(r"/primary_surgery/1/$"))
    fits(page, overflows, "primary surgery")
    radio(page, "surgery_done", "1")
    page.fill('input[name="surgery_date"]', "20/03/2010")
    radio(page, "margins", "0")
    radio(page, "rupture", "0")
    complete_and(page, "save-next")

    # Systemic therapy repeats: asked first, and skipped (no empty instance).
    expect(page).to_have_url(re.compile(r"/systemic_therapy/1/\?ask=1$"))
    expect(page.locator("#ask-add")).to_contain_text("Add a Systemic Therapy?")
    fits(page, overflows, "add a systemic therapy?")
    page.click("#ask-add-skip")
    expect(page).to_have_url(re.compile(r"/radiotherapy/1/$"))
    fits(page, overflows, "radiotherapy")
    radio(page, "rt_given", "0")
    complete_and(page, "save-next")

    # A relapse added by mistake, then deleted with a reason.
    expect(page).to_have_url(re.compile(r"/relapse/1/\?ask=1$"))
    fits(page, overflows, "add a relapse?")
    page.click("#ask-add-yes")
    expect(page).to_have_url(re.compile(r"/relapse/1/$"))
    page.fill('input[name="relapse_date"]', "10/01/2012")
    page.click("#save-stay")
    page.wait_for_load_state()
    expect(page.locator("#form-delete")).to_be_visible()
    fits(page, overflows, "relapse #1")
    page.click("#form-delete summary")
    page.fill("#delete-reason", "Entered by mistake: this patient never relapsed")
    page.click("#delete-form")
    expect(page).to_have_url(re.compile(r"/records/MIL-0001/$"))
    expect(page.locator("main")).to_contain_text("were deleted")
    fits(page, overflows, "record home")

    page.click('a[href$="/follow_up/1/"]')
    expect(page).to_have_url(re.compile(r"/follow_up/1/$"))
    page.fill('input[name="last_contact_date"]', "05/05/2015")
    radio(page, "vital_status", "1")
    radio(page, "disease_status_last", "1")
    fits(page, overflows, "follow-up")
    complete_and(page, "save-exit")
    expect(page).to_have_url(re.compile(r"/records/MIL-0001/$"))

    # A monitor's query on the date of last contact, answered by the coordinator.
    query_id = stack.shell(OPEN_QUERY).strip().splitlines()[-1]
    page.goto("/queries/")
    fits(page, overflows, "queries")
    page.goto(f"/queries/{query_id}/")
    fits(page, overflows, "query")
    page.fill('textarea[name="text"]', "Checked: 05/05/2015 is the date of the clinic letter.")
    page.click('button[name="action"][value="answer"]')
    expect(page.locator("#query-status")).to_have_text("Answered")
    stack.shell(CLOSE_QUERY.format(pk=query_id))

    state = json.loads(stack.shell(STATE).strip().splitlines()[-1])
    forms = state["forms"]
    assert forms["relapse#1"][1] is True  # deleted, kept for the audit trail
    assert "systemic_therapy#1" not in forms  # skipped: never created empty
    assert forms["diagnosis_pathology#1"][2]["tumour_size_mm"] == "600"
    assert forms["diagnosis_pathology#1"][2]["mitotic_count"] == "UNK"
    assert state["deleted_reason"] == ["Entered by mistake: this patient never relapsed"]
    assert [key for key, _ in state["acks"]] == ["range:diagnosis_pathology:1:tumour_size_mm"]
    assert page.script_errors == []
    assert overflows == [], "pages scroll sideways:\n" + "\n".join(overflows)


def test_the_investigator_reads_what_they_sign_and_signs(stack, browser_page, overflows):
    from playwright.sync_api import expect

    page = browser_page
    log_in(page, "investigator-mil")
    page.goto("/records/MIL-0001/")
    page.click('a[href$="/lock/"]')
    expect(page).to_have_url(re.compile(r"/records/MIL-0001/lock/$"))
    summary = page.locator("#signed-summary")
    expect(summary).to_contain_text("What you are signing")
    expect(summary).to_contain_text("Tumour size (mm)")
    expect(summary).to_contain_text("600")
    expect(summary).to_contain_text("04/03/2010")
    expect(page.locator("#blockers")).to_have_count(0)
    fits(page, overflows, "lock page")
    page.fill('input[name="password"]', PASSWORD)
    page.click("#sign")
    expect(page).to_have_url(re.compile(r"/records/MIL-0001/$"))
    expect(page.locator("#lock-state")).to_contain_text("Locked")
    fits(page, overflows, "record home, locked")
    assert json.loads(stack.shell(STATE).strip().splitlines()[-1])["locked"] is True
    assert page.script_errors == []
    assert overflows == [], "pages scroll sideways:\n" + "\n".join(overflows)
