"""Data-quality rules: the study's built-in cross-field checks and rules a data manager writes in
REDCap logic syntax (a record is flagged where the rule's logic is TRUE)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from registry.logic import LogicSyntaxError, is_true

from .models import DataQualityRule, Record


@dataclass(frozen=True)
class Finding:
    rule_key: str
    rule_name: str
    message: str
    instrument: str = ""
    field: str = ""
    instance: int = 1


@dataclass
class RecordData:
    """A record's values: `flat` for non-repeating instruments, `instances` per repeating one."""

    flat: dict
    instances: dict[str, list[tuple[int, dict]]]
    field_forms: dict[str, str]
    date_fields: list[str]
    missing_codes: set[str]

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
            Finding(
                key,
                name,
                _("%(late)s (%(b)s) is before %(early)s (%(a)s)")
                % {"late": late, "b": b, "early": early, "a": a},
                rd.field_forms.get(late, ""),
                late,
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
                Finding(
                    "surgery_before_relapse",
                    _("Surgery before relapse"),
                    _("relapse_date (%(relapse)s) is before surgery_date (%(surgery)s)")
                    % {"relapse": relapse, "surgery": surgery},
                    "relapse",
                    "relapse_date",
                    instance,
                )
            )
        if relapse and last and relapse > last:
            out.append(
                Finding(
                    "relapse_before_last_contact",
                    _("Relapse before last contact"),
                    _("relapse_date (%(relapse)s) is after last_contact_date (%(last)s)")
                    % {"relapse": relapse, "last": last},
                    "relapse",
                    "relapse_date",
                    instance,
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
                        Finding(
                            "death_after_all",
                            _("Death after every other date"),
                            _("%(field)s (%(other)s) is after death_date (%(death)s)")
                            % {"field": name, "other": other, "death": death},
                            rd.field_forms.get(name, ""),
                            name,
                            instance,
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
                    Finding(
                        "no_future_dates",
                        _("No dates in the future"),
                        _("%(field)s (%(value)s) is in the future")
                        % {"field": name, "value": value},
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
            )
        ]
    return []


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
                    f"custom_{rule.pk}", rule.name, _("rule: %(logic)s") % {"logic": rule.logic}
                )
            )
    return findings


def open_findings(record: Record, dictionary_version) -> list[Finding]:
    acknowledged = set(record.acknowledgements.values_list("rule_key", flat=True))
    return [f for f in findings_for(record, dictionary_version) if f.rule_key not in acknowledged]
