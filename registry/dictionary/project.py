"""Checks of the project settings REDCap keeps outside the dictionary, against a dictionary.

The settings are a mapping like ``data/gi_lms_project.json``: ``repeating_instruments`` (form
names) and ``missing_codes`` (``{"code", "label"}`` entries).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from registry.logic import field_references

from .model import Dictionary

_MISSING_CODE = re.compile(r"[A-Za-z0-9_.-]+")


def check_project_settings(dictionary: Dictionary, project: Mapping[str, Any]) -> list[str]:
    """Problems that make the settings unusable with this dictionary (empty list if none)."""
    problems: list[str] = []
    forms = dictionary.form_names
    repeating = list(project.get("repeating_instruments", []))
    for form in repeating:
        if form not in forms:
            problems.append(f"repeating instrument '{form}' is not a form of the dictionary")
    if forms and forms[0] in repeating:
        problems.append(f"the first form '{forms[0]}' holds the record ID and cannot repeat")
    seen: set[str] = set()
    for entry in project.get("missing_codes", []):
        code = str(entry.get("code", ""))
        if not _MISSING_CODE.fullmatch(code):
            problems.append(f"missing-data code '{code}' must be letters, digits, '_', '.', '-'")
        if code in seen:
            problems.append(f"missing-data code '{code}' is listed twice")
        seen.add(code)
        clashes = [f.name for f in dictionary.fields if code in f.choice_map]
        if clashes:
            problems.append(
                f"missing-data code '{code}' is also a choice code of {', '.join(clashes)}"
            )
    problems += _cross_instance_references(dictionary, set(repeating))
    return problems


def _cross_instance_references(dictionary: Dictionary, repeating: set[str]) -> list[str]:
    """Logic on one form naming a field of a repeating form: which instance is meant?"""
    problems = []
    for f in dictionary.fields:
        for what, expression in (
            ("branching logic", f.branching_logic),
            ("calculation", f.calculation),
        ):
            if not expression.strip():
                continue
            for name in sorted(field_references(expression)):
                if name not in dictionary:
                    continue
                target = dictionary.field(name).form
                if target in repeating and target != f.form:
                    problems.append(
                        f"{what} of '{f.name}' (form '{f.form}') uses [{name}] of repeating "
                        f"form '{target}': the instance is ambiguous"
                    )
    return problems
