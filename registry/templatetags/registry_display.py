"""Template filters that show dates, times and lookups the way registry.display does."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import template
from django.utils.dateparse import parse_datetime

from registry import display
from registry.exports.options import describe_options

register = template.Library()


def _order(user: Any) -> str:
    return getattr(user, "date_format", None) or "dmy"


@register.filter
def when(value: datetime | None, user: Any = None) -> str:
    """{{ event.occurred_at|when:user }}: the person's date order, the study's time zone."""
    return display.format_datetime(value, _order(user))


@register.filter
def when_exact(value: datetime | None, user: Any = None) -> str:
    return display.format_datetime(value, _order(user), seconds=True)


@register.filter
def day(value: date | str | None, user: Any = None) -> str:
    return display.format_date(value, _order(user))


@register.filter
def get_item(mapping: dict | None, key: Any) -> Any:
    return (mapping or {}).get(key)


@register.filter
def when_iso(value: str | None, user: Any = None) -> str:
    """An ISO timestamp kept as text (export jobs' status files) in the person's format."""
    moment = parse_datetime(value) if isinstance(value, str) else None
    return display.format_datetime(moment, _order(user)) if moment else (value or "")


@register.filter
def export_options(options: dict | None) -> str:
    return " · ".join(describe_options(options or {}))
