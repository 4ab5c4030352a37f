"""Built-in functions of the logic language (``if`` is handled lazily by the evaluator)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from .numeric import as_number, as_text, finite_or_blank, is_blank, is_number_text, round_number


@dataclass(frozen=True, slots=True)
class Context:
    """Evaluation inputs: field values, missing-data codes, and today/now as ISO strings."""

    values: Any
    missing: frozenset[str]
    today: str  # YYYY-MM-DD
    now: str  # YYYY-MM-DD HH:MM:SS


_TIME = r"(?:[ T]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?)?"
_YMD_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})" + _TIME)
_XXY_RE = re.compile(r"([0-9]{1,2})[-/]([0-9]{1,2})[-/]([0-9]{4})" + _TIME)
_DATE_FORMATS = frozenset({"ymd", "mdy", "dmy"})
_SECONDS_PER_UNIT = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DAYS_PER_UNIT = {"M": 30.44, "y": 365.2425}


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (year >= 1)."""
    year -= 1 if month <= 2 else 0
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def timestamp(value: Any, date_format: str, ctx: Context) -> int | None:
    """Seconds since the epoch of a date/datetime value, or None when blank or invalid."""
    text = as_text(value)
    if text.lower() == "today":
        text = ctx.today
    elif text.lower() == "now":
        text = ctx.now
    if is_blank(text, ctx.missing):
        return None
    match = _YMD_RE.fullmatch(text)
    if match:
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    else:
        match = _XXY_RE.fullmatch(text) if date_format in ("mdy", "dmy") else None
        if match is None:
            return None
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        month, day = (first, second) if date_format == "mdy" else (second, first)
    hour, minute, second = (int(match[i]) if match[i] else 0 for i in (4, 5, 6))
    if year < 1 or not 1 <= month <= 12 or not 1 <= day <= _days_in_month(year, month):
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    return days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        text = as_text(value).lower()
        if text in ("true", "false"):
            return text == "true"
    number = as_number(value)
    return number is not None and number != 0


def datediff(args: Sequence[Any], ctx: Context) -> float | str:
    """``datediff(d1, d2, unit[, format][, signed])``: d2 - d1 in the unit, unsigned by default."""
    date_format, signed = "ymd", False
    if len(args) == 4:
        if as_text(args[3]).lower() in _DATE_FORMATS:
            date_format = as_text(args[3]).lower()
        else:
            signed = _flag(args[3])
    elif len(args) == 5:
        date_format, signed = as_text(args[3]).lower(), _flag(args[4])
    start, end = timestamp(args[0], date_format, ctx), timestamp(args[1], date_format, ctx)
    unit = as_text(args[2])
    if start is None or end is None:
        return ""
    seconds = float(end - start)
    if unit in _SECONDS_PER_UNIT:
        result = seconds / _SECONDS_PER_UNIT[unit]
    elif unit in _DAYS_PER_UNIT:
        result = seconds / 86400.0 / _DAYS_PER_UNIT[unit]
    else:
        return ""
    return result if signed else abs(result)


def _numbers(args: Sequence[Any], ctx: Context) -> list[float]:
    numbers = (as_number(arg, ctx.missing) for arg in args)
    return [number for number in numbers if number is not None]


def _sum(args: Sequence[Any], ctx: Context) -> float | str:
    numbers = _numbers(args, ctx)
    if not numbers:
        return ""
    total = 0.0
    for number in numbers:
        total += number
    return finite_or_blank(total)


def _mean(args: Sequence[Any], ctx: Context) -> float | str:
    total = _sum(args, ctx)
    return "" if total == "" else finite_or_blank(total / len(_numbers(args, ctx)))


def _extreme(largest: bool) -> Callable[[Sequence[Any], Context], float | str]:
    def pick(args: Sequence[Any], ctx: Context) -> float | str:
        best: float | None = None
        for number in _numbers(args, ctx):
            if best is None or (number > best if largest else number < best):
                best = number
        return "" if best is None else best

    return pick


def _rounder(mode: str) -> Callable[[Sequence[Any], Context], float | str]:
    def apply(args: Sequence[Any], ctx: Context) -> float | str:
        number = as_number(args[0], ctx.missing)
        places = as_number(args[1], ctx.missing) if len(args) > 1 else 0.0
        if number is None or places is None:
            return ""
        return finite_or_blank(round_number(number, int(places), mode))

    return apply


def _unary(fn: Callable[[float], float]) -> Callable[[Sequence[Any], Context], float | str]:
    def apply(args: Sequence[Any], ctx: Context) -> float | str:
        number = as_number(args[0], ctx.missing)
        return "" if number is None else finite_or_blank(fn(number))

    return apply


def _sqrt(number: float) -> float:
    return math.nan if number < 0 else math.sqrt(number)


def _text_test(test: Callable[[str, str], bool]) -> Callable[[Sequence[Any], Context], bool]:
    def apply(args: Sequence[Any], ctx: Context) -> bool:
        return test(as_text(args[0]).lower(), as_text(args[1]).lower())

    return apply


def _is_blank_or_missing(args: Sequence[Any], ctx: Context) -> bool:
    return is_blank(args[0], ctx.missing)


def _is_number(args: Sequence[Any], ctx: Context) -> bool:
    value = args[0]
    if isinstance(value, bool):
        return False
    return isinstance(value, int | float) or is_number_text(value)


BUILTINS: dict[str, Callable[[Sequence[Any], Context], Any]] = {
    "datediff": datediff,
    "sum": _sum,
    "mean": _mean,
    "min": _extreme(largest=False),
    "max": _extreme(largest=True),
    "round": _rounder("half_up"),
    "rounddown": _rounder("down"),
    "roundup": _rounder("up"),
    "abs": _unary(abs),
    "sqrt": _unary(_sqrt),
    "isblankormissingcode": _is_blank_or_missing,
    "isnumber": _is_number,
    "contains": _text_test(lambda a, b: b in a),
    "not_contain": _text_test(lambda a, b: b not in a),
    "starts_with": _text_test(lambda a, b: a.startswith(b)),
    "ends_with": _text_test(lambda a, b: a.endswith(b)),
}


def missing_set(codes: Collection[str]) -> frozenset[str]:
    """Normalise missing-data codes (trimmed strings)."""
    return frozenset(as_text(code) for code in codes)
