"""The log-rank test codes plain groups with one hash pass (pd.factorize): on any groups,
missing values and missing times included, it gives exactly what the per-row pandas path (a
Series, kept for categorical groups) gives, errors too."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd

from analytics import survival
from analytics.survival import logrank


def outcome(t, e, group):
    try:
        return logrank(t, e, group).to_dict()
    except ValueError as exc:
        return str(exc)


def test_plain_groups_give_what_the_series_path_gives():
    rng = random.Random(3)
    seen_errors = 0
    for case in range(400):
        n = rng.choice([1, 2, 5, 30, 300])
        labels = rng.choice([["a", "b"], ["x", "y", "z", "w"], [1, 2, 3], ["only"]])
        missing = rng.choice([[None], [None, float("nan")], []])
        values = labels + missing
        group = np.array([rng.choice(values) for _ in range(n)], dtype=object)
        t = np.array([rng.choice([rng.uniform(0, 50), 10.0, math.nan]) for _ in range(n)])
        e = np.array([rng.choice([0.0, 1.0, 1.0]) for _ in range(n)])
        fast = outcome(t, e, group)
        assert fast == outcome(t, e, pd.Series(group, dtype=object)), case
        seen_errors += isinstance(fast, str)
    assert 0 < seen_errors < 400  # both kinds of case were met


def per_group_sorts(t, e, code, k, event_times):
    """At risk and deaths per (event time, group) as the log-rank test counted them before:
    each group's times sorted and searched."""
    at_risk = np.zeros((event_times.size, k))
    deaths = np.zeros((event_times.size, k))
    for j in range(k):
        tj = np.sort(t[code == j])
        at_risk[:, j] = tj.size - np.searchsorted(tj, event_times, side="left")
        dj = np.sort(t[(code == j) & (e == 1)])
        deaths[:, j] = np.searchsorted(dj, event_times, "right") - np.searchsorted(
            dj, event_times, "left"
        )
    return at_risk, deaths


def test_risk_sets_counted_in_one_search_are_the_per_group_sorts():
    rng = np.random.default_rng(8)
    for _ in range(1000):
        n, k = int(rng.integers(1, 400)), int(rng.integers(1, 7))
        t = np.round(rng.exponential(20, n), int(rng.integers(0, 3)))  # ties, too
        e = rng.integers(0, 2, n).astype(float)
        code = rng.integers(0, k, n)
        event_times = np.unique(t[e == 1])
        expected = per_group_sorts(t, e, code, k, event_times)
        found = survival._risk_and_deaths(t, e, code, k, event_times)
        assert all(np.array_equal(a, b) for a, b in zip(found, expected, strict=True))


def test_the_log_rank_test_sorts_no_group(monkeypatch):
    """The risk sets are counted without a sort per group (two per group before: at 100,000
    records most of the test's time)."""
    sorts = []
    real_sort = np.sort
    monkeypatch.setattr(np, "sort", lambda *a, **kw: sorts.append(1) or real_sort(*a, **kw))
    rng = np.random.default_rng(2)
    group = rng.choice(np.array(["I", "II", "III", "IV", None], dtype=object), 5000)
    result = logrank(rng.exponential(30, 5000), rng.integers(0, 2, 5000), group)
    assert result.df == 3 and not sorts


def test_one_grid_for_every_grouping_gives_each_grouping_its_own_test():
    """An endpoint's times are searched once (event_grid) for all its groupings; each grouping
    leaves out its rows without a group, and the event times with no death left among them:
    the result is exactly (not within a tolerance) the test on that grouping alone, errors
    included."""
    rng = random.Random(5)
    for case in range(300):
        n = rng.choice([2, 5, 30, 300])
        t = np.array([rng.choice([rng.uniform(0, 50), 10.0, math.nan]) for _ in range(n)])
        e = np.array([rng.choice([0.0, 1.0, 1.0]) for _ in range(n)])
        grid = survival.event_grid(t, e)
        for _ in range(4):
            labels = rng.choice([["a", "b"], ["x", "y", "z"], ["only"]]) + [None, None]
            group = np.array([rng.choice(labels) for _ in range(n)], dtype=object)
            try:
                shared = logrank(t, e, group, grid=grid).to_dict()
            except ValueError as exc:
                shared = str(exc)
            assert shared == outcome(t, e, group), case


def test_the_headline_searches_an_endpoints_times_once_for_all_its_groupings(monkeypatch):
    from analytics import results

    grids = []
    real = survival.event_grid

    def counting(*args):
        grids.append(1)
        return real(*args)

    monkeypatch.setattr(survival, "event_grid", counting)
    monkeypatch.setattr(results, "event_grid", counting)
    rng = np.random.default_rng(1)
    n = 400
    columns = {
        "time": rng.exponential(30, n),
        "event": rng.integers(0, 2, n).astype(float),
        **{
            sg: rng.choice(np.array(["a", "b", "c", None], dtype=object), n)
            for sg in ("stage", "site", "chemo")
        },
    }
    endpoints = {
        key: results.EndpointData(key, key.upper(), columns=dict(columns), n_observed=n)
        for key in results.SUBGROUP_ENDPOINTS
    }
    config = {"subgroups": [{"key": k, "label": k} for k in ("stage", "site", "chemo")]}
    summaries, _ = results.build_results(endpoints, {"stage": {}, "site": {}, "chemo": {}}, config)
    assert len(summaries["logrank"]) == 3 * len(endpoints)
    assert all(v["df"] == 2 for v in summaries["logrank"].values())
    assert len(grids) == len(endpoints)  # not one per grouping
    for key, value in summaries["logrank"].items():
        endpoint, sg = key.split("_by_")
        alone = logrank(columns["time"], columns["event"], columns[sg]).to_dict()
        assert value["chisq"] == alone["chisq"] and value["groups"] == alone["groups"]
