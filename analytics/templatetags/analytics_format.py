"""Formatting survival figures the way the paper does: months to one decimal, 95% CIs with NA
where R gives NA, "not reached" for a median R reports as NA."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@register.filter
def months(value: float | None) -> str:
    return f"{value:.1f}" if _is_number(value) else "not reached"


@register.filter
def ci(interval: list | None, percent: bool = False) -> str:
    lo, hi = (list(interval or []) + [None, None])[:2]

    def fmt(v: float | None) -> str:
        if not _is_number(v):
            return "NA"
        return f"{100 * v:.0f}%" if percent else f"{v:.1f}"

    return f"{fmt(lo)}–{fmt(hi)}"


@register.filter
def pct(value: float | None) -> str:
    return f"{100 * value:.0f}%" if _is_number(value) else "NA"


@register.filter
def pval(value: float | None) -> str:
    if not _is_number(value):
        return "NA"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


@register.filter
def num(value: float | None, digits: int = 2) -> str:
    return f"{value:.{digits}f}" if _is_number(value) else "NA"


@register.filter
def get(mapping: dict | None, key: Any) -> Any:
    return (mapping or {}).get(str(key)) if mapping is not None else None
