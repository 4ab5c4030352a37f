"""An Italian coordinator's journey in a real browser (Debian's chromium via Playwright), the
browser asking for Italian: log in, the record list, a new record's form with an error and a
save, the record's home. Every page is checked for English left on it: the English text of any
catalogue entry shown instead of its translation, and English words anywhere on the page (what
nobody marked for translation, or the study's dictionary without its Italian)."""

from __future__ import annotations

import re
from pathlib import Path

import polib
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
                                first_name="Carla", last_name="Rossi")
Membership.objects.create(user=user, center=center, role=Role.SITE_COORDINATOR)
import_default_dictionary()
"""
CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "it" / "LC_MESSAGES" / "django.po"
# Words of English that Italian text does not use; one of them on the page is English left over.
ENGLISH_WORDS = re.compile(
    r"\b(the|and|your|this|with|is|are|of|to|for|not|no data|save|log|record\(s\))\b", re.I
)
# Every visible text node, every option of a select, and the texts a person meets in
# attributes (tooltips, labels read aloud, placeholders).
VISIBLE_TEXT = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    if (!text || !parent || ["SCRIPT", "STYLE"].includes(parent.tagName)) continue;
    if (parent.tagName === "OPTION" || parent.checkVisibility()) texts.push(text);
  }
  for (const el of document.querySelectorAll("[title], [aria-label], [placeholder]")) {
    for (const name of ["title", "aria-label", "placeholder"]) {
      const value = el.getAttribute(name);
      if (value && value.trim()) texts.push(value.trim());
    }
  }
  return {texts, full: document.body.innerText.replace(/\\s+/g, " ")};
}"""
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


def english_patterns() -> list[tuple[str, re.Pattern]]:
    """The English text of every catalogue entry whose translation differs, as the page would
    show it (markup removed, placeholders matching any text)."""
    patterns = []
    for entry in polib.pofile(str(CATALOGUE)):
        shown = entry.msgstr or entry.msgstr_plural.get(0, "")
        for english in filter(None, (entry.msgid, entry.msgid_plural)):
            if english == shown:
                continue  # "Record", "Query", "Monitor": the same word in Italian
            plain = re.sub(r"<[^>]+>", "", english).replace("&amp;", "&").replace("%%", "%")
            parts = re.split(r"%\([a-z_]+\)s", plain.strip())
            regex = ".+?".join(re.escape(p) for p in parts)
            longest = max(parts, key=len).strip()
            if len(longest) >= 3:
                patterns.append((english, re.compile(regex)))
    return patterns


def assert_italian(page, where: str) -> None:
    seen = page.evaluate(VISIBLE_TEXT)
    texts, full = seen["texts"], seen["full"]
    left = [t for t in texts if ENGLISH_WORDS.search(t)]
    for english, pattern in english_patterns():
        if any(pattern.fullmatch(t) for t in texts):
            left.append(english)
        elif len(english.split()) >= 3 and pattern.search(full):
            left.append(english)
    assert not left, f"English left on {where}: {left}"


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    with live_stack(django_db_blocker, prepare=lambda live: live.shell(SETUP)) as live:
        yield live


@pytest.fixture
def page(stack):
    with chromium(CHROMIUM_ARGS) as browser:
        context = browser.new_context(base_url=stack.url, locale="it-IT")
        context.set_default_timeout(10_000)
        yield context.new_page()


def test_the_checker_finds_english(page):
    """The check itself: an English page fails it."""
    page.set_content(
        "<html><body><p>Record status dashboard</p><button>Salva</button></body></html>"
    )
    with pytest.raises(AssertionError, match="Record status dashboard"):
        assert_italian(page, "an English page")
    page.set_content("<html><body><p>Please check the dates</p></body></html>")
    with pytest.raises(AssertionError, match="check the dates"):
        assert_italian(page, "an unmarked English sentence")


def test_coordinator_journey_in_italian(page):
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    expect(page.locator("h1")).to_have_text("Accedi")
    assert_italian(page, "the log-in page")
    page.fill('input[name="username"]', "coordinator-mil")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_load_state()

    expect(page.locator("h1")).to_have_text("Stato dei record")
    assert_italian(page, "the record list")

    page.click("#add-record")
    page.wait_for_load_state()
    expect(page.locator("h1")).to_contain_text("Arruolamento")
    assert_italian(page, "a new record's first form")

    page.fill('input[name="year_of_birth"]', "millenovecento")
    page.click("#save-stay")
    page.wait_for_load_state()
    expect(page.locator("#form-errors")).to_contain_text("La scheda non è stata salvata")
    expect(page.locator('.registry-field[data-field="year_of_birth"]')).to_contain_text(
        "non è un numero intero"
    )
    assert_italian(page, "the form with an error")

    page.locator('input[name="sex"][value="2"]').check()
    page.fill('input[name="year_of_birth"]', "1960")
    page.click("#save-stay")
    page.wait_for_load_state()
    expect(page.locator(".alert-success")).to_contain_text("Salvata Arruolamento n. 1")
    assert_italian(page, "the saved form")

    page.click("nav[aria-label='breadcrumb'] li:nth-child(2) a")
    page.wait_for_load_state()
    expect(page.locator("h1")).to_contain_text("Record MIL-0001")
    expect(page.locator("main")).to_contain_text("Chirurgia del primitivo")
    assert_italian(page, "the record's home")
