"""Checks that need the whole dictionary: names, forms, logic references, calc cycles."""

from __future__ import annotations

from collections.abc import Callable

from registry.logic import LogicSyntaxError, parse
from registry.logic.parser import Field, children

from .model import COLUMNS, DictionaryError, FieldDef, checkbox_export_name
from .validation_types import FieldValueError
from .values import validate_value

C_NAME, C_FORM, C_TYPE, C_CHOICES = COLUMNS[0], COLUMNS[1], COLUMNS[3], COLUMNS[5]
C_BRANCHING, C_MATRIX, C_ANNOTATION = COLUMNS[11], COLUMNS[15], COLUMNS[17]

# Names REDCap uses for its own columns in imports and exports.
RESERVED_NAMES = frozenset(
    {
        "redcap_event_name",
        "redcap_repeat_instrument",
        "redcap_repeat_instance",
        "redcap_data_access_group",
        "redcap_survey_identifier",
        "redcap_survey_timestamp",
        "redcap_survey_return_code",
        "redcap_csrf_token",
        "redcap_record_status",
    }
)

Rows = list[tuple[int, FieldDef]]
Report = Callable[[int, str, str], None]


def check_dictionary(
    rows: Rows, *, check_logic: bool = True, unusable: set[str] | frozenset[str] = frozenset()
) -> list[DictionaryError]:
    """Problems found across rows; ``check_logic`` also parses logic and @DEFAULT values.

    ``unusable`` names rows already reported as broken: references to them are not reported
    again.
    """
    errors: list[DictionaryError] = []

    def report(row: int, column: str, message: str) -> None:
        errors.append(DictionaryError(row, column, message))

    if not rows:
        return errors
    _check_record_id(rows[0], report)
    _check_names(rows, report)
    _check_forms(rows, report)
    _check_matrices(rows, report)
    if check_logic:
        _check_logic(rows, report, unusable)
        _check_defaults(rows, report)
    return errors


def _check_record_id(first: tuple[int, FieldDef], report: Report) -> None:
    row, field = first
    if field.field_type != "text":
        report(
            row,
            C_TYPE,
            f"the first field '{field.name}' is the record ID and must be a text "
            f"field, not {field.field_type}",
        )
    if field.branching_logic:
        report(row, C_BRANCHING, "the record ID field cannot have branching logic")


def _check_names(rows: Rows, report: Report) -> None:
    seen: dict[str, int] = {}
    forms = {f.form for _, f in rows}
    export_names = {
        checkbox_export_name(f.name, c.code): f.name
        for _, f in rows
        if f.is_checkbox
        for c in f.choices
    }
    for row, f in rows:
        if f.name in seen:
            report(
                row,
                C_NAME,
                f"duplicate variable name '{f.name}' (first used on row {seen[f.name]})",
            )
            continue
        seen[f.name] = row
        if f.name in RESERVED_NAMES:
            report(row, C_NAME, f"'{f.name}' is reserved by REDCap")
        elif f.name.endswith("_complete") and f.name.removesuffix("_complete") in forms:
            report(
                row,
                C_NAME,
                f"'{f.name}' clashes with the status field of form "
                f"'{f.name.removesuffix('_complete')}'",
            )
        elif f.name in export_names:
            report(
                row,
                C_NAME,
                f"'{f.name}' clashes with an export column of checkbox '{export_names[f.name]}'",
            )
        if f.is_checkbox:
            columns: dict[str, str] = {}
            for c in f.choices:
                col = checkbox_export_name(f.name, c.code)
                if col in columns:
                    report(
                        row,
                        C_CHOICES,
                        f"choice codes '{columns[col]}' and '{c.code}' both "
                        f"export as column '{col}'",
                    )
                columns[col] = c.code


def _check_forms(rows: Rows, report: Report) -> None:
    finished: set[str] = set()
    current = None
    for row, f in rows:
        if f.form != current:
            if f.form in finished:
                report(
                    row,
                    C_FORM,
                    f"the fields of form '{f.form}' are not together: it "
                    f"continues here after form '{current}'",
                )
            if current is not None:
                finished.add(current)
            current = f.form


