"""Every text validation type REDCap ships: how a typed value is checked and stored.

Storage is independent of the display format: dates are ``YYYY-MM-DD``, datetimes
``YYYY-MM-DD HH:MM`` (``:SS`` for the seconds variants), times ``HH:MM``/``HH:MM:SS``/``MM:SS``.
Numbers keep the decimal separator of their type, as REDCap stores them: the
``*_comma_decimal`` types store ``3,5``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

# Messages are for the person typing the value, in their language (the only Django import here).
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

DATE_ORDERS = ("ymd", "mdy", "dmy")


class FieldValueError(ValueError):
    """A value that must not be stored (a hard validation error)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ValidationType:
    name: str
    kind: str  # date, datetime, datetime_seconds, time, time_hh_mm_ss, time_mm_ss,
    #            integer, number, pattern
    label: str
    example: str
    order: str = ""  # ymd / mdy / dmy for the date kinds
    decimals: int | None = None  # exact number of decimals (number_1dp..number_4dp)
    comma: bool = False  # comma decimal separator
    pattern: str = ""  # full-match regular expression for the pattern kind

    @property
    def has_range(self) -> bool:
        """Whether Text Validation Min/Max make sense for this type."""
        return self.kind != "pattern"

    @property
    def allows_today(self) -> bool:
        return self.kind in ("date", "datetime", "datetime_seconds")

    @property
    def storage(self) -> str:
        """Types with the same storage class hold interchangeable stored values."""
        if self.kind == "number":
            return f"number{self.decimals or ''}{',' if self.comma else '.'}"
        return self.kind if self.kind != "pattern" else self.name


def _types() -> dict[str, ValidationType]:
    order_label = {"ymd": "Y-M-D", "mdy": "M-D-Y", "dmy": "D-M-Y"}
    example = {"ymd": "2020-12-31", "mdy": "12-31-2020", "dmy": "31-12-2020"}
    types: list[ValidationType] = []
    for order in DATE_ORDERS:
        lab, ex = order_label[order], example[order]
        types += [
            ValidationType(f"date_{order}", "date", f"Date ({lab})", ex, order=order),
            ValidationType(
                f"datetime_{order}", "datetime", f"Datetime ({lab} H:M)", f"{ex} 14:30", order
            ),
            ValidationType(
                f"datetime_seconds_{order}",
                "datetime_seconds",
                f"Datetime with seconds ({lab} H:M:S)",
                f"{ex} 14:30:05",
                order,
            ),
        ]
    types += [
        ValidationType("time", "time", "Time (HH:MM)", "14:30"),
        ValidationType("time_hh_mm_ss", "time_hh_mm_ss", "Time (HH:MM:SS)", "14:30:05"),
        ValidationType("time_mm_ss", "time_mm_ss", "Time (MM:SS)", "04:30"),
        ValidationType("integer", "integer", "Integer", "42"),
        ValidationType("number", "number", "Number", "3.14"),
        ValidationType(
            "number_comma_decimal", "number", "Number (comma as decimal)", "3,14", comma=True
        ),
    ]
    for n in range(1, 5):
        digits = "5" * n
        types += [
            ValidationType(
                f"number_{n}dp",
                "number",
                f"Number ({n} decimal place{'s' * (n > 1)})",
                f"1.{digits}",
                decimals=n,
            ),
            ValidationType(
                f"number_{n}dp_comma_decimal",
                "number",
                f"Number ({n} decimal place{'s' * (n > 1)}, comma as decimal)",
                f"1,{digits}",
                decimals=n,
                comma=True,
            ),
        ]
    # Area codes and exchanges of the North American Numbering Plan: no leading 0/1, no N11.
    nanp_area = r"(?:[2-9]0[1-9]|[2-9]1[02-9]|[2-9][02-8][0-9])"
    nanp_exchange = r"(?:[2-9]1[02-9]|[2-9][02-9][0-9])"
    patterns = {
        "alpha_only": (gettext_noop("Letters only"), "abc", r"[A-Za-z]+"),
        "email": (
            gettext_noop("Email"),
            "name@example.org",
            r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
            r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}",
        ),
        "phone": (
            gettext_noop("Phone (North America)"),
            "(615) 322-5000",
            rf"\(?({nanp_area})\)?[ .-]*({nanp_exchange})[ .-]*(\d{{4}})"
            r"(?:\s*(?:#|x\.?|ext\.?|extension)\s*(\d+))?",
        ),
        "phone_australia": (
            gettext_noop("Phone (Australia)"),
            "(02) 9876 5432",
            r"(?:\(0[2-8]\)|0[2-8])\s*\d{4}\s*\d{4}",
        ),
        "postalcode_australia": (gettext_noop("Postal code (Australia)"), "2000", r"\d{4}"),
        "postalcode_canada": (
            gettext_noop("Postal code (Canada)"),
            "K1A 0B1",
            r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d",
        ),
        "postalcode_french": (
            gettext_noop("Postal code (France)"),
            "75013",
            r"(?:0[1-9]|[1-8]\d|9[0-8])\d{3}",
        ),
        "postalcode_germany": (
            gettext_noop("Postal code (Germany)"),
            "10115",
            r"(?:0[1-9]|[1-9]\d)\d{3}",
        ),
        "ssn": (gettext_noop("Social Security Number (U.S.)"), "123-45-6789", r"\d{3}-\d{2}-\d{4}"),
        "vmrn": (gettext_noop("Vanderbilt MRN"), "12345678", r"\d{4,9}"),
        "zipcode": (gettext_noop("Zipcode (U.S.)"), "37203", r"\d{5}(?:-\d{4})?"),
        "mrn_10d": (gettext_noop("MRN (10 digits)"), "0123456789", r"\d{10}"),
        "mrn_generic": (gettext_noop("MRN (generic)"), "AB-1234_x", r"[A-Za-z0-9_-]+"),
    }
    for name, (label, ex, pattern) in patterns.items():
        types.append(ValidationType(name, "pattern", label, ex, pattern=pattern))
    return {t.name: t for t in types}


