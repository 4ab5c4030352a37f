"""The dictionary in other languages: importing a translation file for a dictionary version,
carrying translations to the next version, and the dictionary a person reads."""

from __future__ import annotations

import copy
import hashlib
from importlib import resources

from django.conf import settings
from django.db import transaction
from django.utils.translation import get_language

from config.prepared_statements import prepared_cursor
from registry.audit import record_event, set_audit_context
from registry.dictionary import Dictionary
from registry.dictionary.translations import (
    parse_translation_csv,
    translate_dictionary,
    translate_missing_codes,
)
from registry.models import DictionaryTranslation, DictionaryVersion, Record
from registry.models.dictionary import LATEST_TRANSLATION_SQL

DEFAULT_TRANSLATIONS = {"it": "data/gi_lms_dictionary_it.csv"}
# Translated dictionaries and codes by translation, built once per process (versions and
# uploads never change).
_TRANSLATED: dict[int, tuple[Dictionary, list[dict]]] = {}
_LATEST_TRANSLATION = LATEST_TRANSLATION_SQL.format(version="%s", language="%s")


def translation_languages() -> list[tuple[str, str]]:
    """The languages a dictionary can be translated into: every one but the base (English)."""
    return [(code, name) for code, name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def translation_language(language: str | None = None) -> str:
    """The translation to show for a page language ('' for the base text)."""
    language = (language or get_language() or "").lower()
    for code, _name in translation_languages():
        if language == code or language.split("-")[0] == code.split("-")[0]:
            return code
    return ""


def latest_translation(version: DictionaryVersion, language: str) -> DictionaryTranslation | None:
    pk = _latest_translation_pk(version, language)
    return None if pk is None else DictionaryTranslation.objects.get(pk=pk)


def _latest_translation_pk(version: DictionaryVersion, language: str) -> int | None:
    if not language:
        return None
    # Prepared once per connection: through the ORM this read cost a page in Italian about
    # half a millisecond of CPU (BENCHMARKS.md, run L).
    with prepared_cursor() as cursor:
        cursor.execute(_LATEST_TRANSLATION, [version.pk, language])
        return cursor.fetchone()[0]


def dictionary_and_missing_codes_in(
    version: DictionaryVersion, language: str | None = None, *, record: Record | None = None
) -> tuple[Dictionary, list[dict]]:
    """The version's dictionary and missing-data codes with the texts of ``language`` (default:
    the active language), the base text wherever there is no translation. Codes and logic are
    the version's own. A translation is only ever added, never changed (a new upload is a new
    row), so what one holds is built once per process; which one is the latest is one small
    read, unless ``record`` was read with it (Record.objects.visible_with_rows(language=...),
    as every form page and save is) for this version and language."""
    language = translation_language(language)
    known = getattr(record, "latest_translations", {})
    if (version.pk, language) in known:
        pk = known[(version.pk, language)]
    else:
        pk = _latest_translation_pk(version, language)
    if pk is None:
        return version.dictionary, version.missing_codes
    if pk not in _TRANSLATED:
        entries = DictionaryTranslation.objects.only("entries").get(pk=pk).translation_entries
        _TRANSLATED[pk] = (
            translate_dictionary(version.dictionary, entries),
            translate_missing_codes(version.missing_codes, entries),
        )
    dictionary, codes = _TRANSLATED[pk]
    return dictionary, [dict(code) for code in codes]


def dictionary_in(version: DictionaryVersion, language: str | None = None) -> Dictionary:
    return dictionary_and_missing_codes_in(version, language)[0]


def missing_codes_in(version: DictionaryVersion, language: str | None = None) -> list[dict]:
    return dictionary_and_missing_codes_in(version, language)[1]


def import_dictionary_translation(
    *, version: DictionaryVersion, language: str, csv_text: str, user=None, note: str = ""
) -> DictionaryTranslation:
    """Check the file against the version (DictionaryInvalid lists every problem) and keep it
    as the version's translation into ``language``; audited."""
    if language not in dict(translation_languages()):
        raise ValueError(f"not a translation language: {language!r}")
    entries = parse_translation_csv(csv_text, version.dictionary, version.missing_code_values)
    with transaction.atomic():
        set_audit_context(user=user, reason=note)
        translation = DictionaryTranslation.objects.create(
            version=version,
            language=language,
            entries=[e.to_json() for e in entries],
            source_csv=csv_text,
            sha256=hashlib.sha256(csv_text.encode("utf-8")).hexdigest(),
            note=note,
            created_by=user if user is not None and user.pk else None,
        )
        record_event(
            "dictionary_translation",
            user=user,
            reason=note,
            details={
                "version": version.number,
                "language": language,
                "sha256": translation.sha256,
                "texts": len(entries),
            },
        )
    return translation


def carry_translations(*, previous: DictionaryVersion, new: DictionaryVersion) -> None:
    """A new dictionary version keeps the previous version's translations (inside the import's
    transaction): texts of fields that are gone are dropped, new fields show the base text."""
    for language, _name in translation_languages():
        translation = latest_translation(previous, language)
        if translation is None:
            continue
        kept = [e for e in translation.translation_entries if _still_there(e, new)]
        DictionaryTranslation.objects.create(
            version=new,
            language=language,
            entries=[e.to_json() for e in kept],
            source_csv=translation.source_csv,
            sha256=translation.sha256,
            note=f"carried from dictionary version {previous.number}",
            created_by=translation.created_by,  # who wrote the texts (None: the shipped file)
        )


def _still_there(entry, version: DictionaryVersion) -> bool:
    dictionary = version.dictionary
    if entry.attribute == "missing_code_label":
        return entry.choice_code in version.missing_code_values
    if entry.attribute == "form_label":
        return entry.field_name in dictionary.form_names
    if entry.field_name not in dictionary:
        return False
    return entry.attribute != "choice_label" or (
        entry.choice_code in dictionary.field(entry.field_name).choice_map
    )


def import_default_translations(version: DictionaryVersion, user=None) -> None:
    """The GI-LMS study's own translations, for a version without them: none yet, or only the
    shipped file of an earlier release (loaded or carried by the system, not uploaded by a
    person, whose uploads are never replaced)."""
    for language, path in DEFAULT_TRANSLATIONS.items():
        if language not in dict(translation_languages()):
            continue
        text = resources.files("registry.dictionary").joinpath(path).read_text("utf-8")
        latest = latest_translation(version, language)
        if latest is not None and (
            latest.created_by_id is not None
            or latest.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
        ):
            continue
        import_dictionary_translation(
            version=version,
            language=language,
            csv_text=text,
            user=user,
            note="GI-LMS study dictionary, Italian",
        )


def version_in(version: DictionaryVersion, language: str) -> DictionaryVersion:
    """An unsaved copy of ``version`` whose dictionary and missing-data labels are in
    ``language`` (a translation code, '' for the base texts), for writers that read the
    version's labels (exports). Names and codes are the version's own."""
    if not language:
        return version
    translated = copy.copy(version)
    translated.__dict__["dictionary"] = dictionary_in(version, language)  # the cached_property
    translated.project = {**version.project, "missing_codes": missing_codes_in(version, language)}
    return translated
