from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.db import models


class DictionaryVersionQuerySet(models.QuerySet):
    def current(self) -> DictionaryVersion | None:
        return self.order_by("-number").first()


# "pk:number:sha256" of the current version: a request that reads a record learns in the same
# statement which (immutable, cached) version is current (Record.objects.visible_by_id).
CURRENT_KEY_SQL = (
    "SELECT v.id::text || ':' || v.number::text || ':' || v.sha256"
    " FROM registry_dictionaryversion v ORDER BY v.number DESC LIMIT 1"
)
CURRENT_ID_SQL = "SELECT v.id FROM registry_dictionaryversion v ORDER BY v.number DESC LIMIT 1"
# The one rule for which translation of a version into a language is shown: the latest upload.
# `{version}` and `{language}` are SQL expressions (a parameter, or CURRENT_ID_SQL in the record
# read, which so learns the current version's translation in the same statement).
LATEST_TRANSLATION_SQL = (
    "SELECT max(t.id) FROM registry_dictionarytranslation t"
    " WHERE t.version_id = {version} AND t.language = {language}"
)


class DictionaryVersion(models.Model):
    """One imported REDCap data dictionary. Versions are never edited, only superseded: the
    database refuses UPDATE, DELETE and TRUNCATE (migration 0008), fills content_sha256 on insert
    and records it in the audit chain, where `verify_audit` re-checks it."""

    number = models.PositiveIntegerField(unique=True)
    fields = models.JSONField(help_text="Parsed field definitions (registry.dictionary).")
    project = models.JSONField(
        default=dict, help_text="Repeating instruments, missing-data codes, title."
    )
    analysis = models.JSONField(
        default=dict, help_text="Endpoint definitions for the survival analysis."
    )
    source_csv = models.TextField()
    sha256 = models.CharField(max_length=64)
    content_sha256 = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="SHA-256 of everything the version says; set by the database.",
    )
    note = models.TextField(blank=True)
    confirmed_changes = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DictionaryVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"dictionary v{self.number}"

    @cached_property
    def dictionary(self):
        from registry.dictionary import Dictionary

        return Dictionary.from_json(self.fields)

    @property
    def repeating_instruments(self) -> list[str]:
        return list(self.project.get("repeating_instruments", []))

    @property
    def missing_codes(self) -> list[dict]:
        return list(self.project.get("missing_codes", []))

    @property
    def missing_code_values(self) -> list[str]:
        return [c["code"] for c in self.missing_codes]


class DictionaryTranslation(models.Model):
    """The dictionary's texts in one language, for one dictionary version (REDCap's
    Multi-Language Management). Uploads are kept, never edited: the latest one of a version and
    language is the one shown. Entries are registry.dictionary.translations rows as JSON."""

    # Versions are never deleted (the database refuses it, 0008): nothing to do on delete, and
    # the refusal stays the database's own.
    version = models.ForeignKey(
        DictionaryVersion, on_delete=models.DO_NOTHING, related_name="translations"
    )
    language = models.CharField(max_length=8, help_text="A code of settings.LANGUAGES, e.g. it.")
    entries = models.JSONField(default=list)
    source_csv = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["version", "language", "-pk"]
        indexes = [models.Index(fields=["version", "language"], name="dict_translation_lookup")]

    def __str__(self) -> str:
        return f"dictionary v{self.version.number} in {self.language}"

    @cached_property
    def translation_entries(self):
        from registry.dictionary.translations import TranslationEntry

        return [TranslationEntry(**e) for e in self.entries]