VALIDATION_TYPES: dict[str, ValidationType] = _types()

# re.ASCII: \d must not match other scripts' digits (int("٣") is 3).
_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", re.ASCII)
_OTHER_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", re.ASCII)
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", re.ASCII)
_INTEGER = re.compile(r"([-+]?)(\d+)", re.ASCII)
_NUMBER = re.compile(r"([-+]?)(\d*)(?:[.,](\d+))?", re.ASCII)


def _parse_date(text: str, order: str, input_date_order: str | None) -> date:
    if m := _ISO_DATE.fullmatch(text):
        y, mo, d = m.groups()
    elif m := _OTHER_DATE.fullmatch(text):
        use = input_date_order if input_date_order in ("dmy", "mdy") else order
        if use == "dmy":
            d, mo, y = m.groups()
        elif use == "mdy":
            mo, d, y = m.groups()
        else:
            raise FieldValueError(
                _("'%(text)s' is not a date: expected %(hint)s")
                % {"text": text, "hint": "YYYY-MM-DD"}
            )
    else:
        hint = _date_hint(input_date_order if input_date_order in ("dmy", "mdy", "ymd") else order)
        raise FieldValueError(
            _("'%(text)s' is not a date: expected %(hint)s") % {"text": text, "hint": hint}
        )
    try:
        return date(int(y), int(mo), int(d))
    except ValueError:
        raise FieldValueError(
            _("'%(text)s' is not a real calendar date") % {"text": text}
        ) from None


def _date_hint(order: str) -> str:
    # Written as the form's placeholder is (registry/forms/instrument_fields.py), so a person
    # reads one format in the placeholder, the note and the error.
    hint = {"ymd": "yyyy-mm-dd", "mdy": "mm/dd/yyyy", "dmy": "dd/mm/yyyy"}[order]
    return hint if order == "ymd" else _("%(hint)s or yyyy-mm-dd") % {"hint": hint}


def _parse_time(text: str, kind: str) -> tuple[int, int, int]:
    """Returns (hours, minutes, seconds); for time_mm_ss hours is 0."""
    m = _TIME.fullmatch(text)
    want_seconds = kind in ("time_hh_mm_ss", "datetime_seconds")
    shape = {
        "time_mm_ss": "MM:SS",
        "time_hh_mm_ss": "HH:MM:SS",
        "datetime_seconds": "HH:MM:SS",
    }.get(kind, "HH:MM")
    if not m or (m.group(3) is not None) != want_seconds:
        raise FieldValueError(
            _("'%(text)s' is not a time: expected %(shape)s") % {"text": text, "shape": shape}
        )
    a, b = int(m.group(1)), int(m.group(2))
    if kind == "time_mm_ss":
        if a > 59 or b > 59:
            raise FieldValueError(_("'%(text)s' is not a valid MM:SS time") % {"text": text})
        return 0, a, b
    c = int(m.group(3) or 0)
    if a > 23 or b > 59 or c > 59:
        raise FieldValueError(_("'%(text)s' is not a valid time of day") % {"text": text})
    return a, b, c


