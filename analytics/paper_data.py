"""Per-patient inputs of the drug-response and competing-risks analyses, derived from a
patient's instrument data following the analysis configuration ("drug_response" and
"competing_risks" sections of analytics.config). Pure functions over analytics.endpoints.Patient.

Conventions (documented where the data leave a choice):

* A systemic_therapy form without a setting is not a line (left out); an advanced line whose
  line number is not an integer is "line not recorded".
* A treatment line's PFS: from ``therapy_start`` to the earlier of ``progression_date`` (on that
  line) and death; censored at last contact.  A line without a start date, or whose
  progression or last contact precedes its start, has no PFS (the reason is kept).
* Competing risks, localized operated patients, from surgery: the first event ends follow-up.
  The earliest relapse decides the cause (local or distant); a local and a distant relapse on
  the same date count as distant (the worse prognosis).  Death before any relapse is
  "death without relapse"; otherwise censored at last contact.  A first relapse without a
  type, or dates out of order, excludes the patient with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from .cohort import Labels, subgroup_value
from .endpoints import Excluded, Exclusion, Patient, _is_blank, in_population, parse_date

__all__ = [
    "CompetingObservation",
    "TherapyLine",
    "competing_outcome",
    "compare_specs",
    "paper_fields",
    "therapy_lines",
]


@dataclass(frozen=True)
class TherapyLine:
    setting: str
    line: int | None
    regimen_group: str | None
    response: str | None
    pfs_time: float | None
    pfs_event: int | None
    pfs_note: str = ""


@dataclass(frozen=True)
class CompetingObservation:
    time_months: float
    status: int  # 0 censored, else the cause number of the configuration
    groups: Mapping[str, str | None]


def paper_fields(config: Mapping[str, Any]) -> set[str]:
    """Every field the two analyses read (added to what the loader fetches)."""
    names: set[str] = set()
    drugs = config.get("drug_response")
    if drugs:
        names.update(drugs[k] for k in ("setting", "line", "regimen", "response", "start"))
        names.add(drugs["progression"])
    risks = config.get("competing_risks")
    if risks:
        names.update(risks.get("population", {}))
        names.add(risks["start"])
        names.update((risks["relapse"]["date"], risks["relapse"]["type"]))
        for spec in compare_specs(config):
            if "field" in spec:
                names.add(spec["field"])
    return names


def compare_specs(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The subgroup specs Gray's test compares (names refer to config["subgroups"])."""
    known = {sg["key"]: sg for sg in config.get("subgroups", [])}
    out = []
    for item in (config.get("competing_risks") or {}).get("compare", []):
        spec = known.get(item) if isinstance(item, str) else item
        if spec:
            out.append(dict(spec))
    return out


def _months(start: date, end: date, config: Mapping[str, Any]) -> float:
    return (end - start).days / float(config["days_per_month"])


def _death(patient: Patient, config: Mapping[str, Any], missing: set[str]) -> date | None:
    spec = config["events"]["death"]
    raw = patient.values.get(spec["indicator"])
    if _is_blank(raw) or str(raw) not in spec["values"]:
        return None
    return parse_date(patient.values, spec["date"], missing)


def _optional_date(values: Mapping[str, Any], name: str, missing: set[str]) -> date | None:
    if _is_blank(values.get(name)) or str(values.get(name)) in missing:
        return None
    return parse_date(values, name, missing)


def therapy_lines(
    patient: Patient, config: Mapping[str, Any], missing: set[str]
) -> tuple[TherapyLine, ...]:
    spec = config.get("drug_response")
    if not spec:
        return ()
    out = []
    for number, values in enumerate(patient.instances.get(spec["instrument"], []), start=1):
        setting = spec["settings"].get(str(values.get(spec["setting"])))
        if setting is None:
            continue
        line = None
        if setting == "Advanced":
            try:
                line = int(str(values.get(spec["line"])).strip())
            except ValueError:
                line = None
        regimen = str(values.get(spec["regimen"]))
        group = next((g for g, codes in spec["regimen_groups"].items() if regimen in codes), None)
        response = spec["responses"].get(str(values.get(spec["response"])))
        time = event = None
        note = ""
        if setting == "Advanced":
            try:
                time, event = _pfs(patient, values, spec, config, missing)
            except Excluded as exc:
                note = f"{spec['instrument']} #{number}: {exc}"
        out.append(TherapyLine(setting, line, group, response, time, event, note))
    return tuple(out)


def _pfs(
    patient: Patient,
    values: Mapping[str, Any],
    spec: Mapping[str, Any],
    config: Mapping[str, Any],
    missing: set[str],
) -> tuple[float, int]:
    start = parse_date(values, spec["start"], missing)
    ends = [d for d in (_optional_date(values, spec["progression"], missing),) if d]
    death = _death(patient, config, missing)
    if death:
        ends.append(death)
    if ends:
        end = min(ends)
        if end < start:
            raise Excluded(f"progression or death ({end}) is before {spec['start']} ({start})")
        return _months(start, end, config), 1
    censor = parse_date(patient.values, config["censor_date"], missing)
    if censor < start:
        raise Excluded(f"{config['censor_date']} ({censor}) is before {spec['start']} ({start})")
    return _months(start, censor, config), 0


def competing_outcome(
    patient: Patient, config: Mapping[str, Any], labels: Labels, missing: set[str]
) -> CompetingObservation | Exclusion | None:
    spec = config.get("competing_risks")
    if not spec:
        return None
    try:
        if not in_population(patient, spec.get("population", {}), missing):
            return None
        start = parse_date(patient.values, spec["start"], missing)
        status, end = _first_event(patient, spec, config, missing)
        if end < start:
            raise Excluded(f"the first event ({end}) is before {spec['start']} ({start})")
    except Excluded as exc:
        return Exclusion(patient.record_id, str(exc))
    groups = {s["key"]: subgroup_value(patient, s, labels, missing) for s in compare_specs(config)}
    return CompetingObservation(_months(start, end, config), status, groups)


def _first_event(
    patient: Patient, spec: Mapping[str, Any], config: Mapping[str, Any], missing: set[str]
) -> tuple[int, date]:
    relapse = spec["relapse"]
    found: list[tuple[date, int]] = []
    for number, values in enumerate(patient.instances.get(relapse["instrument"], []), start=1):
        when = parse_date(values, relapse["date"], missing, f"{relapse['instrument']} #{number}")
        cause = relapse["causes"].get(str(values.get(relapse["type"])))
        found.append((when, cause or 0))
    if found:
        first = min(when for when, _ in found)
        causes = {c for when, c in found if when == first}
        if 0 in causes:
            raise Excluded(f"{relapse['type']} missing for the first relapse ({first})")
        return max(causes), first
    death = _death(patient, config, missing)
    if death:
        return spec["death_cause"], death
    return 0, parse_date(patient.values, config["censor_date"], missing)
