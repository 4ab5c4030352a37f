"""Every main page, as each role sees it, fits a 1366x900 laptop and a 390x844 phone: nothing
scrolls sideways, figures stay in their boxes, the menu collapses behind its toggler and the
form list of a record is reachable on the phone. Debian's chromium through Playwright, on the
demo data (seed_demo), so the pages carry realistic lengths: 33 records, figures, queries."""

from __future__ import annotations

import json
import re

import pytest

from tests.browser_layout import (
    VIEWPORTS,
    assert_fits,
    chromium,
    log_in,
    problems_everywhere,
    wait_for_figures,
)
from tests.live import live_stack

pytestmark = pytest.mark.browser

PASSWORD = "demo-password"  # settings.DEMO_PASSWORD: the demo users' password
# A query on an unlocked MIL record, so every role has a query page to open.
SETUP = """
import json
from centers.models import User
from registry.models import Record
from registry.services.queries import query_open
unlocked = Record.objects.filter(center__code="MIL", is_locked=False).order_by("sequence").first()
locked = Record.objects.filter(center__code="MIL", is_locked=True).order_by("sequence").first()
query = query_open(user=User.objects.get(username="monitor"), record=unlocked,
                   instrument="diagnosis_pathology", instance=1, field="tumour_size_mm",
                   text="Please check the tumour size against the pathology report.")
print(json.dumps({"unlocked": unlocked.record_id, "locked": locked.record_id,
                  "query": query.pk}))
"""


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    def prepare(live):
        live.ids = json.loads(live.shell(SETUP).strip().splitlines()[-1])

    with live_stack(django_db_blocker, seeded=True, prepare=prepare) as live:
        yield live


@pytest.fixture(scope="module")
def browser(stack):
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(stack, browser):
    context = browser.new_context(base_url=stack.url, viewport=VIEWPORTS["laptop"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"script errors: {errors}"


def pages_of(role: str, ids: dict) -> list[str]:
    unlocked, locked, query = ids["unlocked"], ids["locked"], ids["query"]
    common = [
        "/records/",
        f"/records/{unlocked}/",
        f"/records/{locked}/",
        f"/records/{unlocked}/diagnosis_pathology/1/",
        f"/records/{locked}/follow_up/1/",
        f"/records/{unlocked}/history/",
        f"/records/{unlocked}/history/date_dx/",
        "/quality/",
        "/queries/",
        f"/queries/{query}/",
        "/audit/",
        "/exports/",
        "/profile/",
    ]
    extra = {
        "coordinator-mil": [],
        "investigator-mil": [f"/records/{unlocked}/lock/", "/records/lock/"],
        "pi": ["/analytics/", "/analytics/history/", "/analytics/progress/"],
        "datamanager": [
            "/analytics/",
            "/dictionary/",
            f"/records/{locked}/unlock/",
            f"/records/{unlocked}/queries/new/",
        ],
        "monitor": ["/analytics/", f"/records/{unlocked}/queries/new/"],
    }
    return common + extra[role]


ROLES = ["coordinator-mil", "investigator-mil", "pi", "datamanager", "monitor"]


@pytest.mark.parametrize("username", ROLES)
def test_every_main_page_fits_a_laptop_and_a_phone(stack, page, username):
    log_in(page, username, PASSWORD)
    problems = []
    for path in pages_of(username, stack.ids):
        page.set_viewport_size(VIEWPORTS["laptop"])
        response = page.goto(path)
        assert response.status < 400, f"{username} {path}: {response.status}"
        if page.locator(".km-figure").count():
            wait_for_figures(page)
        page.wait_for_load_state("networkidle")
        problems += problems_everywhere(page, f"{username} {path}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("username", ["datamanager", "pi"])
def test_the_menu_fits_and_collapses_on_a_phone(stack, page, username):
    from playwright.sync_api import expect

    log_in(page, username, PASSWORD)
    page.goto("/records/")
    log_out_button = page.get_by_role("button", name="Log out")
    # The laptop: every menu entry and Log out are on screen, no toggler.
    expect(page.locator(".navbar-toggler")).to_be_hidden()
    expect(log_out_button).to_be_visible()
    box = log_out_button.bounding_box()
    assert box["x"] + box["width"] <= VIEWPORTS["laptop"]["width"]
    # The phone: the menu folds behind the toggler and takes one line until opened.
    page.set_viewport_size(VIEWPORTS["phone"])
    expect(page.locator("#main-menu")).to_be_hidden()
    nav_height = page.locator("nav.navbar").bounding_box()["height"]
    assert nav_height < 120, f"the folded menu takes {nav_height}px of 844"
    page.click(".navbar-toggler")
    expect(log_out_button).to_be_visible()
    expect(page.locator("#main-menu >> text=Queries")).to_be_visible()
    assert_fits(page)


def test_the_form_list_is_reachable_on_a_phone(stack, page):
    from playwright.sync_api import expect

    log_in(page, "coordinator-mil", PASSWORD)
    page.set_viewport_size(VIEWPORTS["phone"])
    page.goto(f"/records/{stack.ids['unlocked']}/diagnosis_pathology/1/")
    menu = page.locator('nav[aria-label="Instruments"]')
    expect(menu).to_be_hidden()
    page.click("#form-menu-toggle")
    expect(page.locator("#form-menu")).to_have_class(re.compile(r"\bshow\b"))  # opened
    expect(menu).to_be_visible()
    assert_fits(page)
    menu.get_by_role("link", name="Follow Up").click()
    expect(page).to_have_url(
        re.compile(rf"/records/{stack.ids['unlocked']}/follow_up/1/$"), timeout=30_000
    )
    # The open query on the diagnosis form shows as a badge beside it in the list.
    page.click("#form-menu-toggle")
    expect(page.locator("#form-menu")).to_have_class(re.compile(r"\bshow\b"))
    badge = menu.locator("li", has_text="Diagnosis Pathology").locator(".form-query-badge")
    expect(badge).to_have_text("1 unresolved query")
