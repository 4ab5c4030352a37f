"""A dictionary whose every text column carries script, event-handler, javascript:/data: link,
style and template payloads, opened in a real browser (Debian's chromium via Playwright) on
every page that shows dictionary text, as every role: no dialog opens, no payload runs, no
template is evaluated."""

from __future__ import annotations

import json

import pytest

from tests.browser_layout import chromium
from tests.live import live_stack
from tests.registry.hostile_dictionary import LITERAL_TEMPLATE_TEXT, PAYLOADS

pytestmark = pytest.mark.browser

PASSWORD = "a-long-demo-password-2024"
SETUP = f"""
import json
from django.conf import settings
from centers.models import Center, Membership, Role, User
from registry.dictionary import gi_lms_project
from registry.services.dictionary import import_dictionary
from registry.services.locking import SIGNATURE_MEANINGS, lock_record
from registry.services.queries import query_open
from registry.services.records import create_record
from tests.fixtures_records import enter_case
from tests.registry.hostile_dictionary import hostile_dictionary_csv

center = Center.objects.create(code="MIL", name="Istituto Nazionale dei Tumori", city="Milano")
people = {{}}
for username, role, where in [
    ("coordinator", Role.SITE_COORDINATOR, center),
    ("investigator", Role.SITE_INVESTIGATOR, center),
    ("monitor", Role.MONITOR, None),
    ("pi", Role.PRINCIPAL_INVESTIGATOR, None),
    ("data-manager", Role.DATA_MANAGER, None),
]:
    people[username] = User.objects.create_user(username, password="{PASSWORD}")
    Membership.objects.create(user=people[username], center=where, role=role)
version = import_dictionary(csv_text=hostile_dictionary_csv(), project=gi_lms_project())
records = [create_record(user=people["coordinator"], center=center) for _ in range(2)]
for record in records:
    enter_case(record, people["coordinator"], version)
lock_record(user=people["investigator"], record=records[1], password="{PASSWORD}",
            meaning=SIGNATURE_MEANINGS[0], dictionary_version=version)
query = query_open(user=people["monitor"], record=records[0], instrument="enrolment",
                   instance=1, field="sex", text="Please check the sex")
print(json.dumps({{
    "records": [r.record_id for r in records],
    "forms": version.dictionary.form_names,
    "query": query.pk,
    "secrets": [u.password for u in User.objects.all()] + [settings.SECRET_KEY],
}}))
"""
# What a payload would do if it ran: set window.__pwned or leave an element that runs code.
LIVE_IN_DOM = """() => ({
  pwned: window.__pwned === undefined ? null : String(window.__pwned),
  handlers: document.querySelectorAll('[onerror],[onload],[onclick],[onmouseover]').length,
  scripts: [...document.scripts].filter(s => s.text.includes('__pwned')).length,
  links: [...document.querySelectorAll('a[href]')].filter(
    a => /^(javascript|data|vbscript):/i.test(a.getAttribute('href').trim())).length,
  styles: [...document.querySelectorAll('[style]')].filter(
    e => /url\\(|expression\\(/i.test(e.getAttribute('style'))).length,
})"""
RESULTS: dict[str, int] = {"pages": 0, "combinations": 0, "live": 0}


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    def prepare(live):
        live.facts = json.loads(live.shell(SETUP).strip().splitlines()[-1])

    with live_stack(django_db_blocker, prepare=prepare) as live:
        yield live


@pytest.fixture(scope="module")
def report():
    yield
    print(
        f"\ndictionary text in the browser: {RESULTS['pages']} pages, "
        f"{RESULTS['combinations']} payload x page combinations rendered, "
        f"{RESULTS['live']} payloads live"
    )


@pytest.fixture
def browser(stack, report):
    """Per test: Playwright's event loop must not be running while pytest-django opens the
    test's database transaction (live tests are django_db, see tests/conftest.py)."""
    with chromium() as browser:
        yield browser


def pages_of(role: str, facts: dict) -> list[tuple[str, bool]]:
    """(path, whether the page shows the dictionary text itself) for one role."""
    unlocked, locked = facts["records"]
    forms = [
        (f"/records/{r}/{form}/1/", True) for r in (unlocked, locked) for form in facts["forms"]
    ]
    common = [
        (f"/records/{unlocked}/", False),
        (f"/records/{locked}/", False),
        (f"/records/{unlocked}/history/", False),
        (f"/records/{unlocked}/history/sex/", False),
        ("/codebook/", True),
    ]
    if role in ("monitor", "data-manager"):
        common += [
            (f"/records/{unlocked}/queries/new/?field=sex&instance=1", True),
            ("/queries/", False),
            (f"/queries/{facts['query']}/", False),
        ]
    if role in ("coordinator", "investigator", "data-manager"):
        common += [("/records/", False), ("/quality/", False)]
    if role == "investigator":
        common.append((f"/records/{unlocked}/lock/", False))
    if role == "data-manager":
        common += [("/dictionary/", False), ("/audit/", False)]
    return forms + common


@pytest.mark.parametrize("role", ["coordinator", "investigator", "monitor", "pi", "data-manager"])
def test_no_dictionary_payload_runs_for_any_role(stack, browser, role):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context(base_url=stack.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto("/accounts/login/")
    page.fill('input[name="username"]', role)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"], input[type="submit"]')
    page.wait_for_load_state()
    problems = []
    for path, shows_text in pages_of(role, stack.facts):
        try:
            response = page.goto(path, wait_until="domcontentloaded")
        except PlaywrightTimeout:  # e.g. {% debug %} evaluated in every section header
            problems.append((path, "did not load", f"{len(dialogs)} dialogs", dialogs[:3]))
            break
        assert response.status == 200, path
        text = page.inner_text("body")
        shown = text.count(LITERAL_TEMPLATE_TEXT[0])
        if shows_text:
            assert shown and all(t in text for t in LITERAL_TEMPLATE_TEXT), path
            # The sanitized links are inert: click the first few, nothing runs or navigates.
            for link in page.get_by_text("js link", exact=True).all()[:2]:
                link.click()
            assert page.url.endswith(path.split("?")[0]) or "?" in path, path
        live = page.evaluate(LIVE_IN_DOM)
        html = page.content()
        leaked = [s for s in stack.facts["secrets"] if s in html]
        if any(live.values()) or leaked or dialogs:
            problems.append((path, live, f"{len(leaked)} secrets", dialogs[:3]))
            break  # one page is proof enough; the others would only slow a failing run
        RESULTS["pages"] += 1
        RESULTS["combinations"] += shown * len(PAYLOADS)
        RESULTS["live"] += sum(bool(v) for v in live.values()) + len(dialogs)
        dialogs.clear()
    context.close()
    assert problems == []
