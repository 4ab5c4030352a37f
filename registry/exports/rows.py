"""One record -> its flat rows: the base row (non-repeating forms), then one row per instance of
each repeating form, in dictionary order, as REDCap exports them."""

from __future__ import annotations

from collections.abc import Iterator

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
        self.date_fields = [f for c in self.columns if (f := c.field) is not None
                            and c.kind == "value" and (f.is_date or f.is_datetime)]
        self.missing_codes = version.missing_code_values
        self.logic = options.filter_logic.strip()

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
        try:
            return is_true(self.logic, self.base_values(bundle), missing_codes=self.missing_codes)
        except (LogicSyntaxError, ValueError, TypeError):
            return False

    def rows(self, bundle: RecordBundle) -> Iterator[list[str]]:
        base: dict = {}
        statuses: dict[str, int] = {}
        repeats = []
        for row in bundle.rows:
            form, instance, status, data = row
            if form in self.repeating:
                repeats.append(row)
            else:
                base.update(data)
                statuses[form] = status
        deid = None
        record_id = bundle.record_id
        if self.options.deidentify:
            deid = RecordDeidentifier.for_record(record_id, self.options.dates,
                                                 self.date_fields, base)
            base = deid.transform(base)
            record_id = pseudonym(record_id)
        yield self._row(bundle, record_id, "", "", base, statuses, None)
        repeats.sort(key=lambda r: (self.form_order.get(r[0], 999), r[1]))
        for form, instance, status, data in repeats:
            values = deid.transform(data) if deid else data
            yield self._row(bundle, record_id, form, str(instance), values, {form: status}, form)

    def _row(self, bundle: RecordBundle, record_id: str, repeat_form: str, instance: str,
             values: dict, statuses: dict[str, int], only_form: str | None) -> list[str]:
        cells = self.cells
        out = []
        for c in self.columns:
            kind = c.kind
            if kind == "value":
                if (only_form is None) == (c.form in self.repeating) or (
                    only_form is not None and c.form != only_form
                ):
                    out.append("")
                else:
                    out.append(cells.value(c, values.get(c.name)))
            elif kind == "checkbox":
                if (only_form is None) == (c.form in self.repeating) or (
                    only_form is not None and c.form != only_form
                ):
                    out.append("")
                else:
                    out.append(cells.checkbox(c, values.get(c.field.name) or ()))
            elif kind == "complete":
                if (only_form is None) == (c.form in self.repeating) or (
                    only_form is not None and c.form != only_form
                ):
                    out.append("")
                else:
                    out.append(cells.complete(statuses.get(c.form)))
            elif kind == "record_id":
                out.append(record_id)
            elif kind == "repeat_instrument":
                out.append(cells.repeat_instrument(repeat_form))
            elif kind == "repeat_instance":
                out.append(instance)
            elif kind == "dag":
                out.append(bundle.center_code.lower())
            elif kind == "lock":
                out.append("locked" if bundle.is_locked else "unlocked")
        return out
