"""The monitor's journey in a real browser: raise a query on a field, the coordinator sees it
counted in the menu, on the record's row and on the form, reads the question beside the
field's label and current value and answers; the monitor closes it and the counts go. Every
page is checked at 1366x900 and 390x844 (nothing scrolls sideways)."""

from __future__ import annotations

import json
import re

import pytest

from tests.browser_layout import VIEWPORTS, assert_fits_everywhere, chromium, log_in
from tests.live import live_stack

pytestmark = pytest.mark.browser

PASSWORD = "a-long-demo-password-2024"
SETUP = f"""
import json
from centers.models import Center, Membership, Role, User
from registry.services.dictionary import import_default_dictionary
from registry.services.records import create_record
from tests.fixtures_records import enter_case
center = Center.objects.create(code="MIL", name="Istituto Nazionale dei Tumori", city="Milano")
coordinator = User.objects.create_user("coordinator-mil", password="{PASSWORD}",
                                       first_name="Carla", last_name="Rossi")
Membership.objects.create(user=coordinator, center=center, role=Role.SITE_COORDINATOR)
monitor = User.objects.create_user("monitor", password="{PASSWORD}",
                                   first_name="Marco", last_name="Verdi")
Membership.objects.create(user=monitor, center=None, role=Role.MONITOR)
version = import_default_dictionary()
record = create_record(user=coordinator, center=center)
enter_case(record, coordinator, version)
print(json.dumps({{"record": record.record_id}}))
"""
QUERY_STATE = """
import json
from registry.models import Query
print(json.dumps([[q.field, q.status, q.messages.count()] for q in Query.objects.all()]))
"""


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    def prepare(live):
        live.ids = json.loads(live.shell(SETUP).strip().splitlines()[-1])

    with live_stack(django_db_blocker, prepare=prepare) as live:
        yield live


@pytest.fixture
def browser(stack):
    with chromium() as browser:
        yield browser


def new_page(browser, stack):
    context = browser.new_context(base_url=stack.url, viewport=VIEWPORTS["laptop"])
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


def test_monitor_raises_a_query_the_coordinator_answers_and_the_monitor_closes_it(stack, browser):
    from playwright.sync_api import expect

    record = stack.ids["record"]
    monitor = new_page(browser, stack)
    log_in(monitor, "monitor", PASSWORD)
    monitor.goto(f"/records/{record}/")
    assert_fits_everywhere(monitor, "record home (monitor)")
    monitor.click("text=Open a query")
    expect(monitor).to_have_url(re.compile(rf"/records/{record}/queries/new/$"))
    monitor.select_option('select[name="field"]', label="Primary Surgery: Date of surgery")
    monitor.fill('textarea[name="text"]', "The surgery date is 16 days after diagnosis: right?")
    assert_fits_everywhere(monitor, "open a query")
    monitor.click("text=Open query")
    expect(monitor.locator(".alert-success")).to_have_text(
        f"A query was opened on Date of surgery of {record}."
    )

    coordinator = new_page(browser, stack)
    log_in(coordinator, "coordinator-mil", PASSWORD)
    coordinator.goto("/records/")
    expect(coordinator.locator("#nav-query-count")).to_have_text("1 unresolved")
    row = coordinator.locator("#dashboard tr", has_text=record)
    expect(row.locator(".record-query-count")).to_have_text("1 unresolved query")
    assert_fits_everywhere(coordinator, "record status dashboard")

    # The form: a badge on the form in the side menu and on the field itself.
    coordinator.goto(f"/records/{record}/primary_surgery/1/")
    menu_item = coordinator.locator('nav[aria-label="Instruments"] li', has_text="Primary Surgery")
    expect(menu_item.locator(".form-query-badge")).to_have_text("1 unresolved query")
    expect(coordinator.locator("#field-surgery_date .registry-query-badge")).to_contain_text("1")
    assert_fits_everywhere(coordinator, "form with a query")

    coordinator.click("#nav-queries")
    coordinator.click("text=Date of surgery")  # the list names the field by its label
    expect(coordinator.locator("h1")).to_contain_text("Date of surgery")
    expect(coordinator.locator("#query-current-value")).to_have_text("20/03/2010")
    expect(coordinator.locator("#query-messages")).to_contain_text("16 days after diagnosis")
    expect(coordinator.locator("#query-value-history")).to_contain_text("20/03/2010")
    assert_fits_everywhere(coordinator, "query page (coordinator)")
    query_url = coordinator.url
    coordinator.fill('textarea[name="text"]', "Checked against the operating note: correct.")
    coordinator.click("button[value=answer]")
    expect(coordinator.locator("#query-status")).to_have_text("Answered")

    monitor.goto("/queries/")
    expect(monitor.locator("#nav-query-count")).to_have_text("1 unresolved")
    monitor.goto(query_url)
    expect(monitor.locator("#query-messages")).to_contain_text("operating note")
    monitor.fill('textarea[name="text"]', "Thank you.")
    monitor.click("button[value=close]")
    expect(monitor.locator("#query-status")).to_have_text("Closed")
    expect(monitor.locator("#nav-query-count")).to_have_count(0)
    assert_fits_everywhere(monitor, "closed query")

    coordinator.goto("/records/")
    expect(coordinator.locator("#nav-query-count")).to_have_count(0)
    expect(row.locator(".record-query-count")).to_have_count(0)
    state = json.loads(stack.shell(QUERY_STATE).strip().splitlines()[-1])
    assert state == [["surgery_date", "closed", 3]]
    assert not monitor.errors and not coordinator.errors
