"""Value coercion, decimal rounding and calc formatting shared by the logic evaluator.

Everything here is mirrored line for line in ``registry/static/registry/logic.js``: numbers are
rounded on their shortest round-trip decimal representation (what ``repr`` in Python and
``String`` in JavaScript print), so both languages produce identical results.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from typing import Any

WHITESPACE = " \t\r\n"
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")

# Decimal places kept when a calc result is stored.
CALC_DECIMALS = 10
# round()/rounddown()/roundup() clamp their decimal-places argument to this range.
MAX_ROUND_PLACES = 400


def strip(text: str) -> str:
    """Trim ASCII whitespace (the same set in Python and JavaScript)."""
    return text.strip(WHITESPACE)


def is_number_text(text: str) -> bool:
    """True for a plain decimal number such as ``-3``, ``2.5`` or ``.5`` (no exponent)."""
    return _NUMBER_RE.fullmatch(strip(text)) is not None


def as_number(value: Any, missing: Collection[str] = ()) -> float | None:
    """Numeric value of a runtime value; None when blank, a missing code, not a number or huge."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = strip(value)
        if text in missing or _NUMBER_RE.fullmatch(text) is None:
            return None
        number = float(text)
    return number if math.isfinite(number) else None


def as_text(value: Any) -> str:
    """String form of a runtime value (numbers rendered like stored calc values)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return format_calc(value)
    return strip(value)


def is_blank(value: Any, missing: Collection[str] = ()) -> bool:
    """True for an empty string or (when given) a missing-data code."""
    if isinstance(value, bool | int | float):
        return False
    text = strip(value)
    return text == "" or text in missing


def truthy(value: Any) -> bool:
    """Branching-logic truthiness: blank, ``0`` and false are falsy, other text is truthy."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    number = as_number(value)
    if number is not None:
        return number != 0
    return strip(value) != ""


def finite_or_blank(number: float | None) -> float | str:
    """Arithmetic results that are missing, infinite or NaN become blank."""
    if number is None or not math.isfinite(number):
        return ""
    return number


def shortest_digits(number: float) -> tuple[str, int]:
    """Digits and exponent of ``abs(number)`` as ``int(digits) * 10**exponent`` (shortest form)."""
    mantissa, _, exp_text = repr(abs(number)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0") or "0"
    exponent = (int(exp_text) if exp_text else 0) - len(fraction)
    return digits, exponent


def round_digits(digits: str, exponent: int, places: int, mode: str) -> tuple[str, int]:
    """Round a decimal ``digits * 10**exponent`` to ``places`` decimals.

    ``mode``: ``half_up`` (half away from zero), ``down`` (toward zero), ``up`` (away from zero).
    """
    drop = -places - exponent
    if drop <= 0:
        return digits, exponent
    if drop > len(digits):
        kept, dropped = "0", "0" * (drop - len(digits)) + digits
    else:
        kept, dropped = digits[: len(digits) - drop] or "0", digits[len(digits) - drop :]
    if mode == "half_up":
        increment = dropped[0] >= "5"
    elif mode == "up":
        increment = dropped.strip("0") != ""
    else:
        increment = False
    if increment:
        kept = str(int(kept) + 1)
    return kept, -places


def plain_decimal(digits: str, exponent: int, negative: bool) -> str:
    """Render ``digits * 10**exponent`` without exponent notation or trailing zeros."""
    digits = digits.lstrip("0")
    if not digits:
        return "0"
    trimmed = digits.rstrip("0")
    exponent += len(digits) - len(trimmed)
    digits = trimmed
    if exponent >= 0:
        text = digits + "0" * exponent
    elif len(digits) <= -exponent:
        text = "0." + "0" * (-exponent - len(digits)) + digits
    else:
        text = digits[:exponent] + "." + digits[exponent:]
    return ("-" if negative else "") + text


def round_number(number: float, places: int, mode: str = "half_up") -> float:
    """Round ``number`` to ``places`` decimals (negative places round to tens, hundreds...)."""
    places = max(-MAX_ROUND_PLACES, min(MAX_ROUND_PLACES, places))
    digits, exponent = round_digits(*shortest_digits(number), places, mode)
    return float(plain_decimal(digits, exponent, number < 0))


def format_calc(value: Any) -> str:
    """Render a calc result as stored: '' for blank, ``5`` not ``5.0``, at most 10 decimals."""
    if value is None or isinstance(value, str) and strip(value) == "":
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        digits, exponent = round_digits(*shortest_digits(value), CALC_DECIMALS, "half_up")
        return plain_decimal(digits, exponent, value < 0)
    if isinstance(value, str):
        text = strip(value)
        return format_calc(float(text)) if is_number_text(text) else text
    return str(value)
