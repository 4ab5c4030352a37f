"""REDCap data dictionary CSV -> Dictionary, collecting every problem by row and column.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first field row 2;
a quoted cell spanning several lines is still one row.
"""

from __future__ import annotations

import csv
import io
import re

from registry.hostile_input import describe_problem

from .action_tags import malformed_default
from .cells import check_validation, parse_choices
from .checks import check_dictionary
from .model import (
    CHOICE_TYPES,
    COLUMNS,
    FIELD_TYPES,
    IMPLIED_CHOICES,
    Choice,
    Dictionary,
    DictionaryError,
    DictionaryInvalid,
    FieldDef,
)

NAME_RE = re.compile(r"[a-z][a-z0-9_]*")
MAX_NAME_LENGTH = 100
ALIGNMENTS = ("", "LV", "LH", "RV", "RH")
SQL_MESSAGE = "the sql field type runs database queries and is not supported"

C_NAME, C_FORM, C_TYPE, C_CHOICES = COLUMNS[0], COLUMNS[1], COLUMNS[3], COLUMNS[5]
C_IDENTIFIER, C_REQUIRED, C_ALIGN = COLUMNS[10], COLUMNS[12], COLUMNS[13]
C_MATRIX, C_RANKING, C_ANNOTATION = COLUMNS[15], COLUMNS[16], COLUMNS[17]


def parse_dictionary_csv(text: str) -> Dictionary:
    """Parse a REDCap data dictionary; raise DictionaryInvalid listing every problem.

    Accepts a UTF-8 byte-order mark and CRLF or LF line endings.
    """
    text = text.removeprefix("\ufeff")
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        error = DictionaryError(1, "", f"not a readable CSV file: {exc}")
        raise DictionaryInvalid([error]) from None
    if not records:
        raise DictionaryInvalid([DictionaryError(1, "", "the file is empty")])
    hostile = _hostile_cells(records)
    if hostile:
        raise DictionaryInvalid(hostile)
    header_errors = _check_header(records[0])
    if header_errors:
        raise DictionaryInvalid(header_errors)
    rows = [[cell.replace("\r\n", "\n") for cell in r] for r in records[1:]]
    return dictionary_from_rows(rows, check_logic=True)


