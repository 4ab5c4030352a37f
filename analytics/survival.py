"""Pure survival statistics for the GI-LMS registry, agreeing with R's ``survival`` package.

Nothing here touches Django: every function takes numpy arrays / pandas Series (times in
months, event indicators 1 = event, 0 = censored) and returns plain dataclasses whose
``to_dict()`` is JSON-serialisable (``None`` wherever R gives ``NA``).

Reference: ``analytics/reference/make_reference.R`` (R 4.2, survival 3.5); the tests in
``tests/analytics/test_survival_vs_r.py`` hold every quantity to 1e-6 of R.

Where R (the reference) and lifelines differ, R wins; the divergences handled here are:

* Confidence intervals.  R's ``survfit`` default is ``conf.type="log"`` (CI of log S, upper
  limit capped at 1), lifelines only offers the "log-log" (exponential Greenwood) interval.
  Both are computed here from the Greenwood variance of -log S, exactly as
  ``survival:::survfit_confint``: the "log" CI is ``NA`` where S = 0; the "log-log" CI is ``NA``
  where S = 0 *and* where S = 1 (lifelines reports 1, 1 or NaN there).
* Median (and its CI).  R's ``summary(fit)$table`` rule (``survival:::survmean``): the first
  time with S(t) < 0.5 + sqrt(machine eps); if S equals 0.5 there (within that tolerance) and
  the curve drops later, the midpoint between that time and the next drop.  The CI limits apply
  the same rule to the lower / upper CI curves, skipping their ``NA`` points.  Not reached ->
  ``None`` (lifelines gives ``inf`` and has no midpoint rule).  Note ``quantile(fit)`` differs
  from ``summary(fit)$table`` in one case: a curve that *ends* flat at exactly 0.5 (quantile()
  takes the midpoint up to the last time, the table does not); we follow the table.
* ``summary(fit, times=...)``: value of the step function at the last time <= t, with a row at
  time 0 (S = 1, CI 1..1) prepended as ``survfit0`` does.  R's default ``extend=FALSE`` drops
  times after the last observed time; we keep the key and report ``(None, None, None)``.
  The number-at-risk table uses ``extend=TRUE`` semantics (0 after the last time).
* R's ``survdiff`` and ``coxph`` are re-implemented in numpy (``survival_cox``), because
  lifelines' log-rank test does not drop groups with zero expected events from the degrees of
  freedom and its Cox fitter stops on a looser tolerance than R.
* Rows with a missing time, event or group are dropped (R's ``na.omit``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from scipy import stats

from analytics.survival_cox import CoxResult, as_1d, cox_univariable, drop_missing

__all__ = [
    "CI_METHODS",
    "CoxResult",
    "KaplanMeierResult",
    "EventGrid",
    "LogRankResult",
    "cox_univariable",
    "event_grid",
    "kaplan_meier",
    "logrank",
    "reverse_km_followup",
]

CI_METHODS: tuple[str, ...] = ("log-log", "log")
#: R's ``sqrt(.Machine$double.eps)``, the tolerance of ``survmean``'s median rule.
MEDIAN_TOLERANCE = math.sqrt(np.finfo(float).eps)

Interval = tuple[float | None, float | None]
Triple = tuple[float | None, float | None, float | None]


def _none_if_nan(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _finite_or_none(values: Any) -> list[float | None]:
    """_none_if_nan over an array, vectorised (curves have one value per event time)."""
    a = np.asarray(values, dtype=float)
    out = a.astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()


def _key(t: float) -> str:
    return format(float(t), "g")


@dataclass
class KaplanMeierResult:
    """Kaplan-Meier estimate on R's ``survfit`` grid (every distinct event or censoring time)."""

    n: int
    events: int
    ci_method: str
    alpha: float
    times: list[float]
    n_risk: list[int]
    n_event: list[int]
    n_censor: list[int]
    survival: list[float]
    std_err: list[float | None]  # R's fit$std.err: Greenwood SE of -log S (None where infinite)
    ci_lower: list[float | None]
    ci_upper: list[float | None]
    median: float | None
    median_ci: Interval
    survival_at: dict[float, Triple] = field(default_factory=dict)
    at_risk_table: dict[float, int] = field(default_factory=dict)

    @property
    def censor_times(self) -> list[float]:
        """Times with at least one censored observation (for tick marks)."""
        return [t for t, c in zip(self.times, self.n_censor, strict=True) if c > 0]

    def n_at_risk(self, t: float) -> int:
        """Number at risk at time t (R ``summary(fit, times=t, extend=TRUE)$n.risk``)."""
        idx = int(np.searchsorted(np.asarray(self.times), t, side="left"))
        return self.n_risk[idx] if idx < len(self.times) else 0

    def survival_at_time(self, t: float) -> float:
        """Right-continuous step function S(t) (1 before the first time)."""
        idx = int(np.searchsorted(np.asarray(self.times), t, side="right")) - 1
        return 1.0 if idx < 0 else self.survival[idx]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict; the ``{months: ...}`` maps get string keys (``"12"``)."""
        return {
            "n": self.n,
            "events": self.events,
            "ci_method": self.ci_method,
            "alpha": self.alpha,
            "times": list(self.times),
            "n_risk": list(self.n_risk),
            "n_event": list(self.n_event),
            "n_censor": list(self.n_censor),
            "survival": list(self.survival),
            "std_err": list(self.std_err),
            "ci_lower": list(self.ci_lower),
            "ci_upper": list(self.ci_upper),
            "median": self.median,
            "median_ci": list(self.median_ci),
            "survival_at": {_key(t): list(v) for t, v in self.survival_at.items()},
            "at_risk_table": {_key(t): n for t, n in self.at_risk_table.items()},
        }


@dataclass
class LogRankResult:
    """R ``survdiff`` (rho = 0): chi-square, degrees of freedom, p and O/E per group."""

    chisq: float
    df: int
    p: float | None
    groups: list[dict[str, Any]]  # {group, n, observed, expected}
    variance: list[list[float]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict."""
        return {
            "chisq": self.chisq,
            "df": self.df,
            "p": self.p,
            "groups": [dict(g) for g in self.groups],
            "variance": [list(r) for r in self.variance],
        }


