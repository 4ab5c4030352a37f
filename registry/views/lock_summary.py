"""What a signature covers, as the signer reads it: every form with data, its status, and its
values with labels, choice labels and dates in the signer's format (read-only)."""

from __future__ import annotations

from datetime import date

from django.urls import reverse

from registry.dictionary_text import dictionary_plain_text
from registry.entry import entry_fields
from registry.form_findings import format_date
from registry.forms.instrument_fields import display_value
from registry.models import DictionaryVersion, Record
from registry.services.locking import Blocker

from .common import status_css


def _shown(f, value, codes: dict[str, str], date_order: str) -> str:
    if value in ("", [], None):
        return ""
    labels = {code: dictionary_plain_text(label) for code, label in f.choice_map.items()}
    if isinstance(value, list):
        return ", ".join(labels.get(v) or codes.get(v) or v for v in value)
    if value in labels:
        return labels[value]
    if value in codes:
        return f"{value} ({codes[value]})"
    return str(display_value(f, value, date_order))


def signed_summary(record: Record, version: DictionaryVersion, date_order: str) -> list[dict]:
    dictionary = version.dictionary
    repeating = set(version.repeating_instruments)
    codes = {c["code"]: c.get("label", "") for c in version.missing_codes}
    rows = {
        (r.instrument, r.instance): r for r in record.instruments.filter(deleted_at__isnull=True)
    }
    summary = []
    for form, label in dictionary.forms:
        for (name, instance), row in sorted(rows.items(), key=lambda kv: kv[0][1]):
            if name != form:
                continue
            values = []
            for f in entry_fields(dictionary, form):
                shown = _shown(f, row.data.get(f.name), codes, date_order)
                if shown:
                    values.append((dictionary_plain_text(f.label) or f.name, shown))
            summary.append(
                {
                    "label": f"{label} #{instance}" if form in repeating else label,
                    "url": reverse("registry:instrument", args=[record.record_id, form, instance]),
                    "status": status_css(row.status)[1],
                    "values": values,
                }
            )
    return summary


def blocker_links(
    record: Record, version: DictionaryVersion, blockers: list[Blocker], date_order: str
) -> list[tuple[str, str]]:
    """Each blocker in words, with the page that resolves it."""
    dictionary = version.dictionary

    def label(name: str) -> str:
        return dictionary_plain_text(dictionary.field(name).label) if name in dictionary else name

    def fmt_date(value: date) -> str:
        return format_date(value, date_order)

    out = []
    for b in blockers:
        text = b.text
        if b.finding is not None:
            text = f"{b.finding.rule_name}: {b.finding.words(label, fmt_date)}"
        if b.queries:
            url = f"{reverse('registry:queries')}?record={record.record_id}"
        elif b.instrument in dictionary.form_names:
            url = reverse("registry:instrument", args=[record.record_id, b.instrument, b.instance])
        else:
            url = ""
        out.append((text, url))
    return out
