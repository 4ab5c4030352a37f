"""Endpoint derivation from instrument data on tricky records (no database)."""

from __future__ import annotations

import pytest

from analytics.cohort import patient_counts, subgroup_values, table_one
from analytics.config import GI_LMS, AnalysisConfigError, config_digest, resolve_config
from analytics.endpoints import Patient, derive_endpoints, needed_fields

CONFIG = resolve_config({"profile": "gi_lms"})
CODES = {"UNK", "NA", "ND", "NASK"}
M = 30.4375


def patient(rid="MIL-0001", centre="MIL", relapses=(), therapies=(), **values) -> Patient:
    base = {
        "date_dx": "2010-01-01",
        "stage_dx": "1",
        "surgery_done": "1",
        "surgery_date": "2010-02-01",
        "last_contact_date": "2015-01-01",
        "vital_status": "1",
        "site_of_origin": "3",
        "sex": "1",
        "year_of_birth": "1950",
    }
    base.update(values)
    return Patient(
        rid, centre, base, {"relapse": list(relapses), "systemic_therapy": list(therapies)}
    )


def derived(*patients: Patient) -> dict:
    return derive_endpoints(patients, CONFIG, CODES)


def only(data, endpoint):
    (obs,) = data[endpoint].observations
    return obs


def test_alive_patient_is_censored_at_last_contact():
    data = derived(patient())
    os_ = only(data, "os")
    assert os_.event == 0
    assert os_.time_months == pytest.approx((365 * 5 + 1) / M)  # 2010-01-01 .. 2015-01-01
    dfs = only(data, "dfs")
    assert (dfs.event, dfs.time_months) == (0, pytest.approx((1795) / M))
    followup = only(data, "followup")
    assert followup.event == 1  # reverse KM: alive at last contact is the event


def test_death_is_the_os_event_and_ends_dfs():
    data = derived(
        patient(vital_status="0", death_date="2012-01-01", last_contact_date="2012-01-01")
    )
    assert only(data, "os").event == 1
    assert only(data, "os").time_months == pytest.approx(730 / M)
    assert only(data, "dfs").event == 1
    assert only(data, "dfs").time_months == pytest.approx(699 / M)  # from surgery
    assert only(data, "followup").event == 0


def test_repeating_relapses_the_earliest_counts_whatever_the_instance_order():
    relapses = [
        {"relapse_date": "2013-05-01", "relapse_type": "2"},
        {"relapse_date": "2011-02-01", "relapse_type": "1"},
        {"relapse_date": "2014-01-01", "relapse_type": "1"},
    ]
    data = derived(patient(relapses=relapses))
    dfs = only(data, "dfs")
    assert dfs.event == 1
    assert dfs.time_months == pytest.approx(365 / M)  # 2010-02-01 .. 2011-02-01
    assert only(data, "os").event == 0  # relapses do not end OS


def test_relapse_before_surgery_is_excluded_from_dfs_only():
    data = derived(patient(relapses=[{"relapse_date": "2010-01-15", "relapse_type": "1"}]))
    assert data["dfs"].observations == []
    (excluded,) = data["dfs"].excluded
    assert excluded.record == "MIL-0001"
    assert "relapse_date (2010-01-15) is before surgery_date (2010-02-01)" in excluded.reason
    assert only(data, "os").event == 0


def test_death_without_date_is_excluded_with_the_reason():
    data = derived(patient(vital_status="0", death_date=""))
    for key in ("os", "dfs", "os_localized", "os_localized_operated", "followup"):
        assert data[key].observations == []
        (excluded,) = data[key].excluded
        assert "death_date missing although vital_status=0" in excluded.reason


@pytest.mark.parametrize("field", ["date_dx", "last_contact_date"])
def test_missing_data_codes_in_dates_exclude(field):
    data = derived(patient(**{field: "UNK"}))
    (excluded,) = data["os"].excluded
    assert excluded.reason == f"{field} is UNK (missing-data code)"


def test_unk_relapse_date_excludes_from_dfs_since_the_first_relapse_is_unknown():
    data = derived(patient(relapses=[{"relapse_date": "2012-01-01"}, {"relapse_date": "UNK"}]))
    (excluded,) = data["dfs"].excluded
    assert excluded.reason == "relapse_date is UNK (missing-data code) in relapse #2"
    assert len(data["os"].observations) == 1


def test_unknown_stage_is_listed_not_silently_dropped():
    data = derived(patient(stage_dx="UNK"))
    assert len(data["os"].observations) == 1
    for key in ("dfs", "os_localized", "os_localized_operated", "os_metastatic"):
        (excluded,) = data[key].excluded
        assert "stage_dx is UNK" in excluded.reason