# ---------------------------------------------------------------------------------------------
# Kaplan-Meier
# ---------------------------------------------------------------------------------------------


def _check_time_event(time: Any, event: Any) -> tuple[np.ndarray, np.ndarray]:
    t, e = drop_missing(as_1d(time, float), as_1d(event, float))
    if t.size == 0:
        raise ValueError("no observations")
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ValueError("times must be finite and >= 0")
    if np.any((e != 0) & (e != 1)):
        raise ValueError("event must be 0/1 (or boolean)")
    return t, e.astype(int)


def _confint(
    surv: np.ndarray, se: np.ndarray, method: str, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """``survival:::survfit_confint`` for conf.type "log" and "log-log" (NaN = R's NA)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if method == "log":
            xx = np.where(surv == 0, np.nan, surv)
            lower = np.exp(np.log(xx) - z * se)
            upper = np.minimum(np.exp(np.log(xx) + z * se), 1.0)
        elif method == "log-log":
            xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
            se2 = z * se / np.log(xx)
            lower = np.exp(-np.exp(np.log(-np.log(xx)) - se2))
            upper = np.exp(-np.exp(np.log(-np.log(xx)) + se2))
        else:
            raise ValueError(f"ci_method must be one of {CI_METHODS}, got {method!r}")
    return lower, upper


def _r_median(y: np.ndarray, x: np.ndarray) -> float | None:
    """``minmin`` of ``survival:::survmean``: R's median rule (NaN entries skipped)."""
    keep = ~np.isnan(y) & (y < 0.5 + MEDIAN_TOLERANCE)
    if not keep.any():
        return None
    xs, ys = x[keep], y[keep]
    if abs(ys[0] - 0.5) < MEDIAN_TOLERANCE and np.any(ys < ys[0]):
        return float((xs[0] + xs[np.argmax(ys < ys[0])]) / 2)
    return float(xs[0])


def kaplan_meier(
    time: Any,
    event: Any,
    *,
    ci_method: str = "log-log",
    alpha: float = 0.05,
    survival_times: Iterable[float] = (12, 36, 60),
    at_risk_times: Iterable[float] | None = None,
) -> KaplanMeierResult:
    """Kaplan-Meier estimate = R ``survfit(Surv(time, event) ~ 1, conf.type=ci_method)``.

    ``survival_times``: S(t) with CI as ``summary(fit, times=...)`` (``None`` after the last
    observed time).  ``at_risk_times``: numbers at risk (default every 12 months from 0 up to the
    last observed time).
    """
    if ci_method not in CI_METHODS:
        raise ValueError(f"ci_method must be one of {CI_METHODS}, got {ci_method!r}")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be in (0, 1)")
    t, e = _check_time_event(time, event)

    kmf = KaplanMeierFitter(alpha=alpha).fit(t, e)
    table = kmf.event_table
    table = table[table["removed"] > 0]
    times = table.index.to_numpy(dtype=float)
    n_risk = table["at_risk"].to_numpy(dtype=float)
    n_event = table["observed"].to_numpy(dtype=float)
    n_censor = table["censored"].to_numpy(dtype=float)
    surv = kmf.survival_function_.iloc[:, 0].reindex(times).to_numpy(dtype=float)

    # Greenwood variance of the cumulative hazard (-log S); infinite once everybody died.
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0)
    terms = np.where((n_event > 0) & (n_risk == n_event), np.inf, terms)
    std_err = np.sqrt(np.cumsum(terms))
    z = float(stats.norm.ppf(1 - alpha / 2))
    lower, upper = _confint(surv, std_err, ci_method, z)

    # survfit0: prepend (0, S=1, CI 1..1) unless the first time is already 0.
    if times[0] != 0:
        t0 = np.concatenate([[0.0], times])
        s0 = np.concatenate([[1.0], surv])
        lo0 = np.concatenate([[1.0], lower])
        hi0 = np.concatenate([[1.0], upper])
    else:
        t0, s0, lo0, hi0 = times, surv, lower, upper

    median = _r_median(s0, t0)
    median_ci = (_r_median(lo0, t0), _r_median(hi0, t0))

    survival_at: dict[float, Triple] = {}
    for st in survival_times:
        st = float(st)
        if st > times[-1]:
            survival_at[st] = (None, None, None)
            continue
        i = max(int(np.searchsorted(t0, st, side="right")) - 1, 0)
        survival_at[st] = (float(s0[i]), _none_if_nan(lo0[i]), _none_if_nan(hi0[i]))

    if at_risk_times is None:
        at_risk_times = np.arange(0.0, times[-1] + 1e-9, 12.0)
    at_risk_table = {float(a): int(np.sum(t >= a)) for a in at_risk_times}

    return KaplanMeierResult(
        n=int(t.size),
        events=int(e.sum()),
        ci_method=ci_method,
        alpha=float(alpha),
        times=times.tolist(),
        n_risk=n_risk.astype(int).tolist(),
        n_event=n_event.astype(int).tolist(),
        n_censor=n_censor.astype(int).tolist(),
        survival=surv.tolist(),
        std_err=_finite_or_none(std_err),
        ci_lower=_finite_or_none(lower),
        ci_upper=_finite_or_none(upper),
        median=median,
        median_ci=median_ci,
        survival_at=survival_at,
        at_risk_table=at_risk_table,
    )


