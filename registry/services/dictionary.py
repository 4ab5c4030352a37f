"""Importing data dictionaries as new versions, all-or-nothing."""

from __future__ import annotations

import hashlib

from django.db import connection, transaction
from django.utils.translation import gettext as _

from registry.audit import record_event, set_audit_context
from registry.dictionary import (
    affected_records,
    compare_dictionaries,
    gi_lms_dictionary_csv,
    gi_lms_project,
    parse_dictionary_csv,
)
from registry.models import DictionaryVersion, InstrumentData

from .dictionary_translations import carry_translations, import_default_translations
from .errors import DictionaryChangeRefused, DictionaryUnchanged

DEFAULT_ANALYSIS = "gi_lms"
# Imports take turns (the app role may not SELECT ... FOR UPDATE a table it cannot update).
IMPORT_LOCK = 727202


def current_dictionary_version() -> DictionaryVersion:
    version = DictionaryVersion.objects.current()
    if version is None:
        raise LookupError(
            _("No data dictionary has been imported yet (manage.py import_dictionary).")
        )
    return version


def import_dictionary(
    *,
    csv_text: str,
    user=None,
    project: dict | None = None,
    confirm_changes: bool = False,
    note: str = "",
) -> DictionaryVersion:
    """Parse, check against collected data, and store as the next version.

    Raises DictionaryInvalid (row/column errors), DictionaryChangeRefused (affected records) or
    DictionaryUnchanged (same fields and settings as the current version, whatever the bytes)."""
    new = parse_dictionary_csv(csv_text)
    with transaction.atomic():
        set_audit_context(user=user, reason=note)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])
        previous = DictionaryVersion.objects.order_by("-number").first()
        project = project if project is not None else (previous.project if previous else {})
        changes, affected = [], {}
        if previous is not None and _same_meaning(previous, new.to_json(), project):
            raise DictionaryUnchanged(
                _(
                    "This dictionary is identical to the current version %(number)s "
                    "(same fields and settings); no new version was created."
                )
                % {"number": previous.number},
                current=previous,
            )
        if previous is not None:
            changes = compare_dictionaries(previous.dictionary, new)
            if changes:
                affected = affected_records(
                    changes,
                    _values_by_record(),
                    missing_codes=[c["code"] for c in project.get("missing_codes", [])],
                )
            blocking = {i: recs for i, recs in affected.items() if recs}
            if blocking and not confirm_changes:
                raise DictionaryChangeRefused(
                    f"{len(blocking)} change(s) would alter collected data; "
                    "a data manager must confirm them explicitly.",
                    changes=changes,
                    affected=blocking,
                )
        version = DictionaryVersion.objects.create(
            number=(previous.number + 1) if previous else 1,
            fields=new.to_json(),
            project=project,
            analysis=previous.analysis if previous else {"profile": DEFAULT_ANALYSIS},
            source_csv=csv_text,
            sha256=hashlib.sha256(csv_text.encode("utf-8")).hexdigest(),
            note=note,
            confirmed_changes=[c.to_json() for c in changes] if confirm_changes else [],
            created_by=user if user is not None and user.pk else None,
        )
        version.refresh_from_db(fields=["content_sha256"])  # computed by the database
        if previous is not None:
            carry_translations(previous=previous, new=version)
        record_event(
            "dictionary_import",
            user=user,
            reason=note,
            details={
                "version": version.number,
                "sha256": version.sha256,
                "content_sha256": version.content_sha256,
                "fields": len(new.fields),
                "changes": [c.to_json() for c in changes],
                "confirmed": confirm_changes,
                "affected_records": {str(k): v for k, v in affected.items()},
            },
        )
    return version


def import_default_dictionary(user=None) -> DictionaryVersion:
    """The GI-LMS study dictionary and its Italian translation; does nothing if they are
    already current."""
    try:
        version = import_dictionary(
            csv_text=gi_lms_dictionary_csv(),
            user=user,
            project=gi_lms_project(),
            note="GI-LMS study dictionary",
        )
    except DictionaryUnchanged as unchanged:
        version = unchanged.current
    import_default_translations(version, user=user)
    return version


def _same_meaning(version: DictionaryVersion, fields: list[dict], project: dict) -> bool:
    """Identical means the same parsed fields and project settings: a file re-saved with other
    line endings or quoting says the same thing and must not look like a change."""
    return version.fields == fields and version.project == project


def _values_by_record() -> dict[str, dict]:
    """Every record's stored values, flattened (instances of repeating forms merged)."""
    values: dict[str, dict] = {}
    rows = InstrumentData.objects.filter(deleted_at__isnull=True).values_list(
        "record__record_id", "data"
    )
    for record_id, data in rows.iterator(chunk_size=2000):
        merged = values.setdefault(record_id, {})
        for key, value in data.items():
            if value not in ("", None, []):
                merged[key] = value
    return values
