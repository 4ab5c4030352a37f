"""Data-quality rules: the study's built-in cross-field checks and rules a data manager writes in
REDCap logic syntax (a record is flagged where the rule's logic is TRUE)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from registry.logic import LogicSyntaxError, field_references, is_true

from .models import DataQualityRule, Record

# A message in parts, so it can be shown in labels and the reader's date format (words()):
# text, ("field", name) or ("date", date).
Part = str | tuple[str, object]


@dataclass(frozen=True)
class Finding:
    rule_key: str
    rule_name: str
    message: str
    instrument: str = ""
    field: str = ""
    instance: int = 1
    parts: tuple[Part, ...] = ()
    related: tuple[str, ...] = ()  # the other fields involved (the form shows it beside them)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for n in (self.field, *self.related) if n))

    def words(self, label: Callable[[str], str], fmt_date: Callable[[date], str]) -> str:
        """The message with field labels and dates formatted by the caller."""
        if not self.parts:
            return self.message
        return "".join(
            p if isinstance(p, str) else (label(p[1]) if p[0] == "field" else fmt_date(p[1]))
            for p in self.parts
        )


def _finding(
    key: str,
    name: str,
    parts: list[Part],
    instrument: str,
    field: str,
    instance: int = 1,
    related: tuple[str, ...] = (),
) -> Finding:
    """A finding whose plain message is its parts with names and ISO dates."""
    message = "".join(p if isinstance(p, str) else str(p[1]) for p in parts)
    return Finding(key, name, message, instrument, field, instance, tuple(parts), related)


@dataclass
class RecordData:
    """A record's values: `flat` for non-repeating instruments, `instances` per repeating one."""

    flat: dict
    instances: dict[str, list[tuple[int, dict]]]
    field_forms: dict[str, str]
    date_fields: list[str]
    missing_codes: set[str]
    calcs: dict[str, str] = field(default_factory=dict)  # calc field -> its calculation

    def date(self, name: str, values: dict | None = None) -> date | None:
        raw = (values if values is not None else self.flat).get(name)
        if not raw or not isinstance(raw, str) or raw in self.missing_codes:
            return None
        try:
            return date.fromisoformat(raw[:10])
        except ValueError:
            return None


def _before(rd: RecordData, early: str, late: str, key: str, name: str) -> list[Finding]:
    a, b = rd.date(early), rd.date(late)
    if a and b and b < a:
        return [
            _finding(
                key,
                name,
                [
                    ("field", late),
                    " (",
                    ("date", b),
                    _(") is before "),
                    ("field", early),
                    " (",
                    ("date", a),
                    ")",
                ],
                rd.field_forms.get(late, ""),
                late,
                related=(early,),
            )
        ]
    return []


def _relapse_order(rd: RecordData) -> list[Finding]:
    out = []
    surgery, last = rd.date("surgery_date"), rd.date("last_contact_date")
    for instance, values in rd.instances.get("relapse", []):
        relapse = rd.date("relapse_date", values)
        if relapse and surgery and relapse < surgery:
            out.append(
                _finding(
                    "surgery_before_relapse",
                    _("Surgery before relapse"),
                    [
                        ("field", "relapse_date"),
                        " (",
                        ("date", relapse),
                        _(") is before "),
                        ("field", "surgery_date"),
                        " (",
                        ("date", surgery),
                        ")",
                    ],
                    "relapse",
                    "relapse_date",
                    instance,
                    related=("surgery_date",),
                )
            )
        if relapse and last and relapse > last:
            out.append(
                _finding(
                    "relapse_before_last_contact",
                    _("Relapse before last contact"),
                    [
                        ("field", "relapse_date"),
                        " (",
                        ("date", relapse),
                        _(") is after "),
                        ("field", "last_contact_date"),
                        " (",
                        ("date", last),
                        ")",
                    ],
                    "relapse",
                    "relapse_date",
                    instance,
                    related=("last_contact_date",),
                )
            )
    return out


def _death(rd: RecordData) -> list[Finding]:
    out = []
    status, death = rd.flat.get("vital_status"), rd.date("death_date")
    raw_death = rd.flat.get("death_date")
    if status == "0" and not raw_death:
        out.append(
            Finding(
                "death_date_iff_dead",
                _("Death date present if and only if dead"),
                _("vital status is Dead but there is no death date"),
                "follow_up",
                "death_date",
                related=("vital_status",),
            )
        )
    if status == "1" and raw_death:
        out.append(
            Finding(
                "death_date_iff_dead",
                _("Death date present if and only if dead"),
                _("vital status is Alive but a death date is recorded"),
                "follow_up",
                "death_date",
                related=("vital_status",),
            )
        )
    if death:
        for name in rd.date_fields:
            if name == "death_date":
                continue
            for instance, values in _all_values(rd, name):
                other = rd.date(name, values)
                if other and other > death:
                    out.append(
                        _finding(
                            "death_after_all",
                            _("Death after every other date"),
                            [
                                ("field", name),
                                " (",
                                ("date", other),
                                _(") is after "),
                                ("field", "death_date"),
                                " (",
                                ("date", death),
                                ")",
                            ],
                            rd.field_forms.get(name, ""),
                            name,
                            instance,
                            related=("death_date",),
                        )
                    )
    return out


