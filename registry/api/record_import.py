"""content=record import: REDCap flat rows, validated exactly like the forms
(registry.entry.clean_instrument), checked as a whole before anything is written (any error:
nothing is written), then written in short batches (registry.api.import_batches).

The rows are read twice and never all held (registry.api.import_source): first every row is
checked on its own and each record id's last row noted in a PostgreSQL temporary table
(registry.api.import_ids); then the rows are read again, each record is cleaned once its last
row has been read and only its plan is kept, on disk, until the write. The ids written are
spooled for the answer too.

A record id names its centre (MIL-0007): a new record is created only in a centre the user can
edit, and only as that centre's next id (generateNextRecordName) or with forceAutoNumber, which
allocates the next id of the user's centre. Errors come back as REDCap gives them: one line per
problem, "record","field","value","message".
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator

from django.db import transaction

from registry import csv_safety
from registry.exports.columns import REPEAT_INSTANCE, REPEAT_INSTRUMENT, export_columns
from registry.exports.options import ExportOptions
from registry.hostile_input import MAX_CELL_CHARS, describe_problem, printable_name
from registry.models import DictionaryVersion
from registry.services.dictionary import current_dictionary_version

from .import_batches import BatchGuard, ImportWriteError, plan_import, write_import
from .import_ids import IdIndex, WrittenIds, listed_ids
from .import_rows import RecordImport, Target
from .import_source import ImportSource
from .params import Params
from .responses import ApiError

IGNORED_COLUMNS = {"redcap_data_access_group", "registry_lock_status", "redcap_event_name"}
MAX_INSTANCE = 2**31 - 1  # InstrumentData.instance is a PostgreSQL integer
DATE_ORDERS = {"YMD": "ymd", "MDY": "mdy", "DMY": "dmy"}
PLAN_GROUP_RECORDS = 200  # records cleaned per look-up of their stored rows


def parse_data(params: Params) -> list[dict]:
    """Every row of ``data`` at once, checked for hostile cells (small imports: the dictionary,
    repeating-instrument settings)."""
    fmt = params.choice("format", ("json", "csv", "xml"), "xml")
    parsed, errors = [], []
    for number, row in ImportSource(fmt, _data(params)).rows():
        parsed.append(row)
        errors += _hostile_cells(number, row)
    if errors:
        raise ApiError(_summary(errors), details=errors)
    return parsed


def _data(params: Params):
    upload = params.upload("data")
    return upload if upload is not None else params.get("data")


def _hostile_cells(number: int, row: dict) -> list[dict]:
    """Each name and value holding what registry.hostile_input refuses, by row and field; the
    value itself is never repeated."""
    rid = row.get("record_id")
    rid = rid if isinstance(rid, str) and describe_problem(rid, multiline=False) is None else ""
    errors = []
    for name, value in row.items():
        problem = describe_problem(name, multiline=False)
        if problem:
            errors.append(
                _err(
                    rid,
                    printable_name(name),
                    "",
                    f"Row {number}: the field name contains {problem}",
                )
            )
            continue
        for text in value if isinstance(value, list) else [value]:
            problem = describe_problem(text)
            if problem is None and len(text) > MAX_CELL_CHARS:
                problem = f"more than {MAX_CELL_CHARS} characters"
            if problem:
                errors.append(_err(rid, name, "", f"Row {number}: the value contains {problem}"))
                break
    return errors


def column_map(version: DictionaryVersion) -> dict[str, tuple[str, str, str]]:
    """Import column -> (kind, form, field or checkbox field, code)."""
    mapping: dict[str, tuple[str, str, str]] = {}
    options = ExportOptions(locked_only=True, data_access_group=False)
    for c in export_columns(version, options):
        if c.kind == "value":
            mapping[c.name] = ("value", c.form, c.name, "")
        elif c.kind == "checkbox":
            mapping[c.name] = ("checkbox", c.form, c.field.name, c.code)
        elif c.kind == "complete":
            mapping[c.name] = ("complete", c.form, "", "")
    # Checkbox base names: "1,3" style values.
    for f in version.dictionary.fields:
        if f.is_checkbox:
            mapping.setdefault(f.name, ("value", f.form, f.name, ""))
    return mapping


class PartlyImported(ApiError):
    """A later batch met a change made after the plan: ``count`` records were written before it
    (the first of them in ``first``), the rest was not."""

    def __init__(self, message: str, *, details: list, written: WrittenIds) -> None:
        super().__init__(message, details=details)
        self.count = written.count
        self.first = list(written.first)


def import_records(
    user,
    params: Params,
    *,
    import_tool: bool = False,
    version: DictionaryVersion | None = None,
    guard: BatchGuard | None = None,
) -> WrittenIds:
    """The records written (the caller closes it); raises ApiError with per-row details
    (PartlyImported once a batch has been written).
    ``import_tool``: the web Data Import Tool, where data managers may import into every centre
    (REDCap's separate right); through the API only site staff import, into their own centre.
    ``version``: the dictionary version to import against (default: the current one);
    ``guard``: run first in every batch (import_batches.BatchGuard)."""
    version = version or current_dictionary_version()
    fmt = params.choice("format", ("json", "csv", "xml"), "xml")
    source = ImportSource(fmt, _data(params))
    layout = _Layout(version)
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        # Planned in one transaction (reads only), so that the id index's temporary tables
        # live on one server connection, behind a pooler in transaction mode too.
        with transaction.atomic(), IdIndex() as index:
            reason = _plan(user, params, version, source, layout, index, import_tool, spool)
        written = WrittenIds()
        try:
            write_import(user, spool, version, reason=reason, written=written, guard=guard)
        except BaseException as exc:
            written.file.close()
            if isinstance(exc, ImportWriteError):
                summary = _summary(exc.errors, written=exc.written)
                if exc.written.count:
                    raise PartlyImported(summary, details=exc.errors, written=exc.written) from None
                raise ApiError(summary, details=exc.errors) from None
            raise
        return written


def _plan(
    user,
    params: Params,
    version: DictionaryVersion,
    source: ImportSource,
    layout: _Layout,
    index: IdIndex,
    import_tool: bool,
    spool,
) -> str:
    """Check every row, resolve every id and spool the plan; returns the audit reason."""
    hostile, unknown, errors = _check_rows(source, layout, index)
    if hostile:
        raise ApiError(_summary(hostile), details=hostile)
    overwrite = params.choice("overwriteBehavior", ("normal", "overwrite"), "normal")
    date_order = DATE_ORDERS.get(params.get("dateFormat", "YMD").upper(), "ymd")
    force_auto = params.flag("forceAutoNumber")
    if unknown:
        raise ApiError(
            "The following fields were not found in the project as real data "
            f"fields: {', '.join(sorted(unknown))}"
        )
    if errors:
        raise ApiError(_summary(errors), details=errors)
    errors = plan_import(
        user,
        index,
        _complete_records(source, layout, index, overwrite=overwrite == "overwrite"),
        version,
        spool=spool,
        force_auto=force_auto,
        date_order=date_order,
        import_tool=import_tool,
    )
    if errors:
        raise ApiError(_summary(errors), details=errors)
    return params.get("reason") or "Imported through the API"


class _Layout:
    """How the columns of a row map to the dictionary's instruments and fields."""

    def __init__(self, version: DictionaryVersion) -> None:
        self.mapping = column_map(version)
        self.record_field = version.dictionary.record_id_field.name
        calc = {f.name for f in version.dictionary.fields if f.field_type == "calc"}
        self.known = (
            set(self.mapping)
            | {self.record_field, REPEAT_INSTRUMENT, REPEAT_INSTANCE}
            | IGNORED_COLUMNS
            | calc
        )
        self.repeating = set(version.repeating_instruments)

    def values(self, row: dict, errors: list[dict]) -> tuple[str, list[tuple]] | None:
        """The row's record id and its (target, kind, field, code, value) cells, or None (the
        row's errors added to ``errors``)."""
        rid = str(row.get(self.record_field, "")).strip()
        if not rid:
            errors.append(_err("", self.record_field, "", "The record id is missing"))
            return None
        form = str(row.get(REPEAT_INSTRUMENT, "") or "").strip()
        instance = str(row.get(REPEAT_INSTANCE, "") or "").strip()
        if form and form not in self.repeating:
            errors.append(_err(rid, REPEAT_INSTRUMENT, form, "Not a repeating instrument"))
            return None
        if form and not _instance_ok(instance):
            errors.append(
                _err(
                    rid,
                    REPEAT_INSTANCE,
                    instance,
                    f"The repeat instance must be a whole number from 1 to {MAX_INSTANCE}",
                )
            )
            return None
        cells = []
        for name, value in row.items():
            if name not in self.mapping:
                continue
            kind, col_form, field_name, code = self.mapping[name]
            if (col_form in self.repeating) != bool(form) or (form and col_form != form):
                if value not in ("", []):
                    where = f"instrument {form}" if form else "a non-repeating row"
                    errors.append(_err(rid, name, value, f"This field cannot be set in {where}"))
                continue
            key = Target(col_form, instance if form else "1")
            cells.append((key, kind, field_name, code, value))
        return rid, cells


def _check_rows(source: ImportSource, layout: _Layout, index: IdIndex):
    """The first reading: (hostile cells, unknown columns, row errors); each record id's rows
    noted in ``index``. Once a kind of error is found, the kinds reported after it are no
    longer looked for."""
    hostile: list[dict] = []
    unknown: set[str] = set()
    errors: list[dict] = []
    for number, row in source.rows():
        hostile += _hostile_cells(number, row)
        if hostile:
            continue
        unknown.update(name for name in row if name not in layout.known)
        if unknown:
            continue
        found = layout.values(row, errors)
        if found is not None:
            index.note(found[0], number)
    index.finish()
    return hostile, unknown, errors


def _complete_records(
    source: ImportSource, layout: _Layout, index: IdIndex, *, overwrite: bool
) -> Iterator[list[RecordImport]]:
    """The second reading: the records, a group at a time, each once its last row is read."""
    reading: dict[str, RecordImport] = {}
    done: list[RecordImport] = []
    last_rows = index.last_rows()  # increasing, as the rows are read
    next_last = next(last_rows, None)
    for number, row in source.rows():
        found = layout.values(row, [])
        if found is None:
            continue
        rid, cells = found
        target = reading.setdefault(rid, RecordImport(rid))
        for key, kind, field_name, code, value in cells:
            target.add(key, kind, field_name, code, value, overwrite=overwrite)
        if number == next_last:
            next_last = next(last_rows, None)
            done.append(reading.pop(rid))
            if len(done) >= PLAN_GROUP_RECORDS:
                yield done
                done = []
    if done:
        yield done


def _instance_ok(instance: str) -> bool:
    if instance == "new":
        return True
    return instance.isascii() and instance.isdigit() and 0 < int(instance) <= MAX_INSTANCE


def _err(record: str, field: str, value, message: str) -> dict:
    if isinstance(value, list):
        value = ",".join(value)
    return {"record": record, "field_name": field, "value": str(value), "message": message}


def _summary(errors: list[dict], *, written: WrittenIds | None = None) -> str:
    out = io.StringIO()
    writer = csv_safety.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for e in errors:
        writer.writerow([e["record"], e["field_name"], e["value"], e["message"]])
    if written is not None and written.count:
        # a later batch met a change made while the import ran (import_batches)
        head = (
            f"There were errors in a later batch; {written.count} records were imported before "
            f"it ({listed_ids(written.first, written.count)}), the rest was not.\n"
        )
    else:
        head = "There were errors; nothing was imported.\n"
    return head + out.getvalue().rstrip("\n")
