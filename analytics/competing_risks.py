"""Competing risks: Aalen-Johansen cumulative incidence and Gray's test, agreeing with R.

Pure: arrays in (time in months; status 0 = censored, 1..K = the competing event that ended
follow-up), plain data out.  Reference: ``analytics/reference/make_paper_reference.R``; the
tests in ``tests/analytics/test_paper_stats_vs_r.py`` hold every number to 1e-6 of R.

* Estimate: ``survfit(Surv(time, factor(status, 0:K)) ~ 1)`` (survival 3.5, multi-state), the
  Aalen-Johansen estimator; with one starting state it is
  ``CIF_k(t) = sum_{s <= t} S(s-) d_k(s) / n(s)`` with ``S`` the all-cause Kaplan-Meier.
* Standard error: R's default for multi-state curves, the infinitesimal jackknife (the sum of
  the squared per-subject influences on the estimate; no grouping by ``id``, one row per
  patient).  It is not the Greenwood-type (delta method) variance of ``cmprsk::cuminc``.
* Confidence interval: R's default ``conf.type = "log"`` for multi-state curves,
  ``CIF * exp(+-z * se / CIF)`` with the upper limit capped at 1, ``None`` where the CIF is 0
  (R's ``NA``).  We chose R's default over cmprsk's log(-log) because the estimate it goes with
  is ``survfit``'s.
* Value at a time t: the step function at the last time <= t (``summary(fit, times=...)``);
  after the last observed time ``None`` (R's default ``extend = FALSE`` drops the row).
* Gray's test (``cmprsk::cuminc(ftime, fstatus, group)$Tests``, rho = 0, one stratum): the
  score and variance of Gray (1988) computed per distinct time as cmprsk's ``crst`` does, the
  statistic ``s' V^-1 s`` on (groups - 1) df (cmprsk's guard kept: a zero term of the score's
  derivative adds nothing, even where the pooled incidence has reached 1).  Only causes that
  occur are tested (cuminc's rule); the p-value is ``1 - pchisq(stat, df)`` as cuminc writes
  it.  Where the variance is singular cuminc reports stat = -1 and p = 1; we report ``None``
  for both (not a test), and also where the variance is not finite (R's ``qr`` stops there).
* ``one_minus_km``: 1 - Kaplan-Meier with the competing events censored, the naive estimate the
  narrative compares against; it is never below the Aalen-Johansen CIF.
* Rows with a missing time, status or group are dropped (R's ``na.omit``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .survival import group_levels, kaplan_meier
from .survival_cox import as_1d, drop_missing

__all__ = [
    "CumulativeIncidence",
    "GrayTest",
    "aalen_johansen",
    "gray_test",
    "one_minus_km",
]

Triple = tuple[float | None, float | None, float | None]


def _fin(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


@dataclass
class CumulativeIncidence:
    """Aalen-Johansen curves for causes 1..K; ``estimate[k]`` etc. are on ``times``."""

    n: int
    causes: list[int]
    times: list[float]
    n_risk: list[int]
    estimate: dict[int, list[float]]
    std_err: dict[int, list[float]]
    ci_lower: dict[int, list[float | None]]
    ci_upper: dict[int, list[float | None]]
    events: dict[int, int]
    at: dict[float, dict[int, Triple]] = field(default_factory=dict)
    ci_method: str = "log"

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "causes": list(self.causes),
            "times": list(self.times),
            "n_risk": list(self.n_risk),
            "estimate": {str(k): v for k, v in self.estimate.items()},
            "std_err": {str(k): v for k, v in self.std_err.items()},
            "ci_lower": {str(k): v for k, v in self.ci_lower.items()},
            "ci_upper": {str(k): v for k, v in self.ci_upper.items()},
            "events": {str(k): v for k, v in self.events.items()},
            "at": {
                format(t, "g"): {str(k): list(v) for k, v in per.items()}
                for t, per in self.at.items()
            },
            "ci_method": self.ci_method,
        }


def _check(time: Any, status: Any) -> tuple[np.ndarray, np.ndarray]:
    t, s = drop_missing(as_1d(time, float), as_1d(status, float))
    if t.size == 0:
        raise ValueError("no observations")
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ValueError("times must be finite and >= 0")
    if np.any((s < 0) | (s != np.round(s))):
        raise ValueError("status must be 0 (censored) or a cause number 1..K")
    return t, s.astype(int)


def aalen_johansen(
    time: Any,
    status: Any,
    *,
    causes: Sequence[int] | None = None,
    at_times: Iterable[float] = (12, 36, 60),
    alpha: float = 0.05,
) -> CumulativeIncidence:
    """Cumulative incidence of each cause = R ``survfit(Surv(time, factor(status)) ~ 1)``."""
    t, s = _check(time, status)
    causes = sorted(set(causes or []) | {int(c) for c in s if c > 0})
    order = np.argsort(t, kind="stable")
    t, s = t[order], s[order]
    grid = np.unique(t)
    n = t.size
    # sorted by time: the subjects at risk at the j-th time are t[starts[j]:], those with an
    # event then t[starts[j]:starts[j + 1]]
    starts = np.searchsorted(t, grid, side="left")
    # A subject's influence depends only on its (time, status), so the influence is kept once
    # per distinct pair (sorted by time, like the subjects), weighted by how many share it.
    by_pair = np.lexsort((s, t))
    ps_t, ps_s = t[by_pair], s[by_pair]
    pair_change = np.ones(n, dtype=bool)
    pair_change[1:] = (ps_t[1:] != ps_t[:-1]) | (ps_s[1:] != ps_s[:-1])
    pair_first = np.flatnonzero(pair_change)
    pt, ps = ps_t[pair_first], ps_s[pair_first]
    w = np.diff(np.append(pair_first, n)).astype(float)
    m = pt.size
    p_starts = np.searchsorted(pt, grid, side="left")
    p_ends = np.append(p_starts[1:], m)
    # events of each cause at each distinct time
    deaths = np.zeros((grid.size, max(causes, default=0) + 1), dtype=int)
    np.add.at(deaths, (np.searchsorted(grid, t), s), 1)
    # per (time, status) influence on each CIF (IJ), and on the event-free probability S
    u_s = np.zeros(m)
    u_f = {k: np.zeros(m) for k in causes}
    surv, cif = 1.0, dict.fromkeys(causes, 0.0)
    est = {k: [] for k in causes}
    se = {k: [] for k in causes}
    n_risk = []
    sd = dict.fromkeys(causes, 0.0)
    for j in range(grid.size):
        first = int(starts[j])
        p_first, p_last = int(p_starts[j]), int(p_ends[j])
        r = n - first
        n_risk.append(r)
        d = {k: int(deaths[j, k]) for k in causes}
        d_all = sum(d.values())
        if d_all:
            # influence of each subject on the hazard increment of cause k: (dN_ik - Y_i dA_k)/n
            # (zero for those no longer at risk: only the subjects at risk are updated by it)
            u_a = {}
            for k in causes:
                event = np.zeros(m - p_first)
                event[: p_last - p_first] = ps[p_first:p_last] == k
                u_a[k] = (event - d[k] / r) / r
            u_a_all = sum(u_a.values())
            for k in causes:
                if d[k]:  # otherwise u_f[k] and so its standard error are unchanged
                    u_f[k] = u_f[k] + u_s * d[k] / r
                    u_f[k][p_first:] += surv * u_a[k]
                    cif[k] += surv * d[k] / r
                    sd[k] = float(np.sqrt(np.sum(w * u_f[k] ** 2)))
            u_s = u_s * (1 - d_all / r)
            u_s[p_first:] -= surv * u_a_all
            surv *= 1 - d_all / r
        for k in causes:
            est[k].append(cif[k])
            se[k].append(sd[k])
    z = float(stats.norm.ppf(1 - alpha / 2))
    lower, upper = {}, {}
    for k in causes:
        p, e = np.asarray(est[k]), np.asarray(se[k])
        with np.errstate(divide="ignore", invalid="ignore"):
            xx = np.where(p == 0, np.nan, p)
            width = z * np.where(e == 0, 0.0, e / xx)
            lo = np.exp(np.log(xx) - width)
            hi = np.minimum(np.exp(np.log(xx) + width), 1.0)
        lower[k] = [_fin(v) for v in lo]
        upper[k] = [_fin(v) for v in hi]
    result = CumulativeIncidence(
        n=n,
        causes=causes,
        times=grid.tolist(),
        n_risk=n_risk,
        estimate=est,
        std_err=se,
        ci_lower=lower,
        ci_upper=upper,
        events={k: int(np.sum(s == k)) for k in causes},
    )
    for when in at_times:
        when = float(when)
        i = int(np.searchsorted(grid, when, side="right")) - 1
        if when > grid[-1]:
            result.at[when] = {k: (None, None, None) for k in causes}
        elif i < 0:
            result.at[when] = {k: (0.0, None, None) for k in causes}
        else:
            result.at[when] = {k: (est[k][i], lower[k][i], upper[k][i]) for k in causes}
    return result


def one_minus_km(time: Any, status: Any, cause: int, at_times: Iterable[float]) -> dict:
    """{t: 1 - KM(t)} with every other cause censored (``None`` after the last time)."""
    t, s = _check(time, status)
    km = kaplan_meier(t, (s == cause).astype(int), survival_times=list(at_times))
    return {k: (None if v[0] is None else 1 - v[0]) for k, v in km.survival_at.items()}


@dataclass
class GrayTest:
    """cmprsk ``cuminc(...)$Tests``: one row per cause that occurs."""

    groups: list[Any]
    n: dict[str, int]
    tests: dict[int, dict[str, float | int | None]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "groups": [str(g) for g in self.groups],
            "n": dict(self.n),
            "tests": {str(k): dict(v) for k, v in self.tests.items()},
        }


def gray_test(time: Any, status: Any, group: Any) -> GrayTest:
    """Gray's test comparing each cause's cumulative incidence across groups (rho = 0)."""
    g_raw = group if isinstance(group, pd.Series) else pd.Series(np.asarray(group, dtype=object))
    g_raw = g_raw.reset_index(drop=True)
    t_all, s_all = as_1d(time, float), as_1d(status, float)
    ok = ~np.isnan(t_all) & ~np.isnan(s_all) & g_raw.notna().to_numpy()
    levels = group_levels(g_raw[ok])
    t, s = _check(t_all[ok], s_all[ok])
    code = pd.Categorical(g_raw[ok].to_numpy(dtype=object), categories=levels).codes
    if len(levels) < 2:
        raise ValueError("Gray's test needs at least two groups")
    tests: dict[int, dict[str, float | int | None]] = {}
    for cause in sorted({int(c) for c in s if c > 0}):
        m = np.where(s == 0, 0, np.where(s == cause, 1, 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            score, var = _gray_score(t, m, code, len(levels))
        df = len(levels) - 1
        if not np.all(np.isfinite(var)) or np.linalg.matrix_rank(var) < df:
            tests[cause] = {"stat": None, "df": df, "p": None}
            continue
        stat = float(score @ np.linalg.solve(var, score))
        tests[cause] = {"stat": stat, "df": df, "p": float(1 - stats.chi2.cdf(stat, df))}
    n = {str(lv): int(np.sum(code == j)) for j, lv in enumerate(levels)}
    return GrayTest(groups=levels, n=n, tests=tests)


def _gray_score(
    t: np.ndarray, m: np.ndarray, g: np.ndarray, ng: int
) -> tuple[np.ndarray, np.ndarray]:
    """Gray's score (first ng - 1 groups) and its variance, one stratum, rho = 0.

    cmprsk's ``crst`` walks the distinct times one by one; here every quantity is an array over
    the times with an event (rows) and groups (columns): the running products and sums of that
    walk are ``cumprod`` and ``cumsum``, its accumulated outer products one ``einsum``."""
    times, at = np.unique(t, return_inverse=True)
    cell = at.reshape(-1) * ng + g
    size = times.size * ng
    leaving = np.bincount(cell, minlength=size).reshape(-1, ng)
    cause = np.bincount(cell[m == 1], minlength=size).reshape(-1, ng).astype(float)
    other = np.bincount(cell[m == 2], minlength=size).reshape(-1, ng).astype(float)
    # at risk just before each time (whole counts: exact in floating point)
    risks = np.bincount(g, minlength=ng) - np.vstack(
        [np.zeros((1, ng)), np.cumsum(leaving, axis=0)[:-1]]
    )
    rows = (cause.sum(axis=1) > 0) | (other.sum(axis=1) > 0)
    d1, d2, risk = cause[rows], other[rows], risks[rows]
    nd1, nd2 = d1.sum(axis=1), d2.sum(axis=1)
    if not rows.any():
        return np.zeros(ng - 1), np.zeros((ng - 1, ng - 1))

    def before(x: np.ndarray, first: float) -> np.ndarray:  # the value at the previous time
        return np.concatenate([np.full((1, *x.shape[1:]), first), x[:-1]])

    live = risk > 0
    rs = np.where(live, risk, 1.0)
    km = np.cumprod(np.where(live, (risk - d1 - d2) / rs, 1.0), axis=0)  # all-cause KM
    km_prev = before(km, 1.0)
    f1_prev = before(np.cumsum(np.where(live, km_prev * d1 / rs, 0.0), axis=0), 0.0)
    h = np.where(live, risk / km_prev, 0.0)
    tr = h.sum(axis=1)
    tq = np.sum(np.where(live, risk * (1 - f1_prev) / km_prev, 0.0), axis=1)
    f = np.cumsum(nd1 / tr)  # pooled-weight cumulative incidence
    f_prev = before(f, 0.0)
    a = -(h[:, :, None] * h[:, None, :]) / tr[:, None, None]
    diagonal = np.arange(ng)
    a[:, diagonal, diagonal] = h * (1 - h / tr[:, None])
    a[~(live[:, :, None] & live[:, None, :])] = 0
    # cmprsk adds to c only where a is non-zero (a 0/0 once the pooled CIF reaches 1)
    scale = (nd1 / (tr * (1 - f_prev)))[:, None, None]
    c = np.cumsum(np.where(a != 0, a * scale, 0.0), axis=0)  # c as it stands at each time
    score = np.where(
        live, d1 - nd1[:, None] * risk * (1 - f1_prev) / (km_prev * tq[:, None]), 0.0
    ).sum(axis=0)
    f, km_safe = f[:, None], np.where(km > 0, km, 1)
    # terms of the cause's events
    e = nd1 > 0
    t4 = np.where(km[e] > 0, 1 - (1 - f[e]) / km_safe[e], 1.0)
    t5 = np.where(nd1[e, None] > 1, 1 - (nd1[e, None] - 1) / (tr[e, None] * km_prev[e] - 1), 1.0)
    t3 = np.where(live[e], t5 * km_prev[e] * nd1[e, None] / (tr[e, None] * rs[e]), 0.0)
    v3 = np.sum(t4**2 * t3, axis=0)
    t1 = a[e] - c[e] * t4[:, None, :]
    v2 = np.sum(t1 * (t4 * t3)[:, None, :], axis=0)
    v = np.einsum("jik,jlk->il", t1 * t3[:, None, :], t1)
    # terms of the competing events
    e = nd2 > 0
    use = live[e] & (km[e] > 0) & (d2[e] > 0)
    t4 = np.where(use, (1 - f[e]) / km_safe[e], 0.0)
    t5 = np.where(d2[e] > 1, 1 - (d2[e] - 1) / np.where(rs[e] > 1, rs[e] - 1, 1), 1.0)
    t3 = np.where(use, t5 * km_prev[e] ** 2 * d2[e] / rs[e] ** 2, 0.0)
    v3 += np.sum(t4**2 * t3, axis=0)
    t1 = c[e] * t4[:, None, :]
    v2 -= np.sum(t1 * (t4 * t3)[:, None, :], axis=0)
    v += np.einsum("jik,jlk->il", t1 * t3[:, None, :], t1)
    c = c[-1]
    v += c @ np.diag(v3) @ c.T + c @ v2.T + v2 @ c.T
    k = ng - 1
    return score[:k], v[:k, :k]
