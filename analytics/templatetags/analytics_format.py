"""Formatting survival figures the way the paper does: months to one decimal, 95% CIs with NA
where R gives NA, "not reached" for a median R reports as NA. Decimal separators follow the
page's language (3.5 in English, 3,5 in Italian)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext

register = template.Library()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _decimal(value: float, digits: int) -> str:
    """Rounded as Python rounds (the paper's figures), written with the language's separator."""
    return number_format(f"{value:.{digits}f}", decimal_pos=digits)


@register.filter
def months(value: float | None) -> str:
    return _decimal(value, 1) if _is_number(value) else gettext("not reached")


@register.filter
def ci(interval: list | None, percent: bool = False) -> str:
    lo, hi = (list(interval or []) + [None, None])[:2]

    def fmt(v: float | None) -> str:
        if not _is_number(v):
            return "NA"
        return f"{100 * v:.0f}%" if percent else _decimal(v, 1)

    return f"{fmt(lo)}–{fmt(hi)}"


@register.filter
def pct(value: float | None) -> str:
    return f"{100 * value:.0f}%" if _is_number(value) else "NA"


@register.filter
def pval(value: float | None) -> str:
    if not _is_number(value):
        return "NA"
    return "<" + _decimal(0.001, 3) if value < 0.001 else _decimal(value, 3)


@register.filter
def num(value: float | None, digits: int = 2) -> str:
    return _decimal(value, digits) if _is_number(value) else "NA"


@register.filter
def get(mapping: dict | None, key: Any) -> Any:
    return (mapping or {}).get(str(key)) if mapping is not None else None
