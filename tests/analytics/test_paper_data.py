"""Treatment lines (response, PFS) and the competing-risks outcome derived from instrument data,
and Table 1's p-values (no database)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.cohort import table_one
from analytics.competing_risks import aalen_johansen, gray_test
from analytics.config import resolve_config
from analytics.endpoints import Exclusion, Patient
from analytics.exact_tests import fisher_exact, wilcoxon_rank_sum
from analytics.paper_data import CompetingObservation, competing_outcome, therapy_lines
from analytics.paper_results import competing_results, drug_results
from analytics.plots_cif import render_cif_figure
from analytics.presentation import PAPER_KEYS, paper_block
from analytics.survival import kaplan_meier
from analytics.table1 import table1_csv

CONFIG = resolve_config({"profile": "gi_lms"})
CODES = {"UNK", "NA", "ND", "NASK"}
M = 30.4375
LABELS = {"site_of_origin": {"3": "Small bowel", "2": "Stomach"}, "margins": {"0": "R0"}}


def patient(relapses=(), therapies=(), rid="MIL-0001", **values) -> Patient:
    base = {
        "date_dx": "2010-01-01",
        "stage_dx": "1",
        "surgery_done": "1",
        "surgery_date": "2010-02-01",
        "margins": "0",
        "last_contact_date": "2015-01-01",
        "vital_status": "1",
        "site_of_origin": "3",
    }
    base.update(values)
    return Patient(
        rid, "MIL", base, {"relapse": list(relapses), "systemic_therapy": list(therapies)}
    )


def advanced(line="1", start="2011-01-01", response="2", **extra) -> dict:
    return {
        "therapy_setting": "3",
        "therapy_line": line,
        "regimen": "4",
        "therapy_start": start,
        "best_response": response,
        **extra,
    }


def test_pfs_ends_at_progression_on_the_line_or_death_whichever_first():
    lines = therapy_lines(
        patient(
            therapies=[
                advanced(progression_date="2011-07-01"),
                advanced("2", "2011-08-01"),
                {"therapy_setting": "2", "regimen": "1", "therapy_start": "2010-03-01"},
            ],
            vital_status="0",
            death_date="2012-01-01",
        ),
        CONFIG,
        CODES,
    )
    first, second, adjuvant = lines
    assert (first.setting, first.line, first.regimen_group) == (
        "Advanced",
        1,
        "Gemcitabine + docetaxel",
    )
    assert first.response == "PR"
    assert first.pfs_time == pytest.approx((181) / M) and first.pfs_event == 1
    assert second.pfs_time == pytest.approx(153 / M) and second.pfs_event == 1  # death
    assert adjuvant.setting == "Adjuvant" and adjuvant.pfs_time is None  # no PFS off-line


def test_pfs_censored_at_last_contact_and_bad_lines_keep_their_reason():
    ok, no_line, bad = therapy_lines(
        patient(
            therapies=[
                advanced(),
                advanced(line="", response="5"),
                advanced(start="2016-01-01"),
            ]
        ),
        CONFIG,
        CODES,
    )
    assert ok.pfs_event == 0 and ok.pfs_time == pytest.approx(1461 / M)
    assert no_line.line is None and no_line.response == "NE"
    assert bad.pfs_time is None and "before therapy_start" in bad.pfs_note


def test_competing_outcome_first_relapse_decides_and_same_day_is_distant():
    local = competing_outcome(
        patient([{"relapse_date": "2012-02-01", "relapse_type": "1"}]), CONFIG, LABELS, CODES
    )
    assert isinstance(local, CompetingObservation) and local.status == 1
    assert local.time_months == pytest.approx(730 / M)
    assert local.groups == {
        "site_of_origin": "Small bowel",
        "margins": "R0",
        "chemotherapy": "None",
    }
    both = competing_outcome(
        patient(
            [
                {"relapse_date": "2013-01-01", "relapse_type": "1"},
                {"relapse_date": "2012-02-01", "relapse_type": "1"},
                {"relapse_date": "2012-02-01", "relapse_type": "2"},
            ]
        ),
        CONFIG,
        LABELS,
        CODES,
    )
    assert both.status == 2
    dead = competing_outcome(
        patient(vital_status="0", death_date="2014-01-01"), CONFIG, LABELS, CODES
    )
    assert dead.status == 3
    alive = competing_outcome(patient(), CONFIG, LABELS, CODES)
    assert alive.status == 0 and alive.time_months == pytest.approx(1795 / M)


def test_competing_outcome_population_and_exclusions():
    assert competing_outcome(patient(stage_dx="3"), CONFIG, LABELS, CODES) is None
    untyped = competing_outcome(patient([{"relapse_date": "2012-02-01"}]), CONFIG, LABELS, CODES)
    assert isinstance(untyped, Exclusion) and "relapse_type missing" in untyped.reason
    early = competing_outcome(
        patient([{"relapse_date": "2010-01-15", "relapse_type": "1"}]), CONFIG, LABELS, CODES
    )
    assert isinstance(early, Exclusion) and "before surgery_date" in early.reason


def test_results_shapes_with_and_without_data():
    drug, pfs = drug_results([], ci_method="log-log")
    assert drug["n"] == 0 and drug["rows"] == [] and pfs["lines"] == []
    summary, curves = competing_results([], CONFIG)
    assert summary["n"] == 0 and curves is None and summary["methods"]
    outcomes = [
        competing_outcome(patient(rid=f"P{i}", site_of_origin=s), CONFIG, LABELS, CODES)
        for i, s in enumerate(["3", "3", "2"])
    ]
    summary, curves = competing_results(outcomes, CONFIG)
    assert summary["n"] == 3 and summary["events"] == {"1": 0, "2": 0, "3": 0}
    assert summary["gray"]["site_of_origin"]["tests"] == {}  # no cause occurs: nothing to test
    assert curves["labels"]["1"] == "Local relapse"


def test_table_one_p_values_follow_the_tests():
    patients = [
        patient(rid=f"L{i}", sex=str(1 + i % 2), year_of_birth=str(1950 + i)) for i in range(6)
    ] + [patient(rid=f"M{i}", stage_dx="3", sex="1", year_of_birth=str(1930 + i)) for i in range(4)]
    labels = {"sex": {"1": "Male", "2": "Female"}, **LABELS}
    table = table_one(patients, CONFIG, labels, {}, CODES)
    rows = {row["field"]: row for row in table["rows"]}
    assert rows["sex"]["p"] == pytest.approx(fisher_exact([[3, 4], [3, 0]]))
    ages_l = [59 - i for i in range(6)]
    ages_m = [79 - i for i in range(4)]
    assert rows["age_at_dx"]["p"] == pytest.approx(wilcoxon_rank_sum(ages_l, ages_m).p)
    assert rows["age_at_dx"]["note"] == "exact"
    assert rows["margins"]["p"] is None  # a single level: R stops, we report no p
    assert table["compared"] == ["Localized", "Metastatic"] and table["n"] == 10
    text = table1_csv(table)
    assert "Fisher's exact" in text.splitlines()[-1]


def test_cumulative_incidence_figure_is_deterministic_and_scales():
    outcomes = [
        competing_outcome(
            patient(
                [{"relapse_date": f"201{i}-02-01", "relapse_type": str(1 + i % 2)}], rid=f"P{i}"
            ),
            CONFIG,
            LABELS,
            CODES,
        )
        for i in range(1, 5)
    ] + [competing_outcome(patient(rid="P9"), CONFIG, LABELS, CODES)]
    _, curves = competing_results(outcomes, CONFIG)
    svg = render_cif_figure(curves, title="CIF")
    assert svg == render_cif_figure(curves, title="CIF")
    head = svg[: svg.index(b">", svg.index(b"<svg"))].decode()
    assert 'width="100%"' in head and "viewBox" in head and "height=" not in head
    assert render_cif_figure(curves, title="CIF", format="pdf")[:4] == b"%PDF"


def test_snapshots_from_before_say_the_analyses_were_not_computed():
    for key in PAPER_KEYS:
        block = paper_block({}, key)
        assert block["n"] == 0 and "Not computed" in block["methods"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 40), st.integers(0, 3), st.sampled_from("abc")),
        min_size=3,
        max_size=40,
    )
)
def test_cumulative_incidences_add_up_to_one_minus_all_cause_km(rows):
    time = np.array([r[0] for r in rows], dtype=float)
    status = np.array([r[1] for r in rows])
    aj = aalen_johansen(time, status, causes=[1, 2, 3], at_times=())
    km = kaplan_meier(time, (status > 0).astype(int))
    total = np.sum([aj.estimate[k] for k in (1, 2, 3)], axis=0)
    assert np.allclose(total, 1 - np.asarray(km.survival), atol=1e-12)
    group = np.array([r[2] for r in rows], dtype=object)
    if len(set(group)) > 1:
        forward = gray_test(time, status, group).tests
        relabelled = np.array([{"a": "z", "b": "y", "c": "x"}[g] for g in group], dtype=object)
        backward = gray_test(time, status, relabelled).tests
        for cause, test in forward.items():  # the statistic does not depend on group order
            if test["stat"] is not None and backward[cause]["stat"] is not None:
                assert test["stat"] == pytest.approx(backward[cause]["stat"], rel=1e-6, abs=1e-9)
