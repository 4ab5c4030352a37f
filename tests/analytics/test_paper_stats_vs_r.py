"""The paper's further statistics against R (analytics/reference/paper_reference.json, made by
make_paper_reference.R): binom.test, fisher.test, wilcox.test, survfit multi-state
(Aalen-Johansen), cmprsk::cuminc (Gray's test) and survfit KM for PFS per line, on three
cohorts (demo-like; ties; heavy censoring with empty strata).  Every number to 1e-6 (absolute,
or relative above 1); p-values to 1e-6 relative; R's NA must be None at the same places."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.competing_risks import aalen_johansen, gray_test, one_minus_km
from analytics.drug_response import pfs_by_line, response_rates
from analytics.exact_tests import clopper_pearson, fisher_exact, wilcoxon_rank_sum
from tests.tools import require_r, require_r_cmprsk

REF_DIR = Path(__file__).resolve().parents[2] / "analytics" / "reference"
REF = json.loads((REF_DIR / "paper_reference.json").read_text())
DAYS_PER_MONTH = REF["meta"]["days_per_month"]
TOL = 1e-6


def load(name: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / "datasets" / "paper" / f"{name}.csv")


def lines(dataset: str) -> pd.DataFrame:
    d = load(f"{dataset}_lines")
    return pd.DataFrame(
        {
            "record_id": d["id"],
            "setting": d["setting"].str.capitalize(),
            "line": d["line"].astype(object).where(d["line"].notna(), None),
            "regimen_group": d["regimen"],
            "response": d["response"],
            "pfs_time": d["pfs_days"] / DAYS_PER_MONTH,
            "pfs_event": d["pfs_status"],
        }
    )


def close(ours: float | None, r: float | None, tol: float = TOL) -> bool:
    if ours is None or r is None:
        return ours is None and r is None
    return abs(ours - r) <= tol * max(1.0, abs(r))


def close_rel(ours: float | None, r: float | None) -> bool:
    if ours is None or r is None:
        return ours is None and r is None
    return abs(ours - r) <= TOL * abs(r) + 1e-300


def test_the_reference_covers_three_cohorts_and_every_method():
    datasets = {c["dataset"] for key in ("binom", "fisher", "wilcox", "gray") for c in REF[key]}
    assert datasets == {"paper_demo", "paper_ties", "paper_heavy"}
    assert {c["exact"] for c in REF["wilcox"]} == {True, False}
    assert any(t["stat"] == -1 for c in REF["gray"] for t in c["tests"].values())
    assert any(c["n"] > 0 and c["k"] in (0, c["n"]) for c in REF["binom"])
    assert any(
        any(0 in row["values"] if isinstance(row, dict) else 0 in row for row in c["table"])
        for c in REF["fisher"]
    )


@pytest.mark.parametrize(
    "case", REF["binom"], ids=lambda c: f"{c['dataset']}-{c['group']}-{c['what']}"
)
def test_clopper_pearson_equals_binom_test(case):
    lo, hi = clopper_pearson(case["k"], case["n"])
    assert close(lo, case["lower"]) and close(hi, case["upper"]), (lo, hi, case)


@pytest.mark.parametrize("dataset", ["paper_demo", "paper_ties", "paper_heavy"])
def test_response_rates_count_and_interval_as_r(dataset):
    ref = {(c["group"], c["what"]): c for c in REF["binom"] if c["dataset"] == dataset}
    rows = response_rates(lines(dataset))
    seen = set()
    for row in rows:
        group = row["setting"].lower() if row["line"] is None else f"advanced_{row['line']}"
        for what in ("orr", "dcr"):
            r = ref[(group, what)]
            ours = row[what]
            assert (ours["k"], ours["n"]) == (r["k"], r["n"])
            assert close(ours["ci"][0], r["lower"]) and close(ours["ci"][1], r["upper"])
            seen.add((group, what))
    assert seen == set(ref)


@pytest.mark.parametrize("case", REF["fisher"], ids=lambda c: f"{c['dataset']}-{c['var']}")
def test_fisher_exact_equals_r(case):
    d = load(case["dataset"])
    d = d[d[case["var"]].notna()]
    table = pd.crosstab(d[case["var"]], d["stage"]).reindex(index=case["rows"], fill_value=0)
    assert table.to_numpy().tolist() == case["table"]
    assert close_rel(fisher_exact(table.to_numpy()), case["p"])


@pytest.mark.parametrize("case", REF["wilcox"], ids=lambda c: f"{c['dataset']}-{c['var']}")
def test_wilcoxon_equals_r(case):
    d = load(case["dataset"])
    x = d.loc[d["stage"] == "localized", case["var"]].tolist()
    y = d.loc[d["stage"] == "metastatic", case["var"]].tolist()
    result = wilcoxon_rank_sum(x, y)
    assert result.exact is case["exact"]
    assert close(result.statistic, case["statistic"])
    assert close_rel(result.p, case["p"])


def competing_input(dataset: str) -> pd.DataFrame:
    d = load(dataset)
    return d[d["stage"] == "localized"]


@pytest.mark.parametrize("case", REF["aalen_johansen"], ids=lambda c: c["dataset"])
def test_aalen_johansen_equals_survfit_multistate(case):
    d = competing_input(case["dataset"])
    time = d["cr_days"] / DAYS_PER_MONTH
    aj = aalen_johansen(time, d["cr_status"], causes=[1, 2, 3])
    assert aj.n == case["n"]
    assert np.allclose(aj.times, case["time"], atol=TOL, rtol=0)
    assert aj.n_risk == case["n_risk"]
    for cause, ref in case["causes"].items():
        k = int(cause)
        assert np.allclose(aj.estimate[k], ref["estimate"], atol=TOL, rtol=0)
        assert np.allclose(aj.std_err[k], ref["std_err"], atol=TOL, rtol=0)
        for ours, r in ((aj.ci_lower[k], ref["lower"]), (aj.ci_upper[k], ref["upper"])):
            assert len(ours) == len(r)
            assert all(close(a, b) for a, b in zip(ours, r, strict=True))
        for t in REF["meta"]["at_times"]:
            r_at = ref["at"].get(format(t, "g"))
            est, lo, hi = aj.at[float(t)][k]
            if r_at is None:  # after the last time: R's extend = FALSE drops the row
                assert (est, lo, hi) == (None, None, None)
            else:
                assert close(est, r_at["estimate"])
                assert close(lo, r_at["lower"]) and close(hi, r_at["upper"])
        naive = one_minus_km(time, d["cr_status"], k, REF["meta"]["at_times"])
        for t, r in zip(REF["meta"]["at_times"], ref["one_minus_km"], strict=False):
            if naive[float(t)] is not None:
                assert close(naive[float(t)], r)
                assert naive[float(t)] >= aj.at[float(t)][k][0] - 1e-12  # 1 - KM overstates


@pytest.mark.parametrize("case", REF["gray"], ids=lambda c: f"{c['dataset']}-{c['var']}")
def test_gray_test_equals_cuminc(case):
    d = competing_input(case["dataset"])
    d = d[d[case["var"]].notna()]
    result = gray_test(d["cr_days"] / DAYS_PER_MONTH, d["cr_status"], d[case["var"]])
    assert [str(g) for g in result.groups] == case["groups"]
    assert {str(k) for k in result.tests} == set(case["tests"])
    for cause, ref in case["tests"].items():
        ours = result.tests[int(cause)]
        assert ours["df"] == ref["df"]
        if ref["stat"] == -1:  # cuminc: singular variance; we report no test
            assert ours["stat"] is None and ours["p"] is None
        else:
            assert close(ours["stat"], ref["stat"])
            assert close_rel(ours["p"], ref["p"])


@pytest.mark.parametrize("case", REF["pfs"], ids=lambda c: f"{c['dataset']}-line{c['line']}")
def test_pfs_median_per_line_equals_survfit(case):
    found = [p for p in pfs_by_line(lines(case["dataset"])) if p["line"] == case["line"]]
    assert len(found) == 1
    pfs = found[0]
    assert (pfs["n"], pfs["events"]) == (case["n"], case["events"])
    assert close(pfs["median"], case["median"])
    assert close(pfs["median_ci"][0], case["lcl"]) and close(pfs["median_ci"][1], case["ucl"])


def test_fisher_larger_tables_and_edge_cases():
    # a 3 x 3 table (both dimensions above two) against R run now
    require_r()
    table = [[3, 1, 0], [2, 4, 1], [0, 2, 5]]
    script = "cat(sprintf('%.15g', fisher.test(matrix(c(3,2,0,1,4,2,0,1,5), 3))$p.value))"
    r = subprocess.run([shutil.which("Rscript"), "-e", script], capture_output=True, text=True)
    assert close_rel(fisher_exact(table), float(r.stdout))
    assert fisher_exact([[3, 4], [0, 0]]) == 1.0  # R: 1 for a degenerate table
    assert wilcoxon_rank_sum([1, 1], [1, 1]).p is None  # R: NaN
    assert wilcoxon_rank_sum([], [1.0]).p is None  # R: an error
    assert clopper_pearson(0, 0) == (None, None)


def test_gray_where_the_pooled_incidence_reaches_one_equals_cuminc():
    """Found by hypothesis: group a leaves the risk set at t = 1, then b's events take the
    pooled incidence to 1 (a 0/0 in the variance that cmprsk skips)."""
    require_r_cmprsk()
    script = (
        "suppressMessages(library(cmprsk)); x <- cuminc(c(1,1,1,1,2,3), c(0,1,1,1,1,1), "
        "c('a','a','a','a','b','b'))$Tests; cat(sprintf('%.15g', x[1, 'stat']), "
        "sprintf('%.15g', x[1, 'pv']))"
    )
    r = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True)
    stat, p = map(float, r.stdout.split())
    ours = gray_test([1, 1, 1, 1, 2, 3], [0, 1, 1, 1, 1, 1], list("aaaabb")).tests[1]
    assert close(ours["stat"], stat) and close_rel(ours["p"], p)


def test_regenerating_the_reference_gives_the_same_files(tmp_path):
    """make_paper_reference.R is deterministic: a fresh run reproduces the committed files."""
    require_r_cmprsk()
    script = tmp_path / "make_paper_reference.R"
    shutil.copy(REF_DIR / "make_paper_reference.R", script)
    subprocess.run(["Rscript", str(script)], check=True, capture_output=True, timeout=300)
    committed_csvs = sorted((REF_DIR / "datasets" / "paper").glob("*.csv"))
    assert len(committed_csvs) == 6
    for csv in committed_csvs:
        fresh_csv = tmp_path / "datasets" / "paper" / csv.name
        assert fresh_csv.read_bytes() == csv.read_bytes(), csv.name
    fresh = json.loads((tmp_path / "paper_reference.json").read_text())
    fresh["meta"].pop("r_version")
    assert fresh == dict(REF, meta={k: v for k, v in REF["meta"].items() if k != "r_version"})


def test_fisher_on_a_table_too_large_to_enumerate_is_refused_at_once() -> None:
    # A Table 1 row of 1,000 patients over eight levels has ~1e16 tables: refused before it
    # costs time or memory (the recompute once grew a worker to 16 GB here).
    from analytics.exact_tests import fisher_exact

    table = [[90, 35], [80, 45], [70, 55], [60, 65], [50, 75], [40, 85], [30, 95], [20, 105]]
    with pytest.raises(ValueError, match="too large"):
        fisher_exact(table)
