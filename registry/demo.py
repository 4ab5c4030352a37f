"""Building the SYNTHETIC demo patients (forms as entered) from the courses written out in
registry/demo_cohort.py: the study's 33 patients, to be locked, and a few workflow records that
are not. Deterministic."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from .demo_cohort import (
    AWAITING_SIGNATURE,
    DOXO,
    DOXO_DTIC,
    DOXO_IFO,
    IN_PROGRESS,
    LOCALIZED,
    METASTATIC,
    OPEN_QUERY,
    PR,
    QUESTION,
    SD,
    Line,
    Localized,
    Metastatic,
)

CENTER_CODES = ["MIL", "BOL", "ROM", "TOR", "PAD", "NAP"]
MONTH = 30.4375
ANTHRACYCLINES = {"1", "2", "3"}  # six cycles (4.2 months), then stopped


@dataclass
class SyntheticPatient:
    center: str
    forms: dict[str, list[dict]] = field(default_factory=dict)
    complete: bool = True
    lock: bool = True
    query: tuple[str, str, str] | None = None  # (instrument, field, question) left open


def build_cohort(seed: int | None = None) -> list[SyntheticPatient]:
    """The 33 patients of the study (to be locked), then the workflow records (not locked).

    `seed` is for benchmarks that need many different patients: every duration of a patient is
    stretched by a factor drawn in [0.85, 1.15], so the figures no longer match the paper."""
    rng = random.Random(2023 if seed is None else seed)
    patients = []
    for i, course in enumerate([*LOCALIZED, *METASTATIC]):
        stretch = 1.0 if seed is None else rng.uniform(0.85, 1.15)
        patients.append(_patient(CENTER_CODES[i % 6], course, rng, stretch))
    for i, (dx, site) in enumerate(IN_PROGRESS):
        patient = SyntheticPatient(CENTER_CODES[i], complete=False, lock=False)
        patient.forms = {
            "enrolment": [_enrolment(dx, rng)],
            "diagnosis_pathology": [_pathology(dx, site, rng)],
            "stage": [{"stage_dx": "1"}],
        }
        patients.append(patient)
    waiting = _patient("TOR", AWAITING_SIGNATURE, rng, 1.0)
    queried = _patient("PAD", OPEN_QUERY, rng, 1.0)
    waiting.lock = queried.lock = False
    queried.query = QUESTION
    return [*patients, waiting, queried]


def _d(value: date) -> str:
    return value.isoformat()


def _after(start: date, months: float, stretch: float = 1.0) -> date:
    return start + timedelta(days=round(months * stretch * MONTH))


def _enrolment(dx: date, rng: random.Random) -> dict:
    return {
        "mrn": f"SYN{rng.randrange(10**6, 10**7)}",
        "sex": rng.choice(["1", "2"]),
        "year_of_birth": str(dx.year - rng.randrange(35, 80)),
        "kit_negative": "1",
        "expert_review_confirmed": "1",
        "dx_in_study_period": "1",
    }


def _pathology(dx: date, site: str, rng: random.Random) -> dict:
    return {
        "date_dx": _d(dx),
        "site_of_origin": site,
        "tumour_size_mm": str(rng.randrange(20, 180)),
        "fnclcc_grade": rng.choice(["1", "2", "3", "3"]),
        "mitotic_count": str(rng.randrange(1, 40)),
        "kit_cd117": "2",
        "dog1": rng.choice(["2", "2", "3"]),
        "desmin": "1",
        "sma": "1",
        "h_caldesmon": rng.choice(["1", "3"]),
        "path_review_confirmed": "1",
        "path_review_date": _d(dx + timedelta(days=20)),
    }


def _lines(lines: tuple[Line, ...], anchor: date, stretch: float) -> list[dict]:
    """Advanced lines one after the other: each starts `delay` after the previous progression."""
    out = []
    for number, line in enumerate(lines, start=1):
        start = _after(anchor, line.delay, stretch)
        entry = {
            "therapy_setting": "3",
            "therapy_line": str(number),
            "regimen": line.regimen,
            "therapy_start": _d(start),
            "best_response": line.response,
        }
        stop = _after(start, 4.2, stretch) if line.regimen in ANTHRACYCLINES else None
        if line.progression is not None:
            anchor = _after(start, line.progression, stretch)
            entry["progression_date"] = _d(anchor)
            stop = min(stop, anchor) if stop else anchor
        if stop is not None:  # else still on treatment
            entry["therapy_end"] = _d(stop)
        out.append(entry)
    return out


def _patient(
    center: str, course: Localized | Metastatic, rng: random.Random, stretch: float
) -> SyntheticPatient:
    dx = course.dx
    p = SyntheticPatient(center=center)
    p.forms["enrolment"] = [_enrolment(dx, rng)]
    p.forms["diagnosis_pathology"] = [_pathology(dx, course.site, rng)]
    p.forms["radiotherapy"] = [{"rt_given": "0"}]
    last = _after(dx, course.followup, stretch)
    if isinstance(course, Metastatic):
        sites = sorted(rng.sample(["1", "2", "3", "4"], rng.choice([1, 2])))
        p.forms["stage"] = [{"stage_dx": "3", "metastatic_sites": sites}]
        p.forms["primary_surgery"] = [{"surgery_done": "0"}]
        p.forms["systemic_therapy"] = _lines(course.lines, dx, stretch)
        p.forms["relapse"] = []
        p.forms["follow_up"] = [_follow_up(last, course.died, "1", ned=False)]
        return p
    therapies, relapses = _localized(p, course, rng, stretch)
    p.forms["systemic_therapy"] = therapies
    p.forms["relapse"] = relapses
    ned = course.relapse is None or course.salvage == "ned"
    p.forms["follow_up"] = [_follow_up(last, course.died, course.cause, ned=ned)]
    return p


def _localized(
    p: SyntheticPatient, course: Localized, rng: random.Random, stretch: float
) -> tuple[list[dict], list[dict]]:
    dx, therapies, relapses = course.dx, [], []
    surgery = _after(dx, 4.2 if course.chemo == "neo" else 0.8, stretch)
    p.forms["stage"] = [{"stage_dx": rng.choice(["1", "1", "2"])}]
    p.forms["primary_surgery"] = [
        {
            "surgery_done": "1",
            "surgery_date": _d(surgery),
            "surgery_procedure": "Segmental resection (synthetic)",
            "margins": rng.choice(["0", "0", "0", "1"]),
            "rupture": rng.choice(["0", "0", "1"]),
        }
    ]
    if course.chemo == "neo":
        start = _after(dx, 0.6, stretch)
        therapies.append(
            {
                "therapy_setting": "1",
                "regimen": rng.choice([DOXO_IFO, DOXO_DTIC]),
                "therapy_start": _d(start),
                "therapy_end": _d(_after(start, 2.8, stretch)),
                "best_response": rng.choice([PR, SD]),
            }
        )
    if course.chemo == "adj":
        start = _after(surgery, 1.3, stretch)
        therapies.append(
            {
                "therapy_setting": "2",
                "regimen": rng.choice([DOXO, DOXO_IFO]),
                "therapy_start": _d(start),
                "therapy_end": _d(_after(start, 4.2, stretch)),
            }
        )
    if course.relapse is None:
        return therapies, relapses
    first = _after(surgery, course.relapse, stretch)
    local = not course.distant_first
    entry = {
        "relapse_date": _d(first),
        "relapse_type": "1" if local else "2",
        "relapse_sites": ["1"] if local else [rng.choice(["2", "3"])],
        "salvage_surgery": "1" if course.salvage else "0",
    }
    anchor = first
    if course.salvage:
        anchor = _after(first, 1.5, stretch)
        entry["salvage_date"] = _d(anchor)
        entry["status_after_salvage"] = "1" if course.salvage == "ned" else "2"
    relapses.append(entry)
    if course.distant is not None:
        anchor = _after(surgery, course.distant, stretch)
        relapses.append(
            {
                "relapse_date": _d(anchor),
                "relapse_type": "2",
                "relapse_sites": [rng.choice(["2", "3", "4"])],
                "salvage_surgery": "0",
            }
        )
    therapies += _lines(course.lines, anchor, stretch)
    return therapies, relapses


def _follow_up(last: date, died: bool, cause: str, *, ned: bool) -> dict:
    if not died:
        return {
            "last_contact_date": _d(last),
            "vital_status": "1",
            "disease_status_last": "1" if ned else "2",
        }
    return {
        "last_contact_date": _d(last),
        "vital_status": "0",
        "death_date": _d(last),
        "death_cause": cause,
        "disease_status_last": "3" if cause == "1" else "4",
    }