def reverse_km_followup(time: Any, event: Any, **kw: Any) -> KaplanMeierResult:
    """Reverse Kaplan-Meier (censoring is the event): ``.median`` is the median follow-up.

    = R ``survfit(Surv(time, 1 - status) ~ 1)``; keyword arguments as :func:`kaplan_meier`.
    """
    t, e = _check_time_event(time, event)
    return kaplan_meier(t, 1 - e, **kw)


# ---------------------------------------------------------------------------------------------
# Log-rank test
# ---------------------------------------------------------------------------------------------


def group_levels(group: Sequence[Any] | np.ndarray | pd.Series) -> list[Any]:
    """Levels in R's factor order: a pandas Categorical's order, otherwise sorted values."""
    if isinstance(group, pd.Series) and isinstance(group.dtype, pd.CategoricalDtype):
        present = set(group.dropna().tolist())
        return [c for c in group.cat.categories if c in present]
    values = pd.Series(np.asarray(group, dtype=object)).dropna().unique().tolist()
    return sorted(values)


def _group_codes(group: Any, ok: np.ndarray) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """(levels as group_levels orders them, each kept row's level index, the rows kept: `ok`
    and a group). Plain values are hashed once (pd.factorize, which takes the same values as
    missing as notna); a Series keeps its categories' order."""
    if isinstance(group, pd.Series):
        g = group.reset_index(drop=True)
        ok = ok & g.notna().to_numpy()
        levels = group_levels(g[ok])
        code = pd.Categorical(g[ok].to_numpy(dtype=object), categories=levels).codes
        return levels, code, ok
    codes, uniques = pd.factorize(np.asarray(group, dtype=object), use_na_sentinel=True)
    ok = ok & (codes >= 0)
    kept = codes[ok]
    present = np.flatnonzero(np.bincount(kept, minlength=len(uniques)))
    levels = sorted(uniques[present].tolist())
    rank = np.full(len(uniques), -1, dtype=np.intp)
    rank[present] = [levels.index(v) for v in uniques[present].tolist()]
    return levels, rank[kept], ok


