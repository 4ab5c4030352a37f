"""analytics.survival against R's survival package (analytics/reference/survival_reference.json).

Every quantity is held to 1e-6 (absolute, or relative for values above 1), and ``NA`` in R must
be ``None`` here at exactly the same places.  No database, no Django.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.survival import (
    CI_METHODS,
    CoxResult,
    KaplanMeierResult,
    LogRankResult,
    cox_univariable,
    kaplan_meier,
    logrank,
    reverse_km_followup,
)
from tests.tools import require_r

REF_DIR = Path(__file__).resolve().parents[2] / "analytics" / "reference"
REF = json.loads((REF_DIR / "survival_reference.json").read_text())
META = REF["meta"]
DAYS_PER_MONTH = META["days_per_month"]
TOL = 1e-6

KM_CASES = [(c, ct) for c in REF["km"] for ct in CI_METHODS]
KM_IDS = [f"{c['id']}-{ct}" for c, ct in KM_CASES]


def load(name: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / "datasets" / f"{name}.csv")


def km_input(case: dict) -> tuple[pd.Series, pd.Series]:
    d = load(case["dataset"])
    if case["filter"]:
        d = d[d[case["filter"]["column"]] == case["filter"]["value"]]
    return d[case["time_col"]] / DAYS_PER_MONTH, d[case["status_col"]]


def close(a: float | None, b: float | None, tol: float = TOL) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol * max(1.0, abs(b))


def max_diff(a: list, b: list) -> float:
    """Max |a - b| (relative above 1); None must match None exactly."""
    assert len(a) == len(b)
    worst = 0.0
    for x, y in zip(a, b, strict=True):
        assert (x is None) == (y is None), (x, y)
        if x is not None:
            worst = max(worst, abs(x - y) / max(1.0, abs(y)))
    return worst


@pytest.fixture(scope="module")
def km_results() -> dict[str, KaplanMeierResult]:
    out = {}
    for case, ct in KM_CASES:
        t, e = km_input(case)
        fn = reverse_km_followup if case["reverse"] else kaplan_meier
        out[f"{case['id']}-{ct}"] = fn(
            t,
            e,
            ci_method=ct,
            survival_times=META["summary_times"],
            at_risk_times=META["at_risk_times"],
        )
    return out


# ---------------------------------------------------------------------------------------------
# Kaplan-Meier
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "ct"), KM_CASES, ids=KM_IDS)
def test_km_full_curve(case: dict, ct: str, km_results: dict) -> None:
    res = km_results[f"{case['id']}-{ct}"]
    r = case["conf_types"][ct]
    assert res.ci_method == ct
    assert (res.n, res.events) == (r["n"], r["events"])
    assert res.n_risk == r["n_risk"]
    assert res.n_event == r["n_event"]
    assert res.n_censor == r["n_censor"]
    for ours, theirs in [
        (res.times, r["time"]),
        (res.survival, r["surv"]),
        (res.std_err, r["std_err"]),
        (res.ci_lower, r["lower"]),
        (res.ci_upper, r["upper"]),
    ]:
        assert max_diff(ours, theirs) <= TOL


@pytest.mark.parametrize(("case", "ct"), KM_CASES, ids=KM_IDS)
def test_km_median_and_ci_match_summary_table(case: dict, ct: str, km_results: dict) -> None:
    res = km_results[f"{case['id']}-{ct}"]
    tab = case["conf_types"][ct]["table"]
    assert close(res.median, tab["median"]), (res.median, tab)
    assert close(res.median_ci[0], tab["lcl"]), (res.median_ci, tab)
    assert close(res.median_ci[1], tab["ucl"]), (res.median_ci, tab)


def test_quantile_and_table_differ_only_for_curve_ending_at_half() -> None:
    """R's quantile() and summary()$table disagree only when S ends flat at 0.5; we follow
    the table (documented), and there we equal the table, not quantile()."""
    differing = {
        c["id"] for c in REF["km"] for r in c["conf_types"].values() if r["table"] != r["quantile"]
    }
    assert differing == {"half_end"}
    t, e = km_input(next(c for c in REF["km"] if c["id"] == "half_end"))
    res = kaplan_meier(t, e)
    assert close(res.median, 20 / DAYS_PER_MONTH)


@pytest.mark.parametrize(("case", "ct"), KM_CASES, ids=KM_IDS)
def test_km_survival_at_times(case: dict, ct: str, km_results: dict) -> None:
    """summary(fit, times=...) with extend=FALSE: R drops times after the last observed
    time; those keys are (None, None, None) here."""
    res = km_results[f"{case['id']}-{ct}"]
    s = case["conf_types"][ct]["summary_times"]
    r_rows = dict(zip(s["time"], zip(s["surv"], s["lower"], s["upper"], strict=True), strict=True))
    r_risk = dict(zip(s["time"], s["n_risk"], strict=True))
    assert set(res.survival_at) == {float(t) for t in META["summary_times"]}
    for t, (est, lo, hi) in res.survival_at.items():
        if t not in r_rows:
            assert t > res.times[-1]
            assert (est, lo, hi) == (None, None, None)
            continue
        rs, rl, ru = r_rows[t]
        assert close(est, rs) and close(lo, rl) and close(hi, ru), (t, (est, lo, hi), r_rows[t])
        assert sum(1 for x in km_input(case)[0] if x >= t) == r_risk[t]


@pytest.mark.parametrize(("case", "ct"), KM_CASES, ids=KM_IDS)
def test_km_at_risk_table(case: dict, ct: str, km_results: dict) -> None:
    res = km_results[f"{case['id']}-{ct}"]
    a = case["conf_types"][ct]["at_risk"]
    assert res.at_risk_table == {float(t): n for t, n in zip(a["time"], a["n_risk"], strict=True)}


def test_reverse_km_median_followup_is_r_reverse_km() -> None:
    case = next(c for c in REF["km"] if c["id"] == "gi_followup_localized")
    t, e = km_input(case)
    assert case["reverse"] is True  # the R side fitted Surv(time, 1 - status)
    res = reverse_km_followup(t, e, ci_method="log")
    assert close(res.median, case["conf_types"]["log"]["table"]["median"])
    flipped = kaplan_meier(t, 1 - e, ci_method="log")
    assert res.to_dict() == flipped.to_dict()


def test_median_not_reached_is_none_where_lifelines_gives_inf() -> None:
    from lifelines import KaplanMeierFitter

    case = next(c for c in REF["km"] if c["id"] == "nomed")
    t, e = km_input(case)
    assert math.isinf(KaplanMeierFitter().fit(t, e).median_survival_time_)
    res = kaplan_meier(t, e)
    assert res.median is None and res.median_ci[1] is None
    assert res.median_ci[0] == pytest.approx(case["conf_types"]["log-log"]["table"]["lcl"])


def test_half_stretch_midpoint_rule() -> None:
    """S = 0.5 exactly from day 50 to day 90: R's median is the midpoint, 70 days."""
    case = next(c for c in REF["km"] if c["id"] == "half_drop")
    t, e = km_input(case)
    assert close(kaplan_meier(t, e).median, 70 / DAYS_PER_MONTH)


