"""The translation catalogues: every string a template marks is in the Italian catalogue and
translated there, and the committed .mo (what Django reads; `make run` compiles nothing) says
exactly what the .po says. Neither test needs GNU gettext."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"
LANGUAGES = [code for code, _name in settings.LANGUAGES if not code.startswith("en")]
# templatize() writes each marked string as a Python literal inside gettext(...) calls.
_LITERAL = r"""u?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_CALL = re.compile(rf"\b(n?p?gettext)\(\s*({_LITERAL}(?:\s*,\s*{_LITERAL})*)", re.DOTALL)


def template_msgids() -> dict[str, set[str]]:
    """msgid -> the templates that mark it, read with Django's own template-to-gettext step."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "templates").rglob("*.html")):
        source = templatize(path.read_text("utf-8"), origin=str(path))
        for name, args in _CALL.findall(source):
            literals = ast.literal_eval(f"[{args}]")
            if name.startswith("np") or name == "pgettext":
                literals = literals[1:]  # the context is not part of the msgid
            found.setdefault(literals[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_template_that_translates_loads_i18n():
    """Django renders a template that uses {% translate %} without {% load i18n %} as an error."""
    tags = re.compile(r"\{%\s*(translate|blocktranslate|trans|blocktrans)\b")
    loads = re.compile(r"\{%\s*load\s[^%]*\bi18n\b")
    missing = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "templates").rglob("*.html"))
        if tags.search(text := path.read_text("utf-8")) and not loads.search(text)
    ]
    assert not missing, f"templates using translation tags without {{% load i18n %}}: {missing}"


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def test_template_reading_finds_what_the_templates_mark():
    msgids = template_msgids()
    assert "Record status dashboard" in msgids  # {% translate %}
    assert "Page %(number)s of %(pages)s" in msgids  # {% blocktranslate with %}
    assert "%(counter)s record" in msgids  # {% blocktranslate count %}
    assert len(msgids) > 250


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_string_is_in_the_catalogue(language):
    entries = {e.msgid for e in catalogue(language) if not e.obsolete}
    missing = {m: sorted(t) for m, t in template_msgids().items() if m not in entries}
    assert not missing, (
        f"strings marked in templates but not in locale/{language}: run "
        f"`manage.py makemessages -l {language} --no-location`, translate, compilemessages: "
        f"{missing}"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalogue_entry_is_translated(language):
    po = catalogue(language)
    untranslated = [e.msgid for e in po if not e.obsolete and not e.translated()]
    fuzzy = [e.msgid for e in po if "fuzzy" in e.flags]
    assert not untranslated and not fuzzy, {"untranslated": untranslated, "fuzzy": fuzzy}


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_survive_translation(language):
    placeholder = re.compile(r"%\([a-z_]+\)s|%%")
    for e in catalogue(language):
        if e.msgid_plural:
            assert set(placeholder.findall(e.msgstr_plural[1])) == set(
                placeholder.findall(e.msgid_plural)
            ), e.msgid
        elif e.msgstr:
            assert sorted(placeholder.findall(e.msgstr)) == sorted(placeholder.findall(e.msgid)), (
                e.msgid
            )


@pytest.mark.parametrize("language", LANGUAGES)
def test_committed_mo_matches_the_po(language):
    """Compiled by `manage.py compilemessages` after every change to the .po."""
    po = catalogue(language)
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as handle:
        mo = gettext.GNUTranslations(handle)
    compiled = dict(mo._catalog)  # noqa: SLF001 - the parsed .mo, msgid -> msgstr
    expected: dict = {}
    for e in po.translated_entries():
        key = f"{e.msgctxt}\x04{e.msgid}" if e.msgctxt else e.msgid
        if e.msgid_plural:
            for index, text in e.msgstr_plural.items():
                expected[(key, int(index))] = text
        else:
            expected[key] = e.msgstr
    compiled.pop("", None)  # the header
    assert compiled == expected, (
        f"locale/{language}/LC_MESSAGES/django.mo is stale: run `manage.py compilemessages`"
    )
    assert mo.plural(1) == 0 and mo.plural(2) == 1  # the header (Plural-Forms) was compiled