def _future(rd: RecordData) -> list[Finding]:
    today = timezone.localdate()
    out = []
    for name in rd.date_fields:
        for instance, values in _all_values(rd, name):
            value = rd.date(name, values)
            if value and value > today:
                out.append(
                    _finding(
                        "no_future_dates",
                        _("No dates in the future"),
                        [("field", name), " (", ("date", value), _(") is in the future")],
                        rd.field_forms.get(name, ""),
                        name,
                        instance,
                    )
                )
    return out


def _followup(rd: RecordData) -> list[Finding]:
    dx, last = rd.date("date_dx"), rd.date("last_contact_date")
    if dx and last and rd.flat.get("vital_status") == "1" and (last - dx).days < 90:
        return [
            Finding(
                "followup_plausible",
                _("Follow-up long enough to be plausible"),
                _("alive with only %(days)s days of follow-up since diagnosis")
                % {"days": (last - dx).days},
                "follow_up",
                "last_contact_date",
                related=("date_dx", "vital_status"),
            )
        ]
    return []


def _negative_intervals(rd: RecordData) -> list[Finding]:
    """A calculated interval (datediff) below zero: its dates are in the wrong order."""
    out = []
    for name, calculation in rd.calcs.items():
        if "datediff" not in calculation:
            continue
        for instance, values in _all_values(rd, name):
            try:
                value = float(values.get(name, ""))
            except (TypeError, ValueError):
                continue
            if value < 0:
                out.append(
                    _finding(
                        f"negative_interval_{name}",
                        "Intervals are not negative",
                        [("field", name), f" is negative ({values[name]}): check its dates"],
                        rd.field_forms.get(name, ""),
                        name,
                        instance,
                        related=tuple(sorted(field_references(calculation))),
                    )
                )
    return out


def _all_values(rd: RecordData, name: str):
    form = rd.field_forms.get(name, "")
    if form in rd.instances:
        return rd.instances[form]
    return [(1, rd.flat)]


BUILTIN_RULES: list[Callable[[RecordData], list[Finding]]] = [
    lambda rd: _before(
        rd, "date_dx", "surgery_date", "dx_before_surgery", _("Diagnosis before surgery")
    ),
    lambda rd: _before(
        rd,
        "date_dx",
        "last_contact_date",
        "dx_before_last_contact",
        _("Diagnosis before last contact"),
    ),
    _relapse_order,
    _death,
    _future,
    _followup,
    _negative_intervals,
]


def record_data(record: Record, dictionary_version) -> RecordData:
    dictionary = dictionary_version.dictionary
    repeating = set(dictionary_version.repeating_instruments)
    flat: dict = {}
    instances: dict[str, list[tuple[int, dict]]] = {}
    for row in record.instruments.filter(deleted_at__isnull=True).order_by("instance"):
        if row.instrument in repeating:
            instances.setdefault(row.instrument, []).append((row.instance, row.data))
        else:
            flat.update(row.data)
    return RecordData(
        flat=flat,
        instances=instances,
        field_forms={f.name: f.form for f in dictionary.fields},
        date_fields=[f.name for f in dictionary.fields if f.is_date],
        missing_codes=set(dictionary_version.missing_code_values),
        calcs={f.name: f.calculation for f in dictionary.fields if f.field_type == "calc"},
    )


def findings_for(record: Record, dictionary_version) -> list[Finding]:
    rd = record_data(record, dictionary_version)
    findings: list[Finding] = []
    for rule in BUILTIN_RULES:
        findings.extend(rule(rd))
    for rule in DataQualityRule.objects.filter(is_active=True):
        try:
            flagged = is_true(rule.logic, rd.flat, missing_codes=sorted(rd.missing_codes))
        except (LogicSyntaxError, ValueError):
            continue
        if flagged:
            findings.append(
                Finding(
                    f"custom_{rule.pk}",
                    rule.name,
                    _("rule: %(logic)s") % {"logic": rule.logic},
                    related=tuple(sorted(field_references(rule.logic))),
                )
            )
    return findings


def open_findings(record: Record, dictionary_version) -> list[Finding]:
    acknowledged = set(record.acknowledgements.values_list("rule_key", flat=True))
    return [f for f in findings_for(record, dictionary_version) if f.rule_key not in acknowledged]