def _parse_datetime(text: str, vtype: ValidationType, input_date_order: str | None) -> datetime:
    parts = re.split(r"[ T]+", text, maxsplit=1)
    if len(parts) != 2:
        seconds = ":SS" if vtype.kind == "datetime_seconds" else ""
        raise FieldValueError(
            _("'%(text)s' is not a date and time: expected %(hint)s")
            % {"text": text, "hint": f"{_date_hint(vtype.order)} HH:MM{seconds}"}
        )
    day = _parse_date(parts[0], vtype.order, input_date_order)
    h, mi, s = _parse_time(parts[1], vtype.kind)
    return datetime(day.year, day.month, day.day, h, mi, s)  # noqa: DTZ001 - wall clock


def _normalise_number(text: str, vtype: ValidationType) -> str:
    sep = "," if vtype.comma else "."
    if vtype.kind == "integer":
        m = _INTEGER.fullmatch(text)
        if not m:
            raise FieldValueError(_("'%(text)s' is not an integer") % {"text": text})
        return str(int(text))
    m = _NUMBER.fullmatch(text)
    other = "." if vtype.comma else ","
    if not m or (not m.group(2) and not m.group(3)) or other in text:
        hint = " " + _("(use a comma as the decimal separator)") if vtype.comma else ""
        if not vtype.comma and "," in text:
            hint = " " + _("(use a point as the decimal separator)")
        raise FieldValueError(_("'%(text)s' is not a number") % {"text": text} + hint)
    sign, whole, frac = m.groups()
    if vtype.decimals is not None and len(frac or "") != vtype.decimals:
        raise FieldValueError(
            ngettext(
                "'%(text)s' must have exactly %(n)s decimal place, e.g. %(example)s",
                "'%(text)s' must have exactly %(n)s decimal places, e.g. %(example)s",
                vtype.decimals,
            )
            % {"text": text, "n": vtype.decimals, "example": vtype.example}
        )
    whole = whole.lstrip("0") or "0"
    if set(whole + (frac or "")) <= {"0"}:
        sign = ""
    return f"{'-' if sign == '-' else ''}{whole}{sep + frac if frac else ''}"


def normalise(vtype_name: str, raw: str, *, input_date_order: str | None = None) -> str:
    """Check ``raw`` against a validation type and return the value as stored.

    Raises FieldValueError with a message meant for the person typing the value.
    """
    vtype = VALIDATION_TYPES[vtype_name]
    text = raw.strip()
    kind = vtype.kind
    if kind == "date":
        return _parse_date(text, vtype.order, input_date_order).isoformat()
    if kind in ("datetime", "datetime_seconds"):
        fmt = "%Y-%m-%d %H:%M:%S" if kind == "datetime_seconds" else "%Y-%m-%d %H:%M"
        return _parse_datetime(text, vtype, input_date_order).strftime(fmt)
    if kind.startswith("time"):
        h, m, s = _parse_time(text, kind)
        return {
            "time": f"{h:02d}:{m:02d}",
            "time_hh_mm_ss": f"{h:02d}:{m:02d}:{s:02d}",
            "time_mm_ss": f"{m:02d}:{s:02d}",
        }[kind]
    if kind in ("integer", "number"):
        return _normalise_number(text, vtype)
    if vtype_name == "postalcode_canada":
        text = text.upper()
    match = re.fullmatch(vtype.pattern, text, re.ASCII)
    if not match:
        raise FieldValueError(
            _("'%(text)s' is not a valid %(type)s value (e.g. %(example)s)")
            % {"text": text, "type": _(vtype.label), "example": vtype.example}
        )
    if vtype_name == "postalcode_canada":
        compact = text.replace(" ", "")
        return f"{compact[:3]} {compact[3:]}"
    if vtype_name == "phone":
        area, exchange, line, ext = match.groups()
        return f"({area}) {exchange}-{line}" + (f" x{ext}" if ext else "")
    return text