def parse_dictionary_bytes(data: bytes) -> Dictionary:
    """Parse an uploaded file: UTF-8, with or without a byte-order mark."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = (
            f"the file is not UTF-8 text (byte {exc.start + 1}); save it from Excel as "
            "'CSV UTF-8 (Comma delimited)'"
        )
        raise DictionaryInvalid([DictionaryError(1, "", message)]) from None
    return parse_dictionary_csv(text)


def _hostile_cells(records: list[list[str]]) -> list[DictionaryError]:
    """Cells holding NUL, lone surrogates or control characters (registry.hostile_input),
    by row and column, without repeating them."""
    errors = []
    for row, cells in enumerate(records, start=1):
        for index, cell in enumerate(cells):
            problem = describe_problem(cell)
            if problem:
                column = COLUMNS[index] if index < len(COLUMNS) else f"column {index + 1}"
                errors.append(DictionaryError(row, column, f"the cell contains {problem}"))
    return errors


def _check_header(header: list[str]) -> list[DictionaryError]:
    errors = []
    got = [h.strip() for h in header]
    for i, expected in enumerate(COLUMNS):
        if i >= len(got):
            errors.append(DictionaryError(1, expected, "header column is missing"))
        elif got[i].lower() != expected.lower():
            errors.append(
                DictionaryError(1, expected, f"expected header '{expected}', found '{got[i]}'")
            )
    for extra in got[len(COLUMNS) :]:
        if extra:
            errors.append(
                DictionaryError(
                    1,
                    C_ANNOTATION,
                    f"unexpected extra header column '{extra}' after '{C_ANNOTATION}'",
                )
            )
    return errors


def dictionary_from_rows(rows: list[list[str]], *, check_logic: bool = True) -> Dictionary:
    """Build a Dictionary from data rows (the header already removed; rows[0] is CSV row 2)."""
    errors: list[DictionaryError] = []
    fields: list[tuple[int, FieldDef]] = []
    unusable: set[str] = set()  # names of rows too broken to build (no follow-on errors)
    for index, cells in enumerate(rows):
        row = index + 2
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(COLUMNS):
            column = COLUMNS[len(cells)] if len(cells) < len(COLUMNS) else C_ANNOTATION
            errors.append(
                DictionaryError(
                    row,
                    column,
                    f"row has {len(cells)} cells, expected "
                    f"{len(COLUMNS)} (an unquoted comma or quote?)",
                )
            )
            unusable.add(cells[0].strip())
            continue
        field = _build_field(cells, row, errors)
        if field is not None:
            fields.append((row, field))
        else:
            unusable.add(cells[0].strip())
    if not fields and not errors:
        errors.append(DictionaryError(2, C_NAME, "the dictionary has no fields"))
    errors += check_dictionary(fields, check_logic=check_logic, unusable=unusable)
    if errors:
        raise DictionaryInvalid(errors)
    return Dictionary(tuple(f for _, f in fields))


def _yes(value: str, row: int, column: str, errors: list[DictionaryError]) -> bool:
    if value not in ("", "y"):
        errors.append(DictionaryError(row, column, f"must be 'y' or empty, not '{value}'"))
    return value == "y"


def _build_field(cells: list[str], row: int, errors: list[DictionaryError]) -> FieldDef | None:
    # Free text (labels, notes, headers, annotation) is kept exactly; codes are stripped.
    section, label, note, annotation = cells[2], cells[4], cells[6], cells[17]
    s = [c.strip() for c in cells]
    name, form, ftype, choices_cell = s[0], s[1], s[3], s[5]
    validation, vmin, vmax = s[7:10]
    identifier, branching, required, align, question, matrix, ranking = s[10:17]

    def err(column: str, message: str) -> None:
        errors.append(DictionaryError(row, column, message))

    for value, column, what in ((name, C_NAME, "variable"), (form, C_FORM, "form")):
        if not value:
            err(column, f"{what} name is missing")
        elif not NAME_RE.fullmatch(value):
            err(
                column,
                f"invalid {what} name '{value}': use lowercase letters, digits and "
                "underscores, starting with a letter",
            )
        elif len(value) > MAX_NAME_LENGTH:
            err(column, f"{what} name is longer than {MAX_NAME_LENGTH} characters")
    if ftype.lower() == "sql":
        err(C_TYPE, SQL_MESSAGE)
        return None
    if ftype not in FIELD_TYPES:
        err(C_TYPE, f"unknown field type '{ftype}'" if ftype else "field type is missing")
        return None

    choices: tuple[Choice, ...] = ()
    calculation, slider_labels = "", ()
    if ftype in CHOICE_TYPES:
        if not choices_cell:
            err(C_CHOICES, f"a {ftype} field needs choices, e.g. '1, Yes | 0, No'")
        else:
            choices, problems = parse_choices(choices_cell)
            for problem in problems:
                err(C_CHOICES, problem)
    elif ftype in IMPLIED_CHOICES:
        choices = tuple(Choice(c, lab) for c, lab in IMPLIED_CHOICES[ftype])
        if choices_cell:
            err(C_CHOICES, f"a {ftype} field has fixed choices; leave this cell empty")
    elif ftype == "calc":
        calculation = choices_cell
        if not calculation:
            err(C_CHOICES, "a calc field needs a calculation")
    elif ftype == "slider":
        slider_labels = (
            tuple(part.strip() for part in choices_cell.split("|")) if choices_cell else ()
        )
        if len(slider_labels) > 3:
            err(C_CHOICES, "a slider takes at most three labels: 'left | middle | right'")
    elif choices_cell:
        err(C_CHOICES, f"a {ftype} field takes no choices or calculation")

    check_validation(ftype, validation, vmin, vmax, err)
    if align not in ALIGNMENTS:
        err(C_ALIGN, f"custom alignment must be one of LV, LH, RV, RH or empty, not '{align}'")
    if matrix and not NAME_RE.fullmatch(matrix):
        err(C_MATRIX, f"invalid matrix group name '{matrix}'")
    if ranking and not matrix:
        err(C_RANKING, "matrix ranking needs a matrix group name")
    if malformed_default(annotation):
        err(C_ANNOTATION, "@DEFAULT needs a quoted value: @DEFAULT='value'")
    field = FieldDef(
        name=name,
        form=form,
        section_header=section,
        field_type=ftype,
        label=label,
        choices=choices,
        calculation=calculation,
        slider_labels=slider_labels,
        note=note,
        validation=validation,
        validation_min=vmin,
        validation_max=vmax,
        identifier=_yes(identifier, row, C_IDENTIFIER, errors),
        branching_logic=branching,
        required=_yes(required, row, C_REQUIRED, errors),
        custom_alignment=align,
        question_number=question,
        matrix_group=matrix,
        matrix_ranking=_yes(ranking, row, C_RANKING, errors),
        annotation=annotation,
    )
    return field if name else None