def _risk_and_deaths(
    t: np.ndarray, e: np.ndarray, code: np.ndarray, k: int, event_times: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(at risk, deaths) per (event time, group), counted with one binary search of every time
    among the event times (no sort per group): a subject is at risk at the event times up to
    and including its own time. Counts, so exactly what sorting each group gives."""
    last = np.searchsorted(event_times, t, side="right")  # event times <= each time
    return _counted(last, e == 1, code, k, event_times.size)


def _counted(
    last: np.ndarray, died: np.ndarray, code: np.ndarray, k: int, m: int
) -> tuple[np.ndarray, np.ndarray]:
    per = np.bincount(last * k + code, minlength=(m + 1) * k).reshape(m + 1, k)
    at_risk = per[::-1].cumsum(axis=0)[::-1][1:].astype(float)  # subjects with last > i
    # a death's time is an event time: its index is the number of event times <= it, less one
    deaths = np.bincount((last[died] - 1) * k + code[died], minlength=m * k).reshape(m, k)
    return at_risk, deaths.astype(float)


@dataclass(frozen=True)
class EventGrid:
    """An endpoint's times placed once among its event times, for the log-rank tests of every
    grouping of it (each keeps the rows that have a group: the event times that have no death
    among them are dropped again, so the counts are exactly those of its own grid)."""

    time: np.ndarray
    event: np.ndarray
    usable: np.ndarray  # rows with a time and an event
    invalid_time: np.ndarray  # rows whose time is infinite or negative
    invalid_event: np.ndarray  # rows whose event is neither 0 nor 1
    last: np.ndarray  # event times <= each row's time
    n_event_times: int


def event_grid(time: Any, event: Any) -> EventGrid:
    """The grid that logrank(..., grid=) takes: one binary search for every grouping."""
    t = as_1d(time, float)
    e = as_1d(event, float)
    if t.size != e.size:
        raise ValueError("time, event and group must have the same length")
    usable = ~np.isnan(t) & ~np.isnan(e)
    event_times = np.unique(t[usable & (e == 1)])
    with np.errstate(invalid="ignore"):
        invalid_time = ~np.isfinite(t) | (t < 0)
    return EventGrid(
        t,
        e,
        usable,
        invalid_time & usable,
        (e != 0) & (e != 1) & usable,
        np.searchsorted(event_times, t, side="right"),
        event_times.size,
    )


def logrank(time: Any, event: Any, group: Any, *, grid: EventGrid | None = None) -> LogRankResult:
    """Log-rank test = R ``survdiff(Surv(time, event) ~ group)`` (rho = 0).

    Groups with zero expected events are left out of the chi-square and its degrees of
    freedom, as R does.  A single group raises ``ValueError("There is only 1 group")``; a
    singular variance (where R's ``solve`` stops) raises ``ValueError`` too.  grid:
    ``event_grid(time, event)``, where several groupings of the same times are tested.
    """
    if grid is None:
        grid = event_grid(time, event)
    if len(group) != grid.time.size:
        raise ValueError("time, event and group must have the same length")
    levels, code, ok = _group_codes(group, grid.usable)
    if not ok.any():
        raise ValueError("no observations")
    if grid.invalid_time[ok].any():
        raise ValueError("times must be finite and >= 0")
    if grid.invalid_event[ok].any():
        raise ValueError("event must be 0/1 (or boolean)")
    k = len(levels)
    if k < 2:
        raise ValueError("There is only 1 group")

    at_risk, deaths = _counted(grid.last[ok], grid.event[ok] == 1, code, k, grid.n_event_times)
    d_tot = deaths.sum(axis=1)
    present = d_tot > 0  # this grouping's own event times
    at_risk, deaths, d_tot = at_risk[present], deaths[present], d_tot[present]
    n_tot = at_risk.sum(axis=1)
    expected = (d_tot[:, None] * at_risk / n_tot[:, None]).sum(axis=0)
    observed = deaths.sum(axis=0)
    var = np.zeros((k, k))
    multi = n_tot > 1
    kk = d_tot[multi] * (n_tot[multi] - d_tot[multi]) / (n_tot[multi] ** 2 * (n_tot[multi] - 1))
    nr = at_risk[multi]
    var += np.einsum("t,tj,jk->jk", kk * n_tot[multi], nr, np.eye(k))
    var -= np.einsum("t,tj,tk->jk", kk, nr, nr)

    use = expected > 0
    df = int(use.sum()) - 1
    if df < 1:
        chisq = 0.0
    else:
        idx = np.flatnonzero(use)[1:]
        diff = (observed - expected)[idx]
        try:
            chisq = float(diff @ np.linalg.solve(var[np.ix_(idx, idx)], diff))
        except np.linalg.LinAlgError:
            # R's survdiff stops here too ("system is exactly singular"), e.g. when every
            # subject still at risk has the event at the only event time.
            raise ValueError(
                "The log-rank variance is singular: the groups cannot be compared"
            ) from None
    p = float(stats.chi2.sf(chisq, df)) if df >= 1 else None
    n_per = np.bincount(code, minlength=k)
    groups = [
        {
            "group": lev if isinstance(lev, str) else _plain(lev),
            "n": int(n_per[j]),
            "observed": float(observed[j]),
            "expected": float(expected[j]),
        }
        for j, lev in enumerate(levels)
    ]
    return LogRankResult(chisq=chisq, df=df, p=p, groups=groups, variance=var.tolist())


def _plain(v: Any) -> Any:
    """numpy scalars -> Python scalars (JSON)."""
    return v.item() if isinstance(v, np.generic) else v
