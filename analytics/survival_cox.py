"""Univariable Cox proportional-hazards model = R ``coxph(Surv(time, event) ~ x, ties="efron")``.

Pure numpy / scipy, no Django.  Re-exported by :mod:`analytics.survival`.

The Efron partial likelihood is maximised by Newton-Raphson from beta = 0 with step halving
(R's ``coxph.fit`` algorithm) but iterated to a much tighter tolerance than R's default
(``eps = 1e-9`` on the relative log-likelihood change) and than lifelines' ``CoxPHFitter``
(``precision = 1e-7`` on the step norm), so coefficients, standard errors, hazard ratios, CIs
and the Wald / likelihood-ratio / score (log-rank) tests agree with R to far better than 1e-6.

Monotone likelihood (e.g. a category with no events): the coefficient diverges.  R warns
"Loglik converged before variable ...; coefficient may be infinite" and prints a large
arbitrary number; here the term is flagged ``infinite=True`` with ``coef``/``hr``/``se``/CI/p
set to ``None``, a warning is added, and the Wald test (meaningless then) is ``None``.  The
other terms, the log-likelihoods and the LR / score tests are still reported (they converge).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

#: Stop when the Newton step is below this (absolute, per coefficient) ...
STEP_TOLERANCE = 1e-11
#: ... or when the relative log-likelihood change falls below this (monotone likelihood).
LOGLIK_TOLERANCE = 1e-14
MAX_ITER = 100
#: R's ``coxph.control()$toler.inf`` = sqrt(eps), used to flag infinite coefficients.
TOLER_INF = math.sqrt(1e-9)


def as_1d(x: Any, dtype: Any = float) -> np.ndarray:
    """Array-like (list, numpy, pandas; booleans allowed) -> 1-D numpy array."""
    if isinstance(x, pd.Series):
        x = x.to_numpy(dtype=dtype, na_value=np.nan) if dtype is float else x.to_numpy()
    arr = np.asarray(x, dtype=dtype)
    if arr.ndim != 1:
        raise ValueError("expected a 1-D array")
    return arr


def drop_missing(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Drop rows where any float array is NaN (R's ``na.omit``)."""
    n = arrays[0].size
    if any(a.size != n for a in arrays):
        raise ValueError("arrays must have the same length")
    ok = np.ones(n, dtype=bool)
    for a in arrays:
        ok &= ~pd.isna(a)
    return tuple(a[ok] for a in arrays)


