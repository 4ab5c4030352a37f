"""How the registry shows things to a person: dictionary labels instead of variable names,
choice labels instead of codes, dates and times in the person's format and the study's time
zone. Views, templates (registry_display tags), exports and messages all ask here."""

from __future__ import annotations

import re
from datetime import date, datetime

from django.utils import dateformat, timezone

from registry.dictionary import Dictionary, FieldDef
from registry.dictionary_text import dictionary_plain_text

__all__ = [
    "DATE_FORMATS",
    "field_label",
    "finding_text",
    "form_label",
    "format_date",
    "format_datetime",
    "value_shown",
]

#: Django date-format strings per User.date_format (the same order the person types dates in).
DATE_FORMATS = {"dmy": "d/m/Y", "mdy": "m/d/Y", "ymd": "Y-m-d"}


def format_datetime(
    value: datetime | None, date_order: str = "dmy", *, seconds: bool = False
) -> str:
    """A moment in the study's time zone, in the person's date order, with the zone's name."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    clock = "H:i:s" if seconds else "H:i"
    return dateformat.format(local, f"{DATE_FORMATS.get(date_order, 'd/m/Y')} {clock} T")


def format_date(value: date | str | None, date_order: str = "dmy") -> str:
    """A calendar date (or an ISO date string, as stored) in the person's date order."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return dateformat.format(value, DATE_FORMATS.get(date_order, "d/m/Y"))


def field_label(dictionary: Dictionary | None, name: str) -> str:
    """The label a coordinator knows a field by; the name only if the dictionary lacks it."""
    if not name:
        return ""
    if dictionary is not None and name in dictionary:
        return dictionary_plain_text(dictionary.field(name).label) or name
    return name


def form_label(dictionary: Dictionary | None, form: str) -> str:
    if dictionary is None:
        return form
    # Sanitised once per (immutable) dictionary: every save's "Saved" message names its form.
    titles = dictionary.memo.get("plain_form_titles")
    if titles is None:
        titles = {name: dictionary_plain_text(label) or name for name, label in dictionary.forms}
        dictionary.memo["plain_form_titles"] = titles
    return titles.get(form, form)


def value_shown(
    f: FieldDef | None,
    value: object,
    date_order: str = "dmy",
    missing_codes: dict[str, str] | None = None,
) -> str:
    """A stored value as a person reads it: "Female" not "2", 04/03/2010 not 2010-03-04."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, list):
        return ", ".join(value_shown(f, v, date_order, missing_codes) for v in value)
    text = str(value)
    if missing_codes and text in missing_codes:
        return f"{missing_codes[text]} ({text})"
    if f is None:
        return text
    choices = f.choice_map
    if text in choices:
        return dictionary_plain_text(choices[text]) or text
    if f.is_date:
        return format_date(text, date_order)
    if f.is_datetime and len(text) >= 10:
        return format_date(text[:10], date_order) + text[10:].replace("T", " ")
    return text


# Built-in findings name fields and ISO dates ("surgery_date (2010-03-20) is before ...").
_NAMED_VALUE = re.compile(r"\b([a-z][a-z0-9_]*) \((\d{4}-\d{2}-\d{2})\)")


def finding_text(message: str, dictionary: Dictionary | None, date_order: str = "dmy") -> str:
    """A data-quality finding in labels and the person's dates: "Date of surgery (20/03/2010)
    is before Date of diagnosis (04/03/2010)"."""

    def named(match: re.Match) -> str:
        name, iso = match.groups()
        if dictionary is None or name not in dictionary:
            return match.group(0)
        return f"{field_label(dictionary, name)} ({format_date(iso, date_order)})"

    return _NAMED_VALUE.sub(named, message)
