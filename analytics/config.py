"""The study's analysis configuration as data: which fields define each endpoint, subgroup,
count and baseline row. It is stored with the data dictionary (DictionaryVersion.analysis), so a
new dictionary version carries it and another study can define its own.

`analysis` is either a full configuration (a dict with "endpoints") or a reference to a built-in
profile: {"profile": "gi_lms"}. `resolve_config` turns either into the full form; its SHA-256
(`config_digest`) goes into every snapshot.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

DAYS_PER_MONTH = 30.4375

GI_LMS: dict[str, Any] = {
    "profile": "gi_lms",
    "title": "Gastrointestinal leiomyosarcoma (GI-LMS)",
    "days_per_month": DAYS_PER_MONTH,
    "survival_times": [12, 36, 60],
    "censor_date": "last_contact_date",
    # Where an event's date comes from. "indicator": the event happened if that field has one of
    # "values"; "instrument": any instance of a repeating instrument is an event (earliest wins).
    "events": {
        "death": {"indicator": "vital_status", "values": ["0"], "date": "death_date"},
        "relapse": {"instrument": "relapse", "date": "relapse_date"},
    },
    "endpoints": [
        {
            "key": "os",
            "label": "Overall survival",
            "start": "date_dx",
            "population": {},
            "events": ["death"],
        },
        {
            "key": "dfs",
            "label": "Disease-free survival (localized, operated)",
            "start": "surgery_date",
            "population": {"stage_dx": ["1", "2"], "surgery_done": ["1"]},
            "events": ["relapse", "death"],
        },
        {
            "key": "os_localized",
            "label": "Overall survival, localized at diagnosis",
            "start": "date_dx",
            "population": {"stage_dx": ["1", "2"]},
            "events": ["death"],
        },
        # The abstract's 5-year OS and median OS are those of the localized, operated patients.
        {
            "key": "os_localized_operated",
            "label": "Overall survival (localized, operated)",
            "start": "date_dx",
            "population": {"stage_dx": ["1", "2"], "surgery_done": ["1"]},
            "events": ["death"],
        },
        {
            "key": "os_metastatic",
            "label": "Overall survival, metastatic at diagnosis",
            "start": "date_dx",
            "population": {"stage_dx": ["3"]},
            "events": ["death"],
        },
        # Reverse Kaplan-Meier: the "event" is being alive at last contact.
        {
            "key": "followup",
            "label": "Follow-up (localized, operated; reverse Kaplan-Meier)",
            "start": "date_dx",
            "population": {"stage_dx": ["1", "2"], "surgery_done": ["1"]},
            "events": ["death"],
            "reverse": True,
        },
    ],
    "subgroups": [
        {
            "key": "stage",
            "label": "Stage at diagnosis",
            "field": "stage_dx",
            "groups": {"Localized": ["1", "2"], "Metastatic": ["3"]},
        },
        {"key": "site_of_origin", "label": "Site of origin", "field": "site_of_origin"},
        {"key": "centre", "label": "Centre", "centre": True},
        {
            "key": "chemotherapy",
            "label": "(Neo)adjuvant chemotherapy",
            "instrument": "systemic_therapy",
            "field": "therapy_setting",
            "groups": {"Neoadjuvant": ["1"], "Adjuvant": ["2"]},
            "none": "None",
        },
    ],
    # Patients counted where any instance of `instrument` matches `where`; "of" + "without":
    # patients of another count who have no matching instance of the given instrument.
    "counts": [
        {
            "key": "local_relapse",
            "label": "Local relapse",
            "instrument": "relapse",
            "where": {"relapse_type": ["1"]},
        },
        {
            "key": "salvage_surgery",
            "label": "Salvage surgery after local relapse",
            "instrument": "relapse",
            "where": {"relapse_type": ["1"], "salvage_surgery": ["1"]},
        },
        {
            "key": "ned_after_salvage",
            "label": "No evidence of disease after salvage surgery",
            "instrument": "relapse",
            "where": {
                "relapse_type": ["1"],
                "salvage_surgery": ["1"],
                "status_after_salvage": ["1"],
            },
        },
        {
            "key": "neoadjuvant",
            "label": "Neoadjuvant chemotherapy",
            "instrument": "systemic_therapy",
            "where": {"therapy_setting": ["1"]},
        },
        {
            "key": "adjuvant",
            "label": "Adjuvant chemotherapy",
            "instrument": "systemic_therapy",
            "where": {"therapy_setting": ["2"]},
        },
        {
            "key": "perioperative_chemotherapy",
            "label": "(Neo)adjuvant chemotherapy",
            "instrument": "systemic_therapy",
            "where": {"therapy_setting": ["1", "2"]},
        },
        {
            "key": "relapse_free_after_chemotherapy",
            "label": "Relapse-free after (neo)adjuvant chemotherapy",
            "of": "perioperative_chemotherapy",
            "without": {"instrument": "relapse", "where": {}},
        },
    ],
    # Drug sensitivity per line (analytics.drug_response): one row per systemic_therapy form.
    "drug_response": {
        "instrument": "systemic_therapy",
        "setting": "therapy_setting",
        "settings": {"1": "Neoadjuvant", "2": "Adjuvant", "3": "Advanced"},
        "line": "therapy_line",
        "regimen": "regimen",
        "regimen_groups": {
            "Anthracycline-based": ["1", "2", "3"],
            "Gemcitabine + docetaxel": ["4"],
            "Trabectedin": ["5"],
            "Other (eribulin, pazopanib, other)": ["6", "7", "8"],
        },
        "response": "best_response",
        "responses": {"1": "CR", "2": "PR", "3": "SD", "4": "PD", "5": "NE"},
        "start": "therapy_start",
        "progression": "progression_date",
    },
    # Competing risks after surgery of localized disease (analytics.competing_risks).
    "competing_risks": {
        "population": {"stage_dx": ["1", "2"], "surgery_done": ["1"]},
        "start": "surgery_date",
        "relapse": {
            "instrument": "relapse",
            "date": "relapse_date",
            "type": "relapse_type",
            "causes": {"1": 1, "2": 2},
        },
        "death_cause": 3,
        "causes": {"1": "Local relapse", "2": "Distant relapse", "3": "Death without relapse"},
        "compare": [
            "site_of_origin",
            {"key": "margins", "label": "Resection margins", "field": "margins"},
            "chemotherapy",
        ],
    },
    "table1": {
        "by": "stage",
        "rows": [
            {"field": "sex", "kind": "categorical"},
            {
                "field": "age_at_dx",
                "kind": "continuous",
                "label": "Age at diagnosis (years)",
                # the stored calculation may be blank; then year of diagnosis - year of birth,
                # birthday taken as 1 July (as the dictionary's calculation does)
                "age_from": ["year_of_birth", "date_dx"],
            },
            {"field": "site_of_origin", "kind": "categorical"},
            {"field": "tumour_size_mm", "kind": "continuous"},
            {"field": "fnclcc_grade", "kind": "categorical"},
            {"field": "mitotic_count", "kind": "continuous"},
            {"field": "surgery_done", "kind": "categorical"},
            {"field": "margins", "kind": "categorical"},
        ],
    },
}

PROFILES: dict[str, dict[str, Any]] = {"gi_lms": GI_LMS}


class AnalysisConfigError(ValueError):
    pass


def resolve_config(analysis: dict[str, Any] | None) -> dict[str, Any]:
    """The full configuration for a DictionaryVersion.analysis value."""
    analysis = analysis or {"profile": "gi_lms"}
    if "endpoints" in analysis:
        config = copy.deepcopy(analysis)
    else:
        profile = analysis.get("profile", "gi_lms")
        if profile not in PROFILES:
            raise AnalysisConfigError(f"unknown analysis profile {profile!r}")
        config = copy.deepcopy(PROFILES[profile])
    for endpoint in config["endpoints"]:
        for event in endpoint["events"]:
            if event not in config["events"]:
                raise AnalysisConfigError(f"endpoint {endpoint['key']}: unknown event {event!r}")
    config.setdefault("days_per_month", DAYS_PER_MONTH)
    config.setdefault("survival_times", [12, 36, 60])
    config.setdefault("subgroups", [])
    config.setdefault("counts", [])
    return config


def config_digest(config: dict[str, Any]) -> str:
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
