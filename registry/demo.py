"""A synthetic GI-LMS cohort shaped like the published study (33 patients, 6 centres, 22 localized
and operated, 10 local relapses, 5 salvage surgeries, 6 neoadjuvant and 7 adjuvant, the rest
metastatic). SYNTHETIC: no real patient. Deterministic for a given seed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

CENTER_CODES = ["MIL", "BOL", "ROM", "TOR", "PAD", "NAP"]
MONTH = 30.4375
END_OF_STUDY = date(2021, 6, 30)


@dataclass
class SyntheticPatient:
    center: str
    forms: dict[str, list[dict]] = field(default_factory=dict)
    complete: bool = True
    lock: bool = True


def _d(value: date) -> str:
    return value.isoformat()


def _months(start: date, months: float) -> date:
    return start + timedelta(days=round(months * MONTH))


def build_cohort(seed: int = 2023) -> list[SyntheticPatient]:
    rng = random.Random(seed)
    patients = []
    localized_index = 0
    # 22 localized & operated, then 11 metastatic at diagnosis.
    local_relapse = set(rng.sample(range(22), 10))
    others = [i for i in range(22) if i not in local_relapse]
    distant_relapse = set(rng.sample(others, 4))
    salvage = set(sorted(local_relapse)[:5])
    salvage_ned = set(sorted(salvage)[:2])
    neoadjuvant = set(range(0, 6))
    adjuvant = set(range(6, 13))
    chemo_relapse_free = set([i for i in range(13) if i not in local_relapse][:2])
    for i in range(33):
        center = CENTER_CODES[i % 6]
        dx = date(2004, 1, 1) + timedelta(days=rng.randrange(0, 17 * 365 - 200))
        localized = i < 22
        p = SyntheticPatient(center=center)
        p.forms["enrolment"] = [
            {
                "mrn": f"SYN{rng.randrange(10**6, 10**7)}",
                "sex": rng.choice(["1", "2"]),
                "year_of_birth": str(dx.year - rng.randrange(35, 80)),
                "kit_negative": "1",
                "expert_review_confirmed": "1",
                "dx_in_study_period": "1",
            }
        ]
        p.forms["diagnosis_pathology"] = [
            {
                "date_dx": _d(dx),
                "site_of_origin": rng.choices(["1", "2", "3", "4", "5"], [1, 3, 6, 3, 2])[0],
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
        ]
        therapies: list[dict] = []
        relapses: list[dict] = []
        if localized:
            localized_index = i
            p.forms["stage"] = [{"stage_dx": rng.choice(["1", "1", "2"])}]
            surgery = dx + timedelta(days=rng.randrange(10, 60))
            if i in neoadjuvant:
                start = dx + timedelta(days=14)
                therapies.append(
                    {
                        "therapy_setting": "1",
                        "regimen": rng.choice(["2", "3"]),
                        "therapy_start": _d(start),
                        "therapy_end": _d(start + timedelta(days=84)),
                        "best_response": rng.choice(["2", "3"]),
                    }
                )
                surgery = start + timedelta(days=110)
            p.forms["primary_surgery"] = [
                {
                    "surgery_done": "1",
                    "surgery_date": _d(surgery),
                    "surgery_procedure": "Segmental resection (synthetic)",
                    "margins": rng.choice(["0", "0", "0", "1"]),
                    "rupture": rng.choice(["0", "0", "1"]),
                }
            ]
            if i in adjuvant:
                start = surgery + timedelta(days=40)
                therapies.append(
                    {
                        "therapy_setting": "2",
                        "regimen": rng.choice(["1", "2"]),
                        "therapy_start": _d(start),
                        "therapy_end": _d(start + timedelta(days=126)),
                    }
                )
            relapse_free = (i in chemo_relapse_free) or not (
                i in local_relapse or i in distant_relapse or i in neoadjuvant | adjuvant
            )
            dfs = rng.expovariate(1 / 60) + 4
            followup = rng.uniform(24, 150)
            death = None
            if not relapse_free:
                relapse = min(
                    _months(surgery, min(dfs, followup - 2)), END_OF_STUDY - timedelta(days=90)
                )
                local = i in local_relapse
                entry = {
                    "relapse_date": _d(relapse),
                    "relapse_type": "1" if local else "2",
                    "relapse_sites": ["1"] if local else [rng.choice(["2", "3", "4"])],
                    "salvage_surgery": "1" if i in salvage else "0",
                }
                if i in salvage:
                    entry["salvage_date"] = _d(relapse + timedelta(days=45))
                    entry["status_after_salvage"] = "1" if i in salvage_ned else "2"
                relapses.append(entry)
                if i not in salvage_ned and rng.random() < 0.45:
                    death = _months(relapse, rng.uniform(6, 60))
            last = death or _months(dx, followup)
            if relapses and not death:
                last = max(
                    last, date.fromisoformat(relapses[0]["relapse_date"]) + timedelta(days=60)
                )
            last = min(last, END_OF_STUDY)
            if death and death > END_OF_STUDY:
                death = None
            ned = relapse_free or i in salvage_ned
        else:
            p.forms["stage"] = [
                {"stage_dx": "3", "metastatic_sites": sorted(rng.sample(["1", "2", "3", "4"], 2))}
            ]
            p.forms["primary_surgery"] = [{"surgery_done": "0"}]
            start = dx + timedelta(days=21)
            therapies.append(
                {
                    "therapy_setting": "3",
                    "therapy_line": "1",
                    "regimen": rng.choice(["1", "2", "4"]),
                    "therapy_start": _d(start),
                    "therapy_end": _d(start + timedelta(days=126)),
                    "best_response": rng.choice(["3", "4", "2"]),
                }
            )
            os_months = rng.expovariate(1 / 20) + 3
            death = _months(dx, os_months) if rng.random() < 0.85 else None
            last = min(death or _months(dx, rng.uniform(6, 30)), END_OF_STUDY)
            if death and death > END_OF_STUDY:
                death = None
            if death:
                end = min(start + timedelta(days=126), death - timedelta(days=7))
                therapies[-1]["therapy_end"] = _d(end)
            ned = False
        p.forms["systemic_therapy"] = therapies
        p.forms["radiotherapy"] = [{"rt_given": "0"}]
        p.forms["relapse"] = relapses
        follow = {"last_contact_date": _d(last), "vital_status": "0" if death else "1"}
        if death:
            follow.update(
                death_date=_d(death),
                death_cause=rng.choice(["1", "1", "3"]),
                disease_status_last="3" if not ned else "4",
            )
        else:
            follow["disease_status_last"] = "1" if ned else "2"
        p.forms["follow_up"] = [follow]
        patients.append(p)
    # A few records still in progress: not complete, not locked.
    for index in (5, 17, 30):
        patients[index].complete = False
        patients[index].lock = False
        patients[index].forms["follow_up"] = []
    for index in (8, 25):
        patients[index].lock = False
    del localized_index
    return patients