def test_loglog_ci_equals_lifelines_where_r_defines_it() -> None:
    """Same exponential-Greenwood formula as lifelines; R (and we) give NA at S = 1 and 0."""
    from lifelines import KaplanMeierFitter

    t, e = km_input(next(c for c in REF["km"] if c["id"] == "gi_os"))
    res = kaplan_meier(t, e, ci_method="log-log")
    ci = KaplanMeierFitter().fit(t, e).confidence_interval_.reindex(res.times).to_numpy()
    for i, (lo, hi) in enumerate(zip(res.ci_lower, res.ci_upper, strict=True)):
        if res.survival[i] in (0.0, 1.0):
            assert lo is None and hi is None
        else:
            assert lo == pytest.approx(ci[i, 0], abs=1e-12)
            assert hi == pytest.approx(ci[i, 1], abs=1e-12)


def test_km_to_dict_is_json_and_none_for_na() -> None:
    t, e = km_input(next(c for c in REF["km"] if c["id"] == "half_drop"))
    d = kaplan_meier(t, e, ci_method="log", survival_times=(1, 12)).to_dict()
    text = json.dumps(d, allow_nan=False)
    back = json.loads(text)
    assert back["survival_at"]["12"] == [None, None, None]  # beyond the last time
    assert back["ci_lower"][-1] is None and back["survival"][-1] == 0.0
    assert set(back) >= {
        "n",
        "events",
        "ci_method",
        "times",
        "n_risk",
        "n_event",
        "n_censor",
        "survival",
        "ci_lower",
        "ci_upper",
        "median",
        "median_ci",
        "survival_at",
        "at_risk_table",
    }


