"""content=record import: REDCap flat rows, validated exactly like the forms
(registry.entry.clean_instrument), checked as a whole before anything is written (any error:
nothing is written), then written in short batches (registry.api.import_batches).

A record id names its centre (MIL-0007): a new record is created only in a centre the user can
edit, and only as that centre's next id (generateNextRecordName) or with forceAutoNumber, which
allocates the next id of the user's centre. Errors come back as REDCap gives them: one line per
problem, "record","field","value","message".
"""

from __future__ import annotations

import csv
import io
import json

from registry import csv_safety
from registry.exports.columns import REPEAT_INSTANCE, REPEAT_INSTRUMENT, export_columns
from registry.exports.options import ExportOptions
from registry.hostile_input import (
    MAX_CELL_CHARS,
    MAX_JSON_DEPTH,
    describe_problem,
    json_nesting_depth,
    printable_name,
)
from registry.models import DictionaryVersion
from registry.services.dictionary import current_dictionary_version

from .import_batches import ImportWriteError, plan_import, write_import
from .import_rows import RecordImport, Target
from .params import Params
from .responses import ApiError

IGNORED_COLUMNS = {"redcap_data_access_group", "registry_lock_status", "redcap_event_name"}
MAX_INSTANCE = 2**31 - 1  # InstrumentData.instance is a PostgreSQL integer
DATE_ORDERS = {"YMD": "ymd", "MDY": "mdy", "DMY": "dmy"}


def parse_data(params: Params) -> list[dict]:
    fmt = params.choice("format", ("json", "csv", "xml"), "xml")
    text = params.get("data")
    if not text:
        raise ApiError("No data were provided (the 'data' parameter is empty)")
    if fmt == "json":
        if json_nesting_depth(text) > MAX_JSON_DEPTH:
            raise ApiError(f"The JSON data are nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ApiError(f"The data are not valid JSON: {exc}") from None
        if isinstance(rows, dict):
            rows = [rows]
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ApiError("The JSON data must be a list of objects (one per row)")
        parsed = [{str(k): _text(v) for k, v in row.items()} for row in rows]
        first_row = 1
    elif fmt == "csv":
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        try:
            parsed = [
                {k: csv_safety.unguard(v or "") for k, v in row.items() if k is not None}
                for row in reader
            ]
        except csv.Error as exc:
            raise ApiError(f"The CSV data cannot be read (line {reader.line_num}): {exc}") from None
        first_row = 2  # the header is row 1, as a spreadsheet shows it
    else:
        raise ApiError("Import in xml format is not supported by this registry; use json or csv")
    errors = [e for n, row in enumerate(parsed, start=first_row) for e in _hostile_cells(n, row)]
    if errors:
        raise ApiError(_summary(errors), details=errors)
    return parsed


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


def _text(value) -> str | list:
    if value is None:
        return ""
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


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


def import_records(user, params: Params, *, import_tool: bool = False) -> dict:
    """Returns {"count", "ids", "auto_ids"}; raises ApiError with per-row details.
    ``import_tool``: the web Data Import Tool, where data managers may import into every centre
    (REDCap's separate right); through the API only site staff import, into their own centre."""
    version = current_dictionary_version()
    rows = parse_data(params)
    overwrite = params.choice("overwriteBehavior", ("normal", "overwrite"), "normal")
    date_order = DATE_ORDERS.get(params.get("dateFormat", "YMD").upper(), "ymd")
    force_auto = params.flag("forceAutoNumber")
    reason = params.get("reason") or "Imported through the API"
    mapping = column_map(version)
    record_field = version.dictionary.record_id_field.name
    calc = {f.name for f in version.dictionary.fields if f.field_type == "calc"}
    known = set(mapping) | {record_field, REPEAT_INSTRUMENT, REPEAT_INSTANCE} | IGNORED_COLUMNS
    unknown = sorted({k for row in rows for k in row} - known - calc)
    if unknown:
        raise ApiError(
            "The following fields were not found in the project as real data "
            f"fields: {', '.join(unknown)}"
        )
    repeating = set(version.repeating_instruments)
    errors: list[dict] = []
    imports: dict[str, RecordImport] = {}
    for row in rows:
        rid = str(row.get(record_field, "")).strip()
        if not rid:
            errors.append(_err("", record_field, "", "The record id is missing"))
            continue
        form = str(row.get(REPEAT_INSTRUMENT, "") or "").strip()
        instance = str(row.get(REPEAT_INSTANCE, "") or "").strip()
        if form and form not in repeating:
            errors.append(_err(rid, REPEAT_INSTRUMENT, form, "Not a repeating instrument"))
            continue
        if form and not _instance_ok(instance):
            errors.append(
                _err(
                    rid,
                    REPEAT_INSTANCE,
                    instance,
                    f"The repeat instance must be a whole number from 1 to {MAX_INSTANCE}",
                )
            )
            continue
        target = imports.setdefault(rid, RecordImport(rid))
        for name, value in row.items():
            if name not in mapping:
                continue
            kind, col_form, field_name, code = mapping[name]
            if (col_form in repeating) != bool(form) or (form and col_form != form):
                if value not in ("", []):
                    where = f"instrument {form}" if form else "a non-repeating row"
                    errors.append(_err(rid, name, value, f"This field cannot be set in {where}"))
                continue
            key = Target(col_form, instance if form else "1")
            target.add(key, kind, field_name, code, value, overwrite=overwrite == "overwrite")
    if errors:
        raise ApiError(_summary(errors), details=errors)
    plans, errors = plan_import(
        user,
        imports,
        version,
        force_auto=force_auto,
        date_order=date_order,
        import_tool=import_tool,
    )
    if errors:
        raise ApiError(_summary(errors), details=errors)
    try:
        return write_import(user, plans, version, reason=reason)
    except ImportWriteError as exc:
        raise ApiError(_summary(exc.errors, written=exc.written), details=exc.errors) from None


def _instance_ok(instance: str) -> bool:
    if instance == "new":
        return True
    return instance.isascii() and instance.isdigit() and 0 < int(instance) <= MAX_INSTANCE


def _err(record: str, field: str, value, message: str) -> dict:
    if isinstance(value, list):
        value = ",".join(value)
    return {"record": record, "field_name": field, "value": str(value), "message": message}


def _summary(errors: list[dict], *, written: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv_safety.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for e in errors:
        writer.writerow([e["record"], e["field_name"], e["value"], e["message"]])
    if written:  # a later batch met a change made while the import ran (import_batches)
        head = (
            f"There were errors in a later batch; {len(written)} records were imported before "
            f"it ({', '.join(written[:20])}{', ...' if len(written) > 20 else ''}), the rest "
            "was not.\n"
        )
    else:
        head = "There were errors; nothing was imported.\n"
    return head + out.getvalue().rstrip("\n")
