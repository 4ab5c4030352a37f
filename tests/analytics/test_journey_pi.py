"""The PI's journey in a real browser: the pooled dashboard (figures inside their boxes on a
laptop and a phone), then an investigator signs one more record, and the PI sees the number of
patients grow by one. The recompute runs as in development: Celery eager, after the lock's
commit (no broker in the live stack's environment)."""

from __future__ import annotations

import json
import re

import pytest

from tests.browser_layout import (
    VIEWPORTS,
    assert_fits_everywhere,
    chromium,
    log_in,
    wait_for_figures,
)
from tests.live import live_stack

pytestmark = pytest.mark.browser

PASSWORD = "demo-password"  # settings.DEMO_PASSWORD
# One more complete MIL case, entered but not signed: the investigator signs it in the journey.
SETUP = """
import json
from centers.models import Center, User
from registry.services.dictionary import current_dictionary_version
from registry.services.records import create_record
from tests.fixtures_records import enter_case
investigator = User.objects.get(username="investigator-mil")
record = create_record(user=investigator, center=Center.objects.get(code="MIL"))
enter_case(record, investigator, current_dictionary_version())
print(json.dumps({"record": record.record_id}))
"""


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    def prepare(live):
        live.ids = json.loads(live.shell(SETUP).strip().splitlines()[-1])

    with live_stack(django_db_blocker, seeded=True, prepare=prepare) as live:
        yield live


@pytest.fixture
def browser(stack):
    with chromium() as browser:
        yield browser


def new_page(browser, stack):
    context = browser.new_context(base_url=stack.url, viewport=VIEWPORTS["laptop"])
    context.set_default_timeout(15_000)
    return context.new_page()


def patients_card(page):
    return page.locator("#headline-figures .card", has_text="Patients (locked)").locator(".fs-4")


def settled_dashboard(page) -> None:
    """The dashboard reloads itself (htmx HX-Refresh) when a newer snapshot or its details are
    ready: wait until a load has its figures in and no reload follows within a poll."""
    from playwright.sync_api import Error

    for _ in range(10):
        try:
            page.wait_for_load_state("load")
            wait_for_figures(page)
            page.wait_for_timeout(6_000)  # one freshness poll (every 5 s) without a reload
            if page.evaluate("performance.now()") > 6_000:
                return
        except Error:  # the page reloaded while it was read: read the new one
            continue
    raise AssertionError("the dashboard kept reloading")


def test_pi_sees_n_grow_by_one_after_an_investigator_locks_a_record(stack, browser):
    from playwright.sync_api import expect

    pi = new_page(browser, stack)
    log_in(pi, "pi", PASSWORD)
    pi.goto("/analytics/")
    settled_dashboard(pi)
    before = int(patients_card(pi).inner_text())
    assert before > 0
    assert_fits_everywhere(pi, "PI dashboard")
    expect(pi.locator(".km-figure svg").first).to_have_attribute("width", "100%")

    investigator = new_page(browser, stack)
    log_in(investigator, "investigator-mil", PASSWORD)
    record = stack.ids["record"]
    investigator.goto(f"/records/{record}/")
    investigator.click("text=Lock and sign…")
    expect(investigator).to_have_url(re.compile(rf"/records/{record}/lock/$"))
    assert_fits_everywhere(investigator, "lock page")
    investigator.fill('input[name="password"]', PASSWORD)
    investigator.locator('input[name="meaning"]').first.check()
    investigator.click("#sign")
    expect(investigator.locator("#lock-state")).to_contain_text("Locked")

    # The PI does nothing: the open dashboard notices the new snapshot and reloads itself.
    expect(patients_card(pi)).to_have_text(str(before + 1), timeout=120_000)
    settled_dashboard(pi)
    expect(pi.locator("#freshness")).to_contain_text(f"{before + 1} locked record")
    assert_fits_everywhere(pi, "PI dashboard after the lock")
