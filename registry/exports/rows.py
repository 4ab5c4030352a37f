"""One record -> its flat rows: the base row (non-repeating forms), then one row per instance of
each repeating form, in dictionary order, as REDCap exports them."""

from __future__ import annotations

from itertools import repeat
from operator import contains

from registry.logic import LogicSyntaxError, is_true
from registry.models import DictionaryVersion

from .columns import CellWriter, Column, export_columns
from .deid import RecordDeidentifier, pseudonym
from .options import ExportOptions
from .stream import RecordBundle


class RowBuilder:
    def __init__(self, version: DictionaryVersion, options: ExportOptions) -> None:
        self.version = version
        self.options = options
        self.columns: list[Column] = export_columns(version, options)
        self.cells = CellWriter(version, options)
        self.repeating = set(version.repeating_instruments)
        self.form_order = {form: i for i, form in enumerate(version.dictionary.form_names)}
        self.date_fields = [
            f
            for c in self.columns
            if (f := c.field) is not None and c.kind == "value" and (f.is_date or f.is_datetime)
        ]
        self.missing_codes = version.missing_code_values
        self.logic = options.filter_logic.strip()
        self._plans: dict[str | None, tuple] = {}
        self._raw: dict[str | None, tuple] = {}

    def base_values(self, bundle: RecordBundle) -> dict:
        """Non-repeating values, plus the first instance of repeating forms (for logic)."""
        values: dict = {}
        for form, instance, _status, data in sorted(bundle.rows, key=lambda r: -r[1]):
            if form not in self.repeating or instance == 1:
                values.update(data)
        return values

    def matches(self, bundle: RecordBundle) -> bool:
        if not self.logic:
            return True
        values = self.base_values(bundle)
        # The record ID is not among the stored answers; the forms' logic sees it, so must this.
        values[self.version.dictionary.record_id_field.name] = bundle.record_id
        try:
            return is_true(self.logic, values, missing_codes=self.missing_codes)
        except (LogicSyntaxError, ValueError, TypeError):
            return False

    def rows(self, bundle: RecordBundle) -> list[list[str]]:
        base: dict = {}
        statuses: dict[str, int] = {}
        repeats = []
        repeating = self.repeating
        for row in bundle.rows:
            form, _instance, status, data = row
            if form in repeating:
                repeats.append(row)
            else:
                base.update(data)
                statuses[form] = status
        deid = None
        record_id = bundle.record_id
        if self.options.deidentify:
            deid = RecordDeidentifier.for_record(
                record_id, self.options.dates, self.date_fields, base
            )
            base = deid.transform(base)
            record_id = pseudonym(record_id)
        if self.options.labels:
            out = [self._label_row(bundle, record_id, "", "", base, statuses, None)]
            if repeats:
                repeats.sort(key=lambda r: (self.form_order.get(r[0], 999), r[1]))
            for form, instance, status, data in repeats:
                values = deid.transform(data) if deid else data
                out.append(
                    self._label_row(
                        bundle, record_id, form, str(instance), values, {form: status}, form
                    )
                )
            return out
        # Raw codes: the cells the record shares (record ID, DAG, lock) once for all its rows.
        shared = [record_id, "", "", bundle.center_code.lower()]
        shared.append("locked" if bundle.is_locked else "unlocked")
        out = [self._raw_row(shared, base, statuses, None)]
        if repeats:
            repeats.sort(key=lambda r: (self.form_order.get(r[0], 999), r[1]))
        for form, instance, status, data in repeats:
            shared[1] = form
            shared[2] = str(instance)
            values = deid.transform(data) if deid else data
            out.append(self._raw_row(shared, values, {form: status}, form))
        return out

    def _plan(self, only_form: str | None) -> tuple[list, list, list, list]:
        """Which columns a row of this kind fills, grouped by kind: values, checkboxes,
        form statuses and the identifying columns (a hot loop: no per-cell kind tests)."""
        values, checkboxes, completes, other = [], [], [], []
        for i, c in enumerate(self.columns):
            if c.kind in ("value", "checkbox", "complete"):
                if not ((c.form == only_form) if only_form else (c.form not in self.repeating)):
                    continue
                if c.kind == "value":
                    values.append((i, c.name, c))
                elif c.kind == "checkbox":
                    checkboxes.append((i, c.field.name, c))
                else:
                    completes.append((i, c.form))
            else:
                other.append((i, c.kind))
        return values, checkboxes, completes, other

    def _raw_keys(self, only_form: str | None) -> tuple:
        """For raw rows: the lookup key of every column (a field name, or a key that is never
        present for a cell filled afterwards or left blank), then where the computed cells go:
        each checkbox field's codes and columns, each form status's column, and each
        identifying column with its place in the row's shared cells."""
        values, checkboxes, completes, other = self._plan(only_form)
        keys: list = [_BLANK] * len(self.columns)
        for i, name, _c in values:
            keys[i] = name
        by_field: dict[str, list[tuple[str, int]]] = {}
        for i, name, c in checkboxes:
            by_field.setdefault(name, []).append((c.code, i))
        checkbox_fields = tuple(
            (name, tuple(code for code, _i in options), _span([i for _code, i in options]))
            for name, options in by_field.items()
        )
        shared_at = tuple((i, _SHARED.get(kind, _LOCK)) for i, kind in other)
        return keys, checkbox_fields, tuple(completes), shared_at

    def _label_row(
        self,
        bundle: RecordBundle,
        record_id: str,
        repeat_form: str,
        instance: str,
        values: dict,
        statuses: dict[str, int],
        only_form: str | None,
    ) -> list[str]:
        plan = self._plans.get(only_form)
        if plan is None:
            plan = self._plans[only_form] = self._plan(only_form)
        value_cols, checkbox_cols, complete_cols, other_cols = plan
        out = [""] * len(self.columns)
        cells, get = self.cells, values.get
        for i, name, c in value_cols:
            out[i] = cells.value(c, get(name))
        for i, name, c in checkbox_cols:
            out[i] = cells.checkbox(c, get(name) or ())
        for i, form in complete_cols:
            out[i] = cells.complete(statuses.get(form))
        for i, kind in other_cols:
            if kind == "record_id":
                out[i] = record_id
            elif kind == "repeat_instrument":
                out[i] = cells.repeat_instrument(repeat_form)
            elif kind == "repeat_instance":
                out[i] = instance
            elif kind == "dag":
                out[i] = bundle.center_code.lower()
            elif kind == "lock":
                out[i] = "locked" if bundle.is_locked else "unlocked"
        return out

    def _raw_row(
        self, shared: list[str], values: dict, statuses: dict[str, int], only_form: str | None
    ) -> list:
        """Raw codes: every value cell in one C-level lookup (a missing value is an empty
        cell), then the few computed cells put in their places."""
        plan = self._raw.get(only_form)
        if plan is None:
            plan = self._raw[only_form] = self._raw_keys(only_form)
        keys, checkbox_fields, completes, shared_at = plan
        out = list(map(values.get, keys, _EMPTY))
        for name, codes, at in checkbox_fields:
            checked = values.get(name)
            if checked:
                bits = list(map(_BIT.__getitem__, map(contains, repeat(checked), codes)))
            else:
                bits = ["0"] * len(codes)
            if type(at) is slice:
                out[at] = bits
            else:
                for i, bit in zip(at, bits, strict=True):
                    out[i] = bit
        for i, form in completes:
            out[i] = _STATUS[statuses.get(form)]
        for i, at in shared_at:
            out[i] = shared[at]
        return out


def _span(indexes: list[int]) -> slice | tuple[int, ...]:
    """The columns as a slice when they are adjacent (one assignment), else as they are."""
    if indexes == list(range(indexes[0], indexes[0] + len(indexes))):
        return slice(indexes[0], indexes[0] + len(indexes))
    return tuple(indexes)


class _StatusText(dict):
    """A form status (an integer) as its cell: "0" when the form has no row."""

    def __missing__(self, status: int | None) -> str:
        return "0" if status is None else str(status)


_BLANK = object()  # a key no values dict holds: the cell is empty until filled
# Where each identifying column's cell is in the shared cells of `RowBuilder.rows`.
_SHARED = {"record_id": 0, "repeat_instrument": 1, "repeat_instance": 2, "dag": 3}
_LOCK = 4
_EMPTY = repeat("")  # the default of every lookup
_BIT = {True: "1", False: "0"}
_STATUS = _StatusText({None: "0", 0: "0", 1: "1", 2: "2"})