def test_km_drops_missing_rows_and_validates() -> None:
    res = kaplan_meier([1.0, 2.0, np.nan, 3.0], [1, np.nan, 1, 0])
    assert res.n == 2 and res.times == [1.0, 3.0]
    with pytest.raises(ValueError):
        kaplan_meier([1.0, 2.0], [1, 1], ci_method="plain")
    with pytest.raises(ValueError):
        kaplan_meier([-1.0, 2.0], [1, 1])
    with pytest.raises(ValueError):
        kaplan_meier([1.0, 2.0], [1, 2])
    assert kaplan_meier([1.0, 30.0], [True, False]).at_risk_table == {0.0: 2, 12.0: 1, 24.0: 1}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 400), st.booleans()), min_size=1, max_size=40),
    st.sampled_from(CI_METHODS),
)
def test_km_properties(rows: list[tuple[int, bool]], ct: str) -> None:
    t = np.array([r[0] for r in rows], float) / DAYS_PER_MONTH
    e = np.array([r[1] for r in rows], int)
    res = kaplan_meier(t, e, ci_method=ct)
    s = np.array(res.survival)
    assert np.all(np.diff(s) <= 0) and np.all((s >= 0) & (s <= 1))
    assert sum(res.n_event) == e.sum() and sum(res.n_event) + sum(res.n_censor) == len(rows)
    for lo, est, hi in zip(res.ci_lower, res.survival, res.ci_upper, strict=True):
        if lo is not None:
            assert 0 <= lo <= est + 1e-12 and est - 1e-12 <= hi <= 1
    perm = np.random.default_rng(0).permutation(len(rows))
    assert kaplan_meier(t[perm], e[perm], ci_method=ct).to_dict() == res.to_dict()
    json.dumps(res.to_dict(), allow_nan=False)


# ---------------------------------------------------------------------------------------------
# Log-rank
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", REF["logrank"], ids=[c["id"] for c in REF["logrank"]])
def test_logrank_matches_survdiff(case: dict) -> None:
    d = load(case["dataset"])
    res = logrank(d[case["time_col"]] / DAYS_PER_MONTH, d[case["status_col"]], d[case["group_col"]])
    assert isinstance(res, LogRankResult)
    assert close(res.chisq, case["chisq"])
    assert res.df == case["df"]
    assert close(res.p, case["p"])
    assert [g["group"] for g in res.groups] == case["groups"]
    assert [g["n"] for g in res.groups] == case["n"]
    assert max_diff([g["observed"] for g in res.groups], case["observed"]) <= TOL
    assert max_diff([g["expected"] for g in res.groups], case["expected"]) <= TOL
    for ours, theirs in zip(res.variance, case["var"], strict=True):
        assert max_diff(ours, theirs) <= TOL
    json.dumps(res.to_dict(), allow_nan=False)


