"""Checking one entered value against its field definition."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.utils.translation import gettext as _

from .model import FieldDef
from .ranges import bound_key, sort_key
from .validation_types import VALIDATION_TYPES, FieldValueError, normalise

Value = str | tuple[str, ...]


@dataclass(frozen=True)
class ValidationResult:
    """``value`` as it is stored (checked codes as a tuple for a checkbox); ``warning`` is a
    soft problem (value outside min/max) to show but not to block on."""

    value: Value
    warning: str | None = None
    is_missing_code: bool = False


def missing_code_values(missing_codes: Iterable[str | Mapping[str, str]]) -> tuple[str, ...]:
    """Accept codes as strings or as the project's {"code": ..., "label": ...} entries."""
    return tuple(c if isinstance(c, str) else c["code"] for c in missing_codes)


def validate_value(
    field: FieldDef,
    raw: str | Sequence[str] | None,
    *,
    missing_codes: Iterable[str | Mapping[str, str]] = (),
    today: date | None = None,
    now: datetime | None = None,
    input_date_order: str | None = None,
) -> ValidationResult:
    """Check a value typed for ``field`` and return it normalised for storage.

    Raises FieldValueError for a value that cannot be stored. An empty value is accepted
    (whether it is required is for the form to decide, since branching may hide the field).
    A missing-data code is accepted for any field without @NOMISSING. ``today``/``now``
    resolve min/max written as today/now (default: the machine's local clock).
    """
    codes = missing_code_values(missing_codes)
    if field.is_checkbox:
        return _checkbox(field, raw, codes)
    if raw is not None and not isinstance(raw, str):
        raise FieldValueError(
            _("%(field)s takes a single value, not a list") % {"field": field.name}
        )
    text = (raw or "").strip()
    if not text:
        return ValidationResult("")
    if field.field_type == "descriptive":
        raise FieldValueError(
            _("%(field)s is a descriptive field and holds no value") % {"field": field.name}
        )
    if field.choices and text in field.choice_map:
        return ValidationResult(text)
    if text in codes:
        if field.nomissing:
            raise FieldValueError(
                _("%(field)s does not accept missing-data codes (@NOMISSING)")
                % {"field": field.name}
            )
        return ValidationResult(text, is_missing_code=True)
    if field.choices:
        allowed = ", ".join(f"{c.code} ({c.label})" for c in field.choices)
        raise FieldValueError(
            _("'%(text)s' is not one of the choices of %(field)s: %(allowed)s")
            % {"text": text, "field": field.name, "allowed": allowed}
        )
    if field.field_type == "slider":
        return ValidationResult(_slider(field, text))
    if field.field_type == "calc":
        return ValidationResult(normalise("number", text))
    if field.field_type != "text" or not field.validation:
        return ValidationResult(text)
    value = normalise(field.validation, text, input_date_order=input_date_order)
    return ValidationResult(value, _range_warning(field, value, today, now))


def _checkbox(
    field: FieldDef, raw: str | Sequence[str] | None, codes: Sequence[str]
) -> ValidationResult:
    if raw is None:
        items: list[str] = []
    elif isinstance(raw, str):
        items = [part.strip() for part in raw.split(",")]
    else:
        items = [str(part).strip() for part in raw]
    items = [i for i in items if i]
    known = field.choice_map
    if len(items) == 1 and items[0] not in known and items[0] in codes:
        if field.nomissing:
            raise FieldValueError(
                _("%(field)s does not accept missing-data codes (@NOMISSING)")
                % {"field": field.name}
            )
        return ValidationResult((items[0],), is_missing_code=True)
    unknown = [i for i in items if i not in known]
    if unknown:
        raise FieldValueError(
            _("%(field)s has no option %(unknown)s; options: %(known)s")
            % {
                "field": field.name,
                "unknown": ", ".join(map(repr, unknown)),
                "known": ", ".join(known),
            }
        )
    chosen = set(items)
    return ValidationResult(tuple(c.code for c in field.choices if c.code in chosen))


def _slider(field: FieldDef, text: str) -> str:
    low = int(field.validation_min or 0)
    high = int(field.validation_max or 100)
    if not re.fullmatch(r"[-+]?\d+", text) or not low <= int(text) <= high:
        raise FieldValueError(
            _("'%(text)s' is not a whole number from %(low)s to %(high)s")
            % {"text": text, "low": low, "high": high}
        )
    return str(int(text))


def _outside_message(is_min: bool, dates: bool) -> str:
    # Translated only for a value out of range: most values are in range (gettext per field
    # was a twentieth of a form save's Python time).
    if is_min:
        return (
            _("%(value)s is before the minimum %(bound)s")
            if dates
            else _("%(value)s is below the minimum %(bound)s")
        )
    return (
        _("%(value)s is after the maximum %(bound)s")
        if dates
        else _("%(value)s is above the maximum %(bound)s")
    )


def _range_warning(
    field: FieldDef, value: str, today: date | None, now: datetime | None
) -> str | None:
    vtype = VALIDATION_TYPES[field.validation]
    if not vtype.has_range or not (field.validation_min or field.validation_max):
        return None
    # The clock is read only for a relative bound (reading it was most of a range check).
    if {field.validation_min, field.validation_max} & {"today", "now"}:
        if now is None:
            now = datetime.now(UTC).astimezone().replace(tzinfo=None)
        if today is None:
            today = now.date()
    key = sort_key(field.validation, value)
    problem = None
    for bound, is_min in ((field.validation_min, True), (field.validation_max, False)):
        if not bound:
            continue
        limit = bound_key(field.validation, bound, today=today, now=now)
        # 'today' on a datetime field compares calendar days.
        compare = (
            key.date() if isinstance(key, datetime) and not isinstance(limit, datetime) else key
        )
        if compare < limit if is_min else compare > limit:
            shown = f"{bound} ({limit})" if bound in ("today", "now") else bound
            problem = _outside_message(is_min, vtype.allows_today) % {
                "value": value,
                "bound": shown,
            }
            break
    if problem and field.force_minmax:
        raise FieldValueError(
            _("%(problem)s, and %(field)s does not allow values out of range (@FORCE-MINMAX)")
            % {"problem": problem, "field": field.name}
        )
    return problem
