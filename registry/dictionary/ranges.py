"""Ordering of stored values and the Text Validation Min/Max bounds of the dictionary."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from .validation_types import VALIDATION_TYPES, FieldValueError, normalise

Comparable = date | datetime | Decimal | int


def sort_key(vtype_name: str, stored: str) -> Comparable:
    """A comparable value for a stored value (used for min/max)."""
    vtype = VALIDATION_TYPES[vtype_name]
    kind = vtype.kind
    if kind == "date":
        return date.fromisoformat(stored)
    if kind in ("datetime", "datetime_seconds"):
        return datetime.fromisoformat(stored)
    if kind.startswith("time"):
        parts = [int(p) for p in stored.split(":")]
        if kind == "time":
            parts.append(0)
        if kind == "time_mm_ss":
            parts.insert(0, 0)
        return parts[0] * 3600 + parts[1] * 60 + parts[2]
    if kind in ("integer", "number"):
        return Decimal(stored.replace(",", "."))
    raise ValueError(f"validation type {vtype_name} has no ordering")


def bound_error(vtype_name: str, bound: str) -> str | None:
    """Why ``bound`` cannot be a Text Validation Min/Max for the type (None if it can).

    Dates are written Y-M-D in the dictionary whatever the display format, as in REDCap;
    dates and datetimes also take ``today`` and ``now``; the comma-decimal types take a
    comma or a point.
    """
    vtype = VALIDATION_TYPES[vtype_name]
    if not vtype.has_range:
        return f"validation type '{vtype_name}' does not take a minimum or maximum"
    if bound in ("today", "now"):
        if vtype.allows_today:
            return None
        return f"'{bound}' is only allowed for date and datetime validation"
    if vtype.kind == "date" or vtype.kind.startswith("datetime"):
        iso = VALIDATION_TYPES[vtype.name.replace(vtype.order, "ymd")]
        try:
            value = normalise(iso.name, bound)
        except FieldValueError:
            value = ""
        if value != bound:
            shape = {
                "date": "YYYY-MM-DD",
                "datetime": "YYYY-MM-DD HH:MM",
                "datetime_seconds": "YYYY-MM-DD HH:MM:SS",
            }[vtype.kind]
            return f"'{bound}' is not a {vtype.kind.replace('_', ' ')} in the form {shape}"
        return None
    if vtype.kind in ("integer", "number"):
        lenient = "integer" if vtype.kind == "integer" else "number"
        try:
            normalise(lenient, bound.replace(",", ".") if vtype.comma else bound)
        except FieldValueError:
            return f"'{bound}' is not {'an integer' if vtype.kind == 'integer' else 'a number'}"
        return None
    try:
        normalise(vtype_name, bound)
    except FieldValueError as exc:
        return exc.message
    return None


def bound_key(
    vtype_name: str, bound: str, *, today: date | None = None, now: datetime | None = None
) -> Comparable:
    """The comparable value of a valid min/max (``today``/``now`` resolved)."""
    vtype = VALIDATION_TYPES[vtype_name]
    if bound in ("today", "now"):
        if today is None or now is None:
            raise ValueError("today and now are needed to resolve a relative bound")
        if vtype.kind == "date":
            return today
        if bound == "today":
            return today
        return now.replace(
            second=now.second if vtype.kind == "datetime_seconds" else 0, microsecond=0
        )
    if vtype.kind in ("integer", "number"):
        return Decimal(bound.replace(",", "."))
    return sort_key(vtype_name, bound)