def test_logrank_df_drops_zero_expected_group_unlike_lifelines() -> None:
    from lifelines.statistics import multivariate_logrank_test

    case = next(c for c in REF["logrank"] if c["id"] == "onep_grp2")
    d = load(case["dataset"])
    t = d["days"] / DAYS_PER_MONTH
    ours = logrank(t, d["status"], d["grp2"])
    theirs = multivariate_logrank_test(t, d["grp2"], d["status"])
    assert ours.df == 1 and theirs.degrees_of_freedom == 2
    assert ours.p == pytest.approx(case["p"], rel=1e-9)
    assert abs(theirs.p_value - case["p"]) > 0.1


def test_logrank_single_group_raises_like_r() -> None:
    d = load("single_group")
    with pytest.raises(ValueError, match=META["single_group_logrank_error"]):
        logrank(d["days"] / DAYS_PER_MONTH, d["status"], d["group"])


def test_logrank_singular_variance_refused_like_r() -> None:
    # R 4.x: survdiff(Surv(t, e) ~ g) on these rows stops with "Lapack routine dgesv: system is
    # exactly singular"; both subjects at risk at t = 2 die there, so the variance is zero.
    t = np.array([1, 1, 2, 2], float)
    e = np.array([0, 0, 1, 1])
    g = np.array(["a", "a", "a", "b"], object)
    with pytest.raises(ValueError, match="singular"):
        logrank(t, e, g)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 200), st.booleans(), st.sampled_from("abc")),
        min_size=4,
        max_size=40,
    )
)
def test_logrank_invariant_to_relabelling(rows: list[tuple[int, bool, str]]) -> None:
    t = np.array([r[0] for r in rows], float)
    e = np.array([r[1] for r in rows], int)
    g = np.array([r[2] for r in rows], object)
    if len(set(g)) < 2 or e.sum() == 0:
        return
    relabelled = np.array([{"a": "z", "b": "y", "c": "x"}[v] for v in g], object)
    try:
        a = logrank(t, e, g)
    except ValueError as exc:
        with pytest.raises(ValueError, match="singular"):
            logrank(t, e, relabelled)
        assert "singular" in str(exc)
        return
    b = logrank(t, e, relabelled)
    assert a.df == b.df
    assert a.chisq == pytest.approx(b.chisq, rel=1e-9, abs=1e-12)
    assert sum(x["observed"] for x in a.groups) == pytest.approx(
        sum(x["expected"] for x in a.groups)
    )


# ---------------------------------------------------------------------------------------------
# Cox
# ---------------------------------------------------------------------------------------------


def fit_case(case: dict) -> CoxResult:
    d = load(case["dataset"])
    ref = case["reference"] if case["type"] == "factor" else None
    return cox_univariable(
        d[case["time_col"]] / DAYS_PER_MONTH,
        d[case["status_col"]],
        d[case["covariate"]],
        reference=ref,
    )


@pytest.mark.parametrize("case", REF["cox"], ids=[c["id"] for c in REF["cox"]])
def test_cox_matches_coxph_efron(case: dict) -> None:
    res = fit_case(case)
    assert (res.n, res.events) == (case["n"], case["events"])
    assert res.reference == case["reference"]
    assert [t["term"] for t in res.terms] == case["terms"]
    finite = [i for i, t in enumerate(res.terms) if not t["infinite"]]
    for i in finite:
        t = res.terms[i]
        assert close(t["coef"], case["coef"][i])
        assert close(t["se"], case["se"][i])
        assert close(t["hr"], case["hr"][i])
        assert close(t["hr_ci"][0], case["hr_lower"][i])
        assert close(t["hr_ci"][1], case["hr_upper"][i])
        assert close(t["z"], case["z"][i])
        assert close(t["p"], case["p"][i])
    assert close(res.loglik, case["loglik"])
    assert close(res.loglik_null, case["loglik_null"])
    for test in ("lr", "score"):
        ours, theirs = getattr(res, test), case[test]
        assert close(ours["chisq"], theirs["chisq"]) and ours["df"] == theirs["df"]
        assert close(ours["p"], theirs["p"])
    if len(finite) == len(res.terms):
        assert close(res.wald["chisq"], case["wald"]["chisq"])
        assert close(res.wald["p"], case["wald"]["p"])
        assert res.wald["df"] == case["wald"]["df"]
    json.dumps(res.to_dict(), allow_nan=False)


