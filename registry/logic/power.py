"""The ``^`` operator, computed identically in Python and JavaScript.

``math.pow`` (C libm) and ``Math.pow`` (V8) disagree in the last bit for about one result in
ten, so non-trivial powers are computed here with IEEE ``+ - * /`` and ``sqrt`` only (all
correctly rounded in both languages): ``exp(y * ln x)`` in double-double precision, accurate to
a few units in the last place. Small integral and half-integral exponents use exact-ish
repeated multiplication so that ``3^2`` is 9 and ``16^0.5`` is 4. Mirrored in logic.js.
"""

from __future__ import annotations

import math

from .numeric import finite_or_blank

SMALL_EXPONENT = 64
SPLITTER = 134217729.0  # 2**27 + 1, Dekker/Veltkamp split
LN2 = 0.6931471805599453
LN2_HI = 6.93147180369123816490e-01  # low bits zero: k * LN2_HI is exact for |k| < 2**20
LN2_LO = 1.90821492927058770002e-10
SQRT2 = 1.4142135623730951
TWO_64 = 18446744073709551616.0
LOG_TERMS = 12
EXP_TERMS = 20


def integer_power(base: float, exponent: int) -> float:
    """``base ** exponent`` for an integral exponent by repeated squaring."""
    result = 1.0
    remaining = abs(exponent)
    while remaining > 0:
        if remaining % 2 == 1:
            result *= base
        remaining //= 2
        if remaining > 0:
            base *= base
    if exponent < 0:
        return math.inf if result == 0 else 1.0 / result
    return result


def _split(a: float) -> tuple[float, float]:
    t = SPLITTER * a
    hi = t - (t - a)
    return hi, a - hi


def _two_sum(a: float, b: float) -> tuple[float, float]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_prod(a: float, b: float) -> tuple[float, float]:
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _log_dd(x: float) -> tuple[float, float]:
    """Natural log of a positive finite ``x`` as a double-double (hi, lo)."""
    m, e = x, 0
    while m >= TWO_64:
        m /= TWO_64
        e += 64
    while m >= 2.0:
        m /= 2.0
        e += 1
    while m < 1.0 / TWO_64:
        m *= TWO_64
        e -= 64
    while m < 1.0:
        m *= 2.0
        e -= 1
    if m > SQRT2:
        m /= 2.0
        e += 1
    f = m - 1.0  # exact (Sterbenz)
    # ln(1 + f) = 2 atanh(s) = 2s + s * R(s^2) with s = f / (2 + f) carried as s_hi + s_lo.
    d_hi, d_lo = _two_sum(2.0, f)
    s_hi = f / d_hi
    p, p_err = _two_prod(s_hi, d_hi)
    s_lo = (((f - p) - p_err) - s_hi * d_lo) / d_hi
    z = s_hi * s_hi
    series = 0.0
    for k in range(LOG_TERMS, 0, -1):
        series = z * (2.0 / (2 * k + 1) + series)
    log_hi, log_lo = _two_sum(2.0 * s_hi, 2.0 * s_lo + s_hi * series)
    hi, lo = _two_sum(e * LN2_HI, log_hi)
    return _two_sum(hi, lo + log_lo + e * LN2_LO)


def _exp_dd(hi: float, lo: float) -> float:
    """``exp(hi + lo)`` for ``|hi| <= 746``."""
    k = math.floor(hi / LN2 + 0.5)
    r = (hi - k * LN2_HI) - k * LN2_LO + lo
    result = 1.0
    for n in range(EXP_TERMS, 0, -1):
        result = 1.0 + result * r / n
    half = k // 2
    return result * integer_power(2.0, half) * integer_power(2.0, k - half)


def general_power(base: float, exponent: float) -> float:
    """``base ** exponent`` for ``base > 0`` via double-double ``exp(exponent * ln base)``."""
    log_hi, log_lo = _log_dd(base)
    estimate = exponent * log_hi
    if estimate > 710.0:
        return math.inf
    if estimate < -746.0:
        return 0.0
    product, error = _two_prod(exponent, log_hi)
    hi, lo = _two_sum(product, error + exponent * log_lo)
    return _exp_dd(hi, lo)


def power(base: float, exponent: float) -> float | str:
    """The ``^`` operator; impossible results (0^-1, (-8)^0.5, overflow) are blank."""
    integral = exponent == math.floor(exponent)
    small = abs(exponent) <= SMALL_EXPONENT
    if integral and small:
        return finite_or_blank(integer_power(base, int(exponent)))
    if small and exponent * 2 == math.floor(exponent * 2):
        if base < 0:
            return ""
        return finite_or_blank(integer_power(math.sqrt(base), int(exponent * 2)))
    if base == 0:
        return 0.0 if exponent > 0 else ""
    if base == 1:
        return 1.0
    if base < 0:
        if not integral:
            return ""
        odd = math.fmod(exponent, 2.0) != 0
        magnitude = general_power(-base, exponent)
        return finite_or_blank(-magnitude if odd else magnitude)
    return finite_or_blank(general_power(base, exponent))
