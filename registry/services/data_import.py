"""REDCap's Data Import Tool on the web: a CSV in the flat export layout, previewed, then applied.

Both steps run the very import the API runs (registry.api.record_import.import_records, with
the same validation, access rules and audit), so the web and the API can never disagree. The
preview runs it inside a transaction that is rolled back (its audit events outside the audit
chain) and compares every touched record before and after; the import runs it again, for real,
in short batches, only while the data are as previewed (same file, same options, same stored
rows at the same versions; data_import_apply), otherwise nothing more is written and a new
preview is shown.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field

from django.db import transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.api.import_ids import listed_ids
from registry.api.params import Params
from registry.api.record_import import (
    IGNORED_COLUMNS,
    PartlyImported,
    column_map,
    import_records,
)
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
    "ImportApplied",
    "ImportChanged",
    "ImportOptions",
    "ImportStopped",
    "ImportPreview",
    "data_import_apply",
    "data_import_preview",
    "file_sha256",
    "template_header",
]

DATE_FORMATS = ("DMY", "MDY", "YMD")
STATUS_FIELD = ""  # a change of the form status (the <form>_complete column)
Snapshot = dict[str, dict[tuple[str, int], tuple[dict, int]]]
# Per existing record, its live rows as (form, instance, row id, version), sorted.
RowVersions = dict[str, list[tuple[str, int, int, int]]]


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
    state: str = ""  # what it was computed from (_state); the import checks it still holds

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


@dataclass(frozen=True)
class ImportApplied:
    records: list[str]  # written, in the file's order
    new: int  # of them created
    changed_values: int  # as previewed


class ImportChanged(RegistryError):
    """The import would not do what was previewed (someone saved meanwhile); `preview` is the
    new preview, nothing was written."""

    def __init__(self, preview: ImportPreview, message: str = "") -> None:
        super().__init__(
            message
            or _(
                "The data changed after your preview (someone saved meanwhile, or the "
                "dictionary changed): nothing was imported. Check this new preview and import "
                "again."
            )
        )
        self.preview = preview


class ImportStopped(ImportChanged):
    """A record of the file changed while the import ran (saved or locked by someone else):
    the ``count`` records before it were imported (``first``: the first of them), the rest was
    not; `preview` shows what remains."""

    def __init__(
        self, preview: ImportPreview, count: int, first: list[str], record: str, why: str
    ) -> None:
        super().__init__(
            preview,
            _(
                "The import stopped at record %(record)s (%(why)s). %(count)s record(s) were "
                "imported before it (%(shown)s); the rest was not. The preview below shows what "
                "remains: check it and import again (what was imported shows as unchanged)."
            )
            % {"record": record, "why": why, "count": count, "shown": listed_ids(first, count)},
        )
        self.count = count
        self.first = first


def data_import_preview(*, user, csv_text: str, options: ImportOptions) -> ImportPreview:
    """What importing ``csv_text`` would change, computed by importing it and rolling back."""
    with transaction.atomic():
        set_audit_dry_run()  # other centres' saves do not wait for the preview's audit events
        preview = _run(user, csv_text, options, reason="Preview (rolled back)")
        transaction.set_rollback(True)
    return preview


def data_import_apply(
    *,
    user,
    csv_text: str,
    options: ImportOptions,
    expected_digest: str,
    expected_state: str,
    changed_values: int = 0,
    reason: str = "",
) -> ImportApplied:
    """Import what the preview with ``expected_digest`` and ``expected_state`` showed.

    The import runs in short batches (registry.api.import_batches), so that the audit chain is
    held per batch, not for the whole file, and no other centre waits for it. What is written
    is still exactly what was previewed: the preview's state (each record's stored rows and
    their versions, the dictionary version, the day) must hold when the import starts, or
    nothing is written (ImportChanged), and each batch locks its records and checks them
    against it before writing. Only a record someone else saves or locks between two batches can
    stop the import halfway (ImportStopped): the batches before it stay, and importing the same
    file again shows what they wrote as unchanged."""
    reason = reason.strip() or "Imported with the Data Import Tool"
    version = current_dictionary_version()
    record_field = version.dictionary.record_id_field.name
    rows = _rows(csv_text)
    versions = _row_versions(_existing(user, rows, record_field))
    if _state(version, versions) != expected_state:
        raise ImportChanged(data_import_preview(user=user, csv_text=csv_text, options=options))
    details = {
        "sha256": file_sha256(csv_text),
        "preview_digest": expected_digest,
        "date_format": options.date_format,
        "overwrite": options.overwrite,
        "dictionary_version": version.number,
    }
    named = list(dict.fromkeys(str(r.get(record_field) or "").strip() for r in rows))
    # Committed first: should the process die between batches, the trail shows an import
    # that started and never finished (importing the file again completes it).
    started = record_event(
        "data_import_started",
        user=user,
        reason=reason,
        details=details | {"records": named[:1000], "record_count": len(named)},
    )
    details["started_seq"] = started.seq
    params = options.as_params(csv_text, reason)
    guard = _UnchangedSincePreview(versions)
    try:
        with import_records(user, params, import_tool=True, version=version, guard=guard) as ids:
            written = list(dict.fromkeys(ids.ids()))
    except PartlyImported as exc:
        details |= {"stopped": exc.message, "records": exc.first, "imported_records": exc.count}
        record_event("data_import", user=user, reason=reason, details=details)
        preview = data_import_preview(user=user, csv_text=csv_text, options=options)
        where = exc.details[0] if exc.details else {}
        raise ImportStopped(
            preview,
            exc.count,
            exc.first,
            where.get("record", ""),
            where.get("message", "").removesuffix("."),
        ) from None
    except ApiError:
        raise ImportChanged(
            data_import_preview(user=user, csv_text=csv_text, options=options)
        ) from None
    applied = ImportApplied(written, sum(rid not in versions for rid in written), changed_values)
    details |= {
        "records": written[:1000],
        "new_records": applied.new,
        "changed_values": changed_values,
    }
    record_event("data_import", user=user, reason=reason, details=details)
    return applied


class _UnchangedSincePreview:
    """import_batches.BatchGuard: each existing record of a batch, locked against saves until
    the batch commits, must have the rows (ids and versions) the preview was computed from."""

    def __init__(self, versions: RowVersions) -> None:
        self.versions = versions

    def __call__(self, batch: list) -> list[dict]:
        errors = []
        existing = {p.record.pk: p.record.record_id for p in batch if not p.is_new}
        for rid in existing.values():
            if rid not in self.versions:
                errors.append(_changed(rid, _("it was created after your preview")))
        if errors or not existing:
            return errors
        locked = Record.objects.select_for_update(of=("self",)).filter(pk__in=existing)
        list(locked.order_by("pk").values_list("pk", flat=True))
        now = _row_versions(set(existing.values()))
        for rid in existing.values():
            if now.get(rid) != self.versions[rid]:
                errors.append(_changed(rid, _("someone saved it after your preview")))
        return errors


def _changed(rid: str, why: str) -> dict:
    return {"record": rid, "field_name": "", "value": "", "message": why}


def file_sha256(csv_text: str) -> str:
    """What names a file in the preview, its token and the audit trail."""
    return hashlib.sha256(csv_text.encode("utf-8")).hexdigest()


def template_header(version: DictionaryVersion) -> list[str]:
    """The import template: the columns the export writes, in the same order."""
    options = ExportOptions(locked_only=True, data_access_group=False)
    return [c.name for c in export_columns(version, options)]


def _run(user, csv_text: str, options: ImportOptions, *, reason: str) -> ImportPreview:
    version = current_dictionary_version()
    preview = ImportPreview(
        sha256=file_sha256(csv_text),
        options=options,
        version=version,
    )
    rows = _rows(csv_text)
    record_field = version.dictionary.record_id_field.name
    preview.problems = layout_problems(csv_text, record_field)
    if preview.problems:
        return preview
    existing = _existing(user, rows, record_field)
    before, versions = _read_rows(existing)
    preview.state = _state(version, versions)
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


def _existing(user, rows: list[dict], record_field: str) -> set[str]:
    named = {str(r.get(record_field) or "").strip() for r in rows} - {""}
    return set(
        Record.objects.visible_to(user)
        .filter(record_id__in=named)
        .values_list("record_id", flat=True)
    )


def _row_versions(record_ids: set[str]) -> RowVersions:
    return _read_rows(record_ids)[1]


def _state(version: DictionaryVersion, versions: RowVersions) -> str:
    """What a preview is computed from, besides the file and options: the stored rows of its
    records, the dictionary version, and the day (for `today` in limits and calculations)."""
    payload = [version.number, timezone.localdate().isoformat(), sorted(versions.items())]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


def _snapshot(record_ids: set[str]) -> Snapshot:
    return _read_rows(record_ids)[0]


def _read_rows(record_ids: set[str]) -> tuple[Snapshot, RowVersions]:
    """The records' live rows, values and versions from one statement (one moment)."""
    rows = InstrumentData.objects.filter(
        record__record_id__in=record_ids, deleted_at__isnull=True
    ).values_list("record__record_id", "instrument", "instance", "data", "status", "pk", "version")
    snapshot: Snapshot = {}
    versions: RowVersions = {rid: [] for rid in record_ids}
    for rid, form, instance, data, status, pk, version in rows:
        snapshot.setdefault(rid, {})[(form, instance)] = (data or {}, status)
        versions[rid].append((form, instance, pk, version))
    for found in versions.values():
        found.sort()
    return snapshot, versions


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