def _check_matrices(rows: Rows, report: Report) -> None:
    first: dict[str, FieldDef] = {}
    previous_group = ""
    for row, f in rows:
        group = f.matrix_group
        if not group:
            previous_group = group
            continue
        if f.field_type not in ("radio", "checkbox"):
            report(row, C_MATRIX, f"a matrix holds radio or checkbox fields, not {f.field_type}")
        if group in first and group != previous_group:
            report(row, C_MATRIX, f"the fields of matrix group '{group}' are not together")
        lead = first.setdefault(group, f)
        if (lead.field_type, lead.choices) != (f.field_type, f.choices):
            report(
                row,
                C_MATRIX,
                f"fields of matrix group '{group}' must share the type and "
                f"choices of '{lead.name}'",
            )
        previous_group = group


def _references(expression: str) -> list[tuple[str, str | None]]:
    """(field, checkbox code or None) for every field the expression names, in order.

    Raises LogicSyntaxError when the expression does not parse.
    """
    found: list[tuple[int, str, str | None]] = []
    stack = [parse(expression)]
    while stack:
        node = stack.pop()
        if isinstance(node, Field):
            found.append((node.pos, node.name, node.code))
        stack.extend(children(node))
    return list(dict.fromkeys((name, code) for _, name, code in sorted(found)))


def _check_logic(rows: Rows, report: Report, unusable: set[str] | frozenset[str]) -> None:
    by_name = {f.name: f for _, f in reversed(rows)}
    calc_uses: dict[str, set[str]] = {}
    for row, f in rows:
        for column, expression, what in (
            (C_BRANCHING, f.branching_logic, "branching logic"),
            (C_CHOICES, f.calculation, "calculation"),
        ):
            if not expression.strip():
                continue
            try:
                refs = _references(expression)
            except LogicSyntaxError as exc:
                report(
                    row, column, f"{what} does not parse: {exc.message} at position {exc.position}"
                )
                continue
            for name, code in refs:
                if name in unusable and name not in by_name:
                    continue
                problem = _reference_problem(name, code, by_name)
                if problem:
                    report(row, column, f"{what} {problem}")
            if what == "calculation":
                calc_uses[f.name] = {name for name, _ in refs}
    _check_cycles(rows, calc_uses, report)


def _reference_problem(name: str, code: str | None, by_name: dict[str, FieldDef]) -> str | None:
    target = by_name.get(name)
    if target is None:
        return f"refers to [{name}], which is not a field of this dictionary"
    if not target.has_data:
        return f"refers to [{name}], a descriptive field that holds no value"
    if code is None:
        if target.is_checkbox:
            return f"refers to checkbox [{name}] without an option: write [{name}(code)]"
        return None
    if not target.is_checkbox:
        return f"refers to [{name}({code})], but '{name}' is not a checkbox"
    if code not in target.choice_map:
        return f"refers to [{name}({code})], but checkbox '{name}' has no option '{code}'"
    return None


def _check_cycles(rows: Rows, calc_uses: dict[str, set[str]], report: Report) -> None:
    row_of = {f.name: row for row, f in rows}
    reported: set[str] = set()
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        path.append(name)
        for used in sorted(calc_uses.get(name, ())):
            if used not in calc_uses:
                continue
            if state.get(used) == 1:
                cycle = path[path.index(used) :] + [used]
                if not reported & set(cycle):
                    first = min(cycle[:-1], key=lambda n: row_of[n])
                    report(row_of[first], C_CHOICES, "circular calculation: " + " -> ".join(cycle))
                    reported.update(cycle)
            elif used not in state:
                visit(used, path)
        path.pop()
        state[name] = 2

    for _, f in rows:
        if f.name in calc_uses and f.name not in state:
            visit(f.name, [])


def _check_defaults(rows: Rows, report: Report) -> None:
    for row, f in rows:
        if f.default is None or not f.has_data or "[" in f.default:
            continue  # a piped default ([field], [today]) is only known at entry time
        try:
            validate_value(f, f.default)
        except FieldValueError as exc:
            report(row, C_ANNOTATION, f"@DEFAULT value is not valid for this field: {exc.message}")