def test_populations_by_stage_and_surgery():
    metastatic = patient("MIL-0002", stage_dx="3", surgery_done="0", surgery_date="")
    unoperated = patient("MIL-0003", stage_dx="2", surgery_done="0", surgery_date="")
    data = derived(patient(), metastatic, unoperated)
    assert [o.record_id for o in data["os"].observations] == ["MIL-0001", "MIL-0002", "MIL-0003"]
    assert [o.record_id for o in data["dfs"].observations] == ["MIL-0001"]
    assert [o.record_id for o in data["os_localized"].observations] == ["MIL-0001", "MIL-0003"]
    assert [o.record_id for o in data["os_localized_operated"].observations] == ["MIL-0001"]
    assert [o.record_id for o in data["os_metastatic"].observations] == ["MIL-0002"]
    assert all(not d.excluded for d in data.values())


def test_inconsistent_dates_are_excluded():
    data = derived(patient(last_contact_date="2009-12-01"))
    assert (
        "last_contact_date (2009-12-01) is before date_dx (2010-01-01)"
        in data["os"].excluded[0].reason
    )
    late = derived(patient(relapses=[{"relapse_date": "2016-01-01"}]))
    assert "is after last_contact_date" in late["dfs"].excluded[0].reason


def test_counts_local_relapse_salvage_and_chemotherapy():
    p1 = patient(
        "A",
        relapses=[
            {
                "relapse_date": "2011-01-01",
                "relapse_type": "1",
                "salvage_surgery": "1",
                "status_after_salvage": "1",
            }
        ],
        therapies=[{"therapy_setting": "1"}],
    )
    p2 = patient(
        "B",
        relapses=[
            {"relapse_date": "2011-01-01", "relapse_type": "2"},
            {
                "relapse_date": "2012-01-01",
                "relapse_type": "1",
                "salvage_surgery": "1",
                "status_after_salvage": "2",
            },
        ],
        therapies=[{"therapy_setting": "2"}],
    )
    p3 = patient("C", therapies=[{"therapy_setting": "1"}, {"therapy_setting": "2"}])
    p4 = patient("D", therapies=[{"therapy_setting": "3"}])
    counts = patient_counts([p1, p2, p3, p4], CONFIG)
    assert {k: v["n"] for k, v in counts.items()} == {
        "local_relapse": 2,
        "salvage_surgery": 2,
        "ned_after_salvage": 1,
        "neoadjuvant": 2,
        "adjuvant": 2,
        "perioperative_chemotherapy": 3,
        "relapse_free_after_chemotherapy": 1,
    }
    assert counts["relapse_free_after_chemotherapy"]["of"] == 3
    groups = subgroup_values(
        [p1, p2, p3, p4], CONFIG, {"site_of_origin": {"3": "Small bowel"}}, CODES
    )
    assert groups["chemotherapy"] == {
        "A": "Neoadjuvant",
        "B": "Adjuvant",
        "C": "Neoadjuvant + Adjuvant",
        "D": "None",
    }
    assert groups["site_of_origin"]["A"] == "Small bowel"
    assert groups["centre"]["A"] == "MIL"


def test_table_one_by_stage_with_median_iqr_and_age_fallback():
    patients = [
        patient(str(i), stage_dx="1" if i < 3 else "3", tumour_size_mm=str(10 * i))
        for i in range(1, 6)
    ]
    table = table_one(patients, CONFIG, {"sex": {"1": "Male", "2": "Female"}}, {}, CODES)
    assert [c["label"] for c in table["columns"]] == ["Localized", "Metastatic", "All"]
    assert [c["n"] for c in table["columns"]] == [2, 3, 5]
    size = next(r for r in table["rows"] if r["field"] == "tumour_size_mm")
    assert size["cells"][2] == {"n": 5, "median": 30.0, "q1": 20.0, "q3": 40.0, "missing": 0}
    age = next(r for r in table["rows"] if r["field"] == "age_at_dx")
    assert age["cells"][2]["median"] == 59.0  # dx Jan 2010, born 1950, birthday 1 July
    sex = next(r for r in table["rows"] if r["field"] == "sex")
    assert sex["levels"][0] == {
        "level": "Male",
        "cells": [
            {"level": "Male", "n": 2, "pct": 100.0},
            {"level": "Male", "n": 3, "pct": 100.0},
            {"level": "Male", "n": 5, "pct": 100.0},
        ],
    }


def test_another_study_defines_its_own_endpoints():
    custom = {
        "censor_date": "fu_date",
        "events": {"death": {"indicator": "dead", "values": ["yes"], "date": "dod"}},
        "endpoints": [{"key": "os", "label": "OS", "start": "randomised", "events": ["death"]}],
    }
    config = resolve_config(custom)
    p = Patient(
        "X-1",
        "C",
        {"randomised": "2020-01-01", "dead": "yes", "dod": "2020-03-01", "fu_date": "2020-03-01"},
    )
    (obs,) = derive_endpoints([p], config, set())["os"].observations
    assert (obs.event, obs.time_months) == (1, pytest.approx(60 / M))
    assert needed_fields(config) == ["dead", "dod", "fu_date", "randomised"]
    assert config_digest(config) != config_digest(GI_LMS)
    with pytest.raises(AnalysisConfigError):
        resolve_config({"profile": "nope"})
