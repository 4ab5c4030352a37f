"""Layout checks for browser tests: a page fits its window (nothing scrolls sideways) and
every figure stays inside the box that holds it. Used at a laptop's 1366x900 and a phone's
390x844 by the layout walk and the role journeys."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

VIEWPORTS = {"laptop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium(args: list[str] = CHROMIUM_ARGS) -> Iterator:
    """Debian's chromium launched through Playwright (skips when it is missing). Use it in
    function-scoped fixtures: Playwright's event loop must not be running while pytest-django
    opens a test's database transaction (live tests are django_db, see tests/conftest.py)."""
    from playwright.sync_api import sync_playwright

    from tests.tools import require_chromium

    require_chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        try:
            yield browser
        finally:
            browser.close()


# Returns a list of problems: the page's width against the window, then each figure (an <img>
# or a top-level <svg> in the main content) whose box leaves its container's box by more than
# a pixel. Icons inside text (the lock) are too small to matter and skipped.
_MEASURE = """
() => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth) {
    const wide = [...document.querySelectorAll('body *')]
      .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
      .filter(e => !e.closest('.table-responsive, .visually-hidden, .visually-hidden-focusable'))
      .slice(0, 5)
      .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                (typeof e.className === 'string' && e.className
                  ? '.' + e.className.split(' ').join('.') : ''));
    problems.push(`page scrolls sideways: scrollWidth ${doc.scrollWidth} > ${window.innerWidth}` +
                  (wide.length ? ` (widest: ${wide.join(', ')})` : ''));
  }
  const figures = [...document.querySelectorAll('main img, main svg')]
    .filter(e => !(e.tagName.toLowerCase() === 'svg' && e.parentElement.closest('svg')))
    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 40 && r.height > 40; });
  for (const fig of figures) {
    const box = fig.parentElement.closest('figure, .km-figure, .card, .col, [class*="col-"], main');
    if (!box) continue;
    const f = fig.getBoundingClientRect(), b = box.getBoundingClientRect();
    if (f.left < b.left - 1 || f.right > b.right + 1) {
      problems.push(`figure ${fig.tagName.toLowerCase()} ${Math.round(f.width)}px wide ` +
                    `leaves its container (${Math.round(b.width)}px)`);
    }
  }
  return problems;
}
"""


def layout_problems(page) -> list[str]:
    """What does not fit on the page as it is now (empty when it fits)."""
    return page.evaluate(_MEASURE)


def assert_fits(page, where: str = "") -> None:
    """No horizontal scroll, and every figure inside its container, at the current size."""
    problems = layout_problems(page)
    size = page.viewport_size or {}
    label = where or re.sub(r"^https?://[^/]+", "", page.url)
    assert not problems, f"{label} at {size.get('width')}x{size.get('height')}: " + "; ".join(
        problems
    )


def problems_everywhere(page, where: str = "") -> list[str]:
    """layout_problems at the phone and the laptop size, each named by page and size; the page
    is left at the laptop size."""
    found = []
    for size in (VIEWPORTS["phone"], VIEWPORTS["laptop"]):
        page.set_viewport_size(size)
        page.wait_for_timeout(50)  # one layout pass after the resize
        label = where or re.sub(r"^https?://[^/]+", "", page.url)
        at = f"{label} at {size['width']}x{size['height']}"
        found += [f"{at}: {problem}" for problem in layout_problems(page)]
    return found


def assert_fits_everywhere(page, where: str = "") -> None:
    """assert_fits at the laptop and the phone size; the page is left at the laptop size."""
    problems = problems_everywhere(page, where)
    assert not problems, "\n".join(problems)


def log_in(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', password)
    page.click('button[type="submit"], input[type="submit"]')
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def log_out(page) -> None:
    page.set_viewport_size(VIEWPORTS["laptop"])
    page.click("text=Log out")
    page.wait_for_url(lambda url: "/accounts/login/" in url or url.endswith("/"))


def wait_for_figures(page) -> None:
    """The dashboard draws its figures after the page loads (htmx): wait until each is in."""
    page.wait_for_function(
        "[...document.querySelectorAll('.km-figure')].every(d => d.querySelector('svg'))",
        timeout=60_000,
    )
