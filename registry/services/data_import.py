"""REDCap's Data Import Tool on the web: a CSV in the flat export layout, previewed, then applied.

Both steps run the very import the API runs (registry.api.record_import.import_records, with
the same validation, access rules and audit), so the web and the API can never disagree. The
preview runs it inside a transaction that is rolled back and compares every touched record
before and after; the import runs it again, for real, and goes through only if the comparison
comes out exactly as previewed (same file, same options, same stored data), otherwise nothing is
written and the new preview is shown.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field

from django.db import transaction
from django.http import QueryDict

from registry.api.params import Params
from registry.api.record_import import IGNORED_COLUMNS, column_map, import_records
from registry.api.responses import ApiError
from registry.audit import record_event, set_audit_dry_run
from registry.exports.columns import REPEAT_INSTANCE, REPEAT_INSTRUMENT, export_columns
from registry.exports.options import ExportOptions
from registry.models import DictionaryVersion, InstrumentData, Record

from .data_import_problems import Problem, api_problems, layout_problems
from .dictionary import current_dictionary_version
from .errors import RegistryError

__all__ = [
    "DATE_FORMATS",
    "ImportChanged",
    "ImportOptions",
    "ImportPreview",
    "data_import_apply",
    "data_import_preview",
    "template_header",
]

DATE_FORMATS = ("DMY", "MDY", "YMD")
STATUS_FIELD = ""  # a change of the form status (the <form>_complete column)
Snapshot = dict[str, dict[tuple[str, int], tuple[dict, int]]]


@dataclass(frozen=True)
class ImportOptions:
    date_format: str = "DMY"  # how dates are written in the file
    overwrite: bool = False  # blank cells erase stored values (REDCap's "overwrite")

    def as_params(self, csv_text: str, reason: str) -> Params:
        params = QueryDict(mutable=True)
        params.update(
            {
                "format": "csv",
                "data": csv_text,
                "dateFormat": self.date_format,
                "overwriteBehavior": "overwrite" if self.overwrite else "normal",
                "reason": reason,
            }
        )
        return Params(params)


@dataclass(frozen=True)
class Change:
    form: str
    instance: int
    field: str  # STATUS_FIELD for the form status
    old: object
    new: object


@dataclass
class RecordPreview:
    record_id: str
    new: bool
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0  # values in the file equal to what is stored


@dataclass
class ImportPreview:
    sha256: str  # of the file
    options: ImportOptions
    version: DictionaryVersion
    records: list[RecordPreview] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def digest(self) -> str:
        """What the import would do, as one hash: the import applies only this."""
        payload = [
            self.sha256,
            self.options.date_format,
            self.options.overwrite,
            self.version.number,
            [
                [
                    r.record_id,
                    r.new,
                    [[c.form, c.instance, c.field, c.old, c.new] for c in r.changes],
                ]
                for r in self.records
            ],
        ]
        return hashlib.sha256(json.dumps(payload, default=str).encode()).hexdigest()


class ImportChanged(RegistryError):
    """The import would not do what was previewed (someone saved meanwhile); `preview` is the
    new preview, nothing was written."""

    def __init__(self, preview: ImportPreview) -> None:
        super().__init__(
            "The data changed after your preview (someone saved meanwhile, or the dictionary "
            "changed): nothing was imported. Check this new preview and import again."
        )
        self.preview = preview


def data_import_preview(*, user, csv_text: str, options: ImportOptions) -> ImportPreview:
    """What importing ``csv_text`` would change, computed by importing it and rolling back."""
    with transaction.atomic():
        set_audit_dry_run()  # other centres' saves do not wait for the preview's audit events
        preview = _run(user, csv_text, options, reason="Preview (rolled back)")
        transaction.set_rollback(True)
    return preview


def data_import_apply(
    *, user, csv_text: str, options: ImportOptions, expected_digest: str, reason: str = ""
) -> ImportPreview:
    """Import, all or nothing, only if it does exactly what the preview with
    ``expected_digest`` showed; raises ImportChanged otherwise (and on any problem)."""
    reason = reason.strip() or "Imported with the Data Import Tool"
    with transaction.atomic():
        preview = _run(user, csv_text, options, reason=reason)
        if not preview.ok or preview.digest != expected_digest:
            transaction.set_rollback(True)
            raise ImportChanged(preview)
        record_event(
            "data_import",
            user=user,
            reason=reason,
            details={
                "sha256": preview.sha256,
                "date_format": options.date_format,
                "overwrite": options.overwrite,
                "dictionary_version": preview.version.number,
                "records": [r.record_id for r in preview.records][:1000],
                "new_records": sum(r.new for r in preview.records),
                "changed_values": sum(len(r.changes) for r in preview.records),
            },
        )
    return preview


def template_header(version: DictionaryVersion) -> list[str]:
    """The import template: the columns the export writes, in the same order."""
    options = ExportOptions(locked_only=True, data_access_group=False)
    return [c.name for c in export_columns(version, options)]


def _run(user, csv_text: str, options: ImportOptions, *, reason: str) -> ImportPreview:
    version = current_dictionary_version()
    preview = ImportPreview(
        sha256=hashlib.sha256(csv_text.encode("utf-8")).hexdigest(),
        options=options,
        version=version,
    )
    rows = _rows(csv_text)
    record_field = version.dictionary.record_id_field.name
    preview.problems = layout_problems(csv_text, record_field)
    if preview.problems:
        return preview
    named = {str(r.get(record_field) or "").strip() for r in rows} - {""}
    existing = set(
        Record.objects.visible_to(user)
        .filter(record_id__in=named)
        .values_list("record_id", flat=True)
    )
    before = _snapshot(existing)
    try:
        with import_records(user, options.as_params(csv_text, reason), import_tool=True) as ids:
            written = list(dict.fromkeys(ids.ids()))
    except ApiError as exc:
        preview.problems = api_problems(exc, rows, record_field)
        return preview
    after = _snapshot(set(written))
    cells = _file_cells(rows, version, record_field)
    for rid in written:
        changes = _diff(before.get(rid, {}), after.get(rid, {}))
        touched = {(c.form, c.instance, c.field) for c in changes}
        unchanged = sum(1 for key in cells.get(rid, ()) if key not in touched)
        preview.records.append(RecordPreview(rid, rid not in existing, changes, unchanged))
    return preview


def _rows(csv_text: str) -> list[dict]:
    try:
        return list(csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff"))))
    except csv.Error:
        return []  # the import names the problem


def _snapshot(record_ids: set[str]) -> Snapshot:
    rows = InstrumentData.objects.filter(
        record__record_id__in=record_ids, deleted_at__isnull=True
    ).values_list("record__record_id", "instrument", "instance", "data", "status")
    snapshot: Snapshot = {}
    for rid, form, instance, data, status in rows:
        snapshot.setdefault(rid, {})[(form, instance)] = (data or {}, status)
    return snapshot


def _diff(before: dict, after: dict) -> list[Change]:
    changes = []
    for key in sorted(before.keys() | after.keys(), key=lambda k: (k[0], k[1])):
        old_data, old_status = before.get(key, ({}, None))
        new_data, new_status = after.get(key, ({}, None))
        for name in sorted(old_data.keys() | new_data.keys()):
            old, new = old_data.get(name, ""), new_data.get(name, "")
            if old != new and not (_blank(old) and _blank(new)):
                changes.append(Change(key[0], key[1], name, old, new))
        if old_status != new_status:
            changes.append(Change(key[0], key[1], STATUS_FIELD, old_status, new_status))
    return changes


def _blank(value) -> bool:
    return value in ("", None, [])


def _file_cells(rows: list[dict], version: DictionaryVersion, record_field: str) -> dict:
    """Per record, the (form, instance, field) of every non-blank cell of the file."""
    mapping = column_map(version)
    skip = {record_field, REPEAT_INSTRUMENT, REPEAT_INSTANCE} | IGNORED_COLUMNS
    cells: dict[str, set] = {}
    for row in rows:
        rid = str(row.get(record_field) or "").strip()
        instance = str(row.get(REPEAT_INSTANCE) or "").strip() or "1"
        if not instance.isdigit():
            continue
        for column, value in row.items():
            if column in skip or column not in mapping or not value:
                continue
            kind, form, name, _code = mapping[column]
            key = (form, int(instance), STATUS_FIELD if kind == "complete" else name)
            cells.setdefault(rid, set()).add(key)
    return cells