def test_cox_flags_infinite_coefficient_where_r_warns() -> None:
    """Centre C5 has no deaths: R warns 'coefficient may be infinite' and prints ~-17.8."""
    case = next(c for c in REF["cox"] if c["id"] == "gi_os_centre")
    assert case["coef"][case["terms"].index("C5")] < -15
    res = fit_case(case)
    c5 = next(t for t in res.terms if t["term"] == "C5")
    assert c5["infinite"] and c5["hr"] is None and c5["p"] is None
    assert res.wald is None and any("C5" in w for w in res.warnings)
    assert all(not t["infinite"] for t in res.terms if t["term"] != "C5")


def test_cox_is_tighter_than_lifelines_default() -> None:
    """lifelines' CoxPHFitter stops at precision 1e-7 on the step: ~2e-4 off R here."""
    from lifelines import CoxPHFitter

    case = next(c for c in REF["cox"] if c["id"] == "onep_grp")
    d = load(case["dataset"])
    df = pd.DataFrame(
        {
            "T": d["days"] / DAYS_PER_MONTH,
            "E": d["status"],
            "B": (d["grp"] == "B") * 1.0,
            "C": (d["grp"] == "C") * 1.0,
        }
    )
    lifelines_coef = CoxPHFitter().fit(df, "T", "E").params_.to_numpy()
    ours = [t["coef"] for t in fit_case(case).terms]
    assert np.max(np.abs(np.array(ours) - case["coef"])) < 1e-6
    assert np.max(np.abs(lifelines_coef - case["coef"])) > 1e-6


def test_cox_api_and_validation() -> None:
    t = [5.0, 8.0, 12.0, 20.0, 25.0, 30.0]
    e = [1, 0, 1, 1, 0, 1]
    g = pd.Series(["b", "a", "b", "a", "a", "b"], name="arm")
    res = cox_univariable(t, e, g)
    assert res.reference == "a" and [x["term"] for x in res.terms] == ["b"]
    flipped = cox_univariable(t, e, g, reference="b")
    assert flipped.terms[0]["coef"] == pytest.approx(-res.terms[0]["coef"], rel=1e-9)
    cat = pd.Series(pd.Categorical(g, categories=["b", "a"]))
    assert cox_univariable(t, e, cat).reference == "b"
    num = cox_univariable(t, e, pd.Series([1.0, 2, 3, 4, 5, 7], name="age"))
    assert num.reference is None and num.terms[0]["term"] == "age"
    with pytest.raises(ValueError):
        cox_univariable(t, e, ["x"] * 6)
    with pytest.raises(ValueError):
        cox_univariable(t, [0] * 6, g)
    with pytest.raises(ValueError):
        cox_univariable(t, e, g, reference="zzz")


# ---------------------------------------------------------------------------------------------
# Reproducibility of the reference itself
# ---------------------------------------------------------------------------------------------


def test_reference_regenerates_identically(tmp_path: Path) -> None:
    """make_reference.R is deterministic: a fresh run reproduces the committed files."""
    require_r()
    script = tmp_path / "make_reference.R"
    shutil.copy(REF_DIR / "make_reference.R", script)
    subprocess.run(["Rscript", str(script)], check=True, capture_output=True, timeout=300)
    for csv in sorted((REF_DIR / "datasets").glob("*.csv")):
        assert (tmp_path / "datasets" / csv.name).read_bytes() == csv.read_bytes(), csv.name
    fresh = json.loads((tmp_path / "survival_reference.json").read_text())
    fresh["meta"].pop("r_version")
    committed = dict(REF, meta={k: v for k, v in META.items() if k != "r_version"})
    assert fresh == committed
