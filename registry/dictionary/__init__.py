"""REDCap data dictionaries: parse, validate, export, compare; value validation.

Pure Python: the Django models that store dictionary versions call into this package.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from .action_tags import ActionTags, parse_action_tags
from .compat import CHANGE_KINDS, Change, affected_records, compare_dictionaries
from .export import dictionary_to_csv
from .model import (
    COLUMNS,
    FIELD_TYPES,
    Choice,
    Dictionary,
    DictionaryError,
    DictionaryInvalid,
    FieldDef,
    checkbox_export_name,
    form_label,
)
from .parse import SQL_MESSAGE, parse_choices, parse_dictionary_bytes, parse_dictionary_csv
from .project import check_project_settings
from .validation_types import VALIDATION_TYPES, FieldValueError, ValidationType
from .values import ValidationResult, validate_value

__all__ = [
    "CHANGE_KINDS",
    "COLUMNS",
    "FIELD_TYPES",
    "SQL_MESSAGE",
    "VALIDATION_TYPES",
    "ActionTags",
    "Change",
    "Choice",
    "Dictionary",
    "DictionaryError",
    "DictionaryInvalid",
    "FieldDef",
    "FieldValueError",
    "ValidationResult",
    "ValidationType",
    "affected_records",
    "check_project_settings",
    "checkbox_export_name",
    "compare_dictionaries",
    "dictionary_to_csv",
    "form_label",
    "gi_lms_dictionary",
    "gi_lms_dictionary_csv",
    "gi_lms_project",
    "parse_action_tags",
    "parse_choices",
    "parse_dictionary_bytes",
    "parse_dictionary_csv",
    "validate_value",
]


def gi_lms_dictionary_csv() -> str:
    """The default GI-LMS study dictionary, as shipped (canonical CSV)."""
    return resources.files(__package__).joinpath("data/gi_lms_dictionary.csv").read_text("utf-8")


def gi_lms_dictionary() -> Dictionary:
    return parse_dictionary_csv(gi_lms_dictionary_csv())


def gi_lms_project() -> dict[str, Any]:
    """Project settings REDCap keeps outside the dictionary (title, repeating instruments,
    missing-data codes)."""
    text = resources.files(__package__).joinpath("data/gi_lms_project.json").read_text("utf-8")
    return json.loads(text)
