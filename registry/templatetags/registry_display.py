"""Template filters that show dates, times and lookups the way registry.display does."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import template

from registry import display

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
