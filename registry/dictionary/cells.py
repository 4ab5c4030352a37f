"""Checks of single cells: the choices list and the validation type with its min/max."""

from __future__ import annotations

import re
from collections.abc import Callable

from .model import COLUMNS, Choice
from .ranges import bound_error, bound_key
from .validation_types import VALIDATION_TYPES

CODE_RE = re.compile(r"-?\d+(?:\.\d+)?|[A-Za-z0-9_]+")
C_VALIDATION, C_MIN, C_MAX = COLUMNS[7], COLUMNS[8], COLUMNS[9]


def parse_choices(cell: str) -> tuple[tuple[Choice, ...], list[str]]:
    """``1, Yes | 0, No`` -> choices and a list of problems. Labels may contain commas."""
    choices: list[Choice] = []
    problems: list[str] = []
    seen: set[str] = set()
    for n, item in enumerate(cell.split("|"), start=1):
        item = item.strip()
        if not item:
            problems.append(f"choice {n} is empty (stray '|'?)")
            continue
        code, comma, label = item.partition(",")
        code, label = code.strip(), label.strip()
        if not comma:
            problems.append(f"choice '{item}' has no code: write it as 'code, label'")
        elif not CODE_RE.fullmatch(code):
            problems.append(
                f"choice code '{code}' must be a number or letters, digits and underscores"
            )
        elif code in seen:
            problems.append(f"duplicate choice code '{code}'")
        else:
            seen.add(code)
            choices.append(Choice(code, label))
    return tuple(choices), problems


def check_validation(
    ftype: str, validation: str, vmin: str, vmax: str, err: Callable[[str, str], None]
) -> None:
    """Report (column, message) problems of the validation, min and max cells of a field."""
    if ftype == "text":
        if validation and validation not in VALIDATION_TYPES:
            err(C_VALIDATION, f"unknown validation type '{validation}'")
            return
        if not validation:
            for bound, column in ((vmin, C_MIN), (vmax, C_MAX)):
                if bound:
                    err(column, "a minimum or maximum needs a validation type")
            return
        problems = [
            (column, bound_error(validation, bound))
            for bound, column in ((vmin, C_MIN), (vmax, C_MAX))
            if bound
        ]
        for column, problem in problems:
            if problem:
                err(column, problem)
        if (
            vmin
            and vmax
            and not any(p for _, p in problems)
            and "today" not in (vmin, vmax)
            and "now" not in (vmin, vmax)
        ):
            if bound_key(validation, vmin) > bound_key(validation, vmax):
                err(C_MAX, f"maximum {vmax} is below the minimum {vmin}")
        return
    allowed = {"slider": "number", "file": "signature"}.get(ftype)
    if validation and validation != allowed:
        hint = f"only '{allowed}' or empty" if allowed else "leave it empty"
        err(C_VALIDATION, f"'{validation}' is not valid for a {ftype} field: {hint}")
    if ftype == "slider":
        for bound, column in ((vmin, C_MIN), (vmax, C_MAX)):
            if bound and not re.fullmatch(r"-?\d+", bound):
                err(column, f"slider minimum and maximum must be integers, not '{bound}'")
        if (
            re.fullmatch(r"-?\d+", vmin or "0")
            and re.fullmatch(r"-?\d+", vmax or "100")
            and int(vmin or 0) >= int(vmax or 100)
        ):
            err(C_MAX, f"slider maximum {vmax or 100} must be above the minimum {vmin or 0}")
        return
    for bound, column in ((vmin, C_MIN), (vmax, C_MAX)):
        if bound:
            err(column, f"a {ftype} field takes no minimum or maximum")