@dataclass
class CoxResult:
    """Univariable Cox model (Efron ties): one term per non-reference level, or one numeric."""

    terms: list[dict[str, Any]]  # {term, coef, hr, se, hr_ci: [lo, hi], z, p, infinite}
    loglik: float
    loglik_null: float
    n: int
    events: int
    reference: Any = None
    alpha: float = 0.05
    wald: dict[str, Any] | None = None  # {chisq, df, p}
    lr: dict[str, Any] = field(default_factory=dict)
    score: dict[str, Any] | None = None  # score (log-rank) test at beta = 0
    iterations: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict."""
        return {
            "terms": [dict(t, hr_ci=list(t["hr_ci"])) for t in self.terms],
            "loglik": self.loglik,
            "loglik_null": self.loglik_null,
            "n": self.n,
            "events": self.events,
            "reference": self.reference,
            "alpha": self.alpha,
            "wald": self.wald,
            "lr": self.lr,
            "score": self.score,
            "iterations": self.iterations,
            "warnings": list(self.warnings),
        }


class _EfronModel:
    """Efron partial log-likelihood, score and information for fixed data."""

    def __init__(self, time: np.ndarray, event: np.ndarray, x: np.ndarray) -> None:
        order = np.argsort(time, kind="stable")
        self.t = time[order]
        self.e = event[order].astype(bool)
        self.x = x[order] - x.mean(axis=0)  # centred, as R does (coefficients unaffected)
        _, first, inverse = np.unique(self.t, return_index=True, return_inverse=True)
        self.first = first
        self.inverse = inverse
        n_groups = first.size
        d = np.bincount(inverse, weights=self.e, minlength=n_groups)
        self.event_groups = np.flatnonzero(d > 0)
        d_ev = d[self.event_groups].astype(int)
        # one entry per death: its tied-time group and Efron fraction l / d
        self.rep = np.repeat(self.event_groups, d_ev)
        starts = np.repeat(np.cumsum(d_ev) - d_ev, d_ev)
        self.frac = (np.arange(d_ev.sum()) - starts) / np.repeat(d_ev, d_ev)

    def evaluate(self, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        x, e = self.x, self.e
        eta = x @ beta
        shift = eta.max()  # the log-likelihood is invariant to this shift
        w = np.exp(eta - shift)
        wx = w[:, None] * x
        wxx = wx[:, :, None] * x[:, None, :]
        # risk-set sums at each distinct time: reverse cumulative sums from its first index
        r0 = np.cumsum(w[::-1])[::-1][self.first]
        r1 = np.cumsum(wx[::-1], axis=0)[::-1][self.first]
        r2 = np.cumsum(wxx[::-1], axis=0)[::-1][self.first]
        ng = self.first.size
        p = x.shape[1]
        d0 = np.bincount(self.inverse, weights=w * e, minlength=ng)
        d1 = np.zeros((ng, p))
        np.add.at(d1, self.inverse[e], wx[e])
        d2 = np.zeros((ng, p, p))
        np.add.at(d2, self.inverse[e], wxx[e])
        j, f = self.rep, self.frac
        s0 = r0[j] - f * d0[j]
        s1 = r1[j] - f[:, None] * d1[j]
        s2 = r2[j] - f[:, None, None] * d2[j]
        loglik = float(np.sum(eta[e] - shift) - np.sum(np.log(s0)))
        score = x[e].sum(axis=0) - (s1 / s0[:, None]).sum(axis=0)
        a = s1 / s0[:, None]
        info = (s2 / s0[:, None, None]).sum(axis=0) - np.einsum("ij,ik->jk", a, a)
        return loglik, score, info


def _design(
    covariate: Any, reference: Any, categorical: bool | None
) -> tuple[np.ndarray, list[str], Any, np.ndarray, str | None]:
    """Returns X, term names, reference level, missing mask, covariate name."""
    name = covariate.name if isinstance(covariate, pd.Series) else None
    s = covariate if isinstance(covariate, pd.Series) else pd.Series(list(covariate))
    s = s.reset_index(drop=True)
    if categorical is None:
        categorical = not (
            pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
        )
    missing = s.isna().to_numpy()
    if not categorical:
        if reference is not None:
            raise ValueError("reference is only meaningful for a categorical covariate")
        x = s.to_numpy(dtype=float, na_value=np.nan)[:, None]
        return x, [str(name) if name is not None else "x"], None, missing, name
    present = s[~missing]
    if isinstance(s.dtype, pd.CategoricalDtype):
        levels = [c for c in s.cat.categories if c in set(present.tolist())]
    else:
        levels = sorted(present.unique().tolist())
    if reference is not None:
        if reference not in levels:
            raise ValueError(f"reference {reference!r} is not among the levels {levels}")
        levels = [reference] + [v for v in levels if v != reference]
    if len(levels) < 2:
        raise ValueError("the covariate has fewer than 2 levels")
    vals = s.to_numpy(dtype=object)
    x = np.column_stack([(vals == lev).astype(float) for lev in levels[1:]])
    return x, [str(v) for v in levels[1:]], levels[0], missing, name


def _test(chisq: float, df: int) -> dict[str, Any]:
    return {"chisq": float(chisq), "df": df, "p": float(stats.chi2.sf(chisq, df))}


def cox_univariable(
    time: Any,
    event: Any,
    covariate: Any,
    *,
    reference: Any = None,
    categorical: bool | None = None,
    alpha: float = 0.05,
) -> CoxResult:
    """Cox model with one covariate = R ``coxph(Surv(time, event) ~ covariate)`` (Efron ties).

    A non-numeric covariate (or ``categorical=True``) is dummy-coded against ``reference``
    (default: the first level in R's factor order: categorical order, else sorted).
    Terms carry ``coef``, ``hr`` = exp(coef), ``se``, ``hr_ci`` (Wald, 1 - alpha), ``z``, ``p``.
    """
    t = as_1d(time, float)
    e = as_1d(event, float)
    x_all, names, ref, missing, _ = _design(covariate, reference, categorical)
    if not (t.size == e.size == x_all.shape[0]):
        raise ValueError("time, event and covariate must have the same length")
    ok = ~np.isnan(t) & ~np.isnan(e) & ~missing & ~np.isnan(x_all).any(axis=1)
    t, e, x = t[ok], e[ok], x_all[ok]
    if t.size == 0 or np.any(t < 0) or np.any(~np.isfinite(t)):
        raise ValueError("times must be finite, >= 0, and at least one row is needed")
    if np.any((e != 0) & (e != 1)):
        raise ValueError("event must be 0/1 (or boolean)")
    if e.sum() == 0:
        raise ValueError("no events: the Cox model cannot be fitted")
    if ref is not None:
        # categorical: levels whose names vanished after dropping missing rows
        keep_cols = x.any(axis=0)
        if not keep_cols.all():
            raise ValueError("a level has no complete observations")

    model = _EfronModel(t, e.astype(bool), x)
    p = x.shape[1]
    beta = np.zeros(p)
    loglik0, u0, i0 = model.evaluate(beta)
    try:
        score_chisq = float(u0 @ np.linalg.solve(i0, u0))
    except np.linalg.LinAlgError as exc:
        raise ValueError(
            "information matrix is singular at beta = 0 (a level has nobody "
            "at risk at any event time)"
        ) from exc

    loglik, u, info = loglik0, u0, i0
    iterations = 0
    for iterations in range(1, MAX_ITER + 1):  # noqa: B007 - reported below
        step = np.linalg.solve(info, u)
        new = beta + step
        ll_new, u_new, i_new = model.evaluate(new)
        halvings = 0
        while ll_new < loglik - 1e-12 * abs(loglik) and halvings < 60:
            step = step / 2
            new = beta + step
            ll_new, u_new, i_new = model.evaluate(new)
            halvings += 1
        change = ll_new - loglik
        beta, loglik, u, info = new, ll_new, u_new, i_new
        if np.max(np.abs(step)) < STEP_TOLERANCE:
            break
        if abs(change) <= LOGLIK_TOLERANCE * max(1.0, abs(loglik)):
            break

    var = np.linalg.inv(info)
    last_step = np.abs(var @ u)
    infinite = (last_step > 1e-6) & (last_step > TOLER_INF * np.abs(beta))
    z_crit = float(stats.norm.ppf(1 - alpha / 2))
    warnings: list[str] = []
    terms: list[dict[str, Any]] = []
    for k, term in enumerate(names):
        if infinite[k]:
            warnings.append(
                f"coefficient for {term!r} may be infinite (monotone likelihood"
                + (", e.g. no events in that level)" if ref is not None else ")")
            )
            terms.append(
                {
                    "term": term,
                    "coef": None,
                    "hr": None,
                    "se": None,
                    "hr_ci": (None, None),
                    "z": None,
                    "p": None,
                    "infinite": True,
                }
            )
            continue
        se = math.sqrt(var[k, k])
        coef = float(beta[k])
        z = coef / se
        terms.append(
            {
                "term": term,
                "coef": coef,
                "hr": math.exp(coef),
                "se": se,
                "hr_ci": (math.exp(coef - z_crit * se), math.exp(coef + z_crit * se)),
                "z": z,
                "p": float(2 * stats.norm.sf(abs(z))),
                "infinite": False,
            }
        )
    wald = None if infinite.any() else _test(float(beta @ info @ beta), p)
    return CoxResult(
        terms=terms,
        loglik=loglik,
        loglik_null=loglik0,
        n=int(t.size),
        events=int(e.sum()),
        reference=ref,
        alpha=alpha,
        wald=wald,
        lr=_test(2 * (loglik - loglik0), p),
        score=_test(score_chisq, p),
        iterations=iterations,
        warnings=warnings,
    )
