"""Exact and rank tests as R computes them: ``fisher.test``, ``wilcox.test`` (two samples) and
the Clopper-Pearson interval of ``binom.test``.  Pure: numbers in, numbers out.

Reference: ``analytics/reference/make_paper_reference.R``; ``tests/analytics/
test_paper_stats_vs_r.py`` holds every p-value to 1e-6 relative and every interval to 1e-6.

Conventions, and where R leaves a choice open:

* Fisher's exact test, two-sided, is the sum of the probabilities of every table with the
  observed margins that is no more probable than the observed one.  R decides "no more
  probable" with a tolerance: ``d <= d_obs * (1 + 1e-7)`` for a 2 x 2 table (``fisher.test``'s
  own code) and ``log d <= log d_obs + 3.45254e-7`` for larger tables (FEXACT's ``TOL``); both
  are used here, for the same table shapes.  Larger tables are enumerated completely (R uses
  FEXACT's network algorithm, which sums the same tables): fine at registry sizes, refused
  with ``ValueError`` beyond ``MAX_TABLES`` tables (partial tables included, as they are
  made).  That count is worked out from the margins first (``_partial_tables``), so a table
  too large is refused at once, not after enumerating ``MAX_TABLES`` of them.  Empty rows and
  columns contribute nothing and are dropped; a table left with fewer than two rows or columns
  has p = 1, as R gives.
* Wilcoxon rank-sum (``wilcox.test(x, y)``, two-sided): the exact distribution when both groups
  have fewer than 50 values and there are no ties, otherwise the normal approximation with the
  tie-corrected variance and a continuity correction of 0.5, exactly R's rules.  No spread at
  all (every value tied) gives ``None`` where R gives ``NaN``; an empty group gives ``None``
  where R stops with an error.
* Clopper-Pearson: ``scipy.stats.binomtest(k, n).proportion_ci(method="exact")``, which equals
  ``binom.test(k, n)$conf.int``; n = 0 gives ``(None, None)``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import gammaln

__all__ = [
    "MAX_TABLES",
    "WilcoxonResult",
    "clopper_pearson",
    "fisher_exact",
    "wilcoxon_rank_sum",
]

MAX_TABLES = 200_000
RELERR_2X2 = 1 + 1e-7
TOL_RXC = 3.45254e-7
TOO_LARGE = "table too large for complete enumeration"


@functools.lru_cache(maxsize=4096)  # root searches; one lock leaves most rates unchanged
def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Exact binomial confidence interval (R ``binom.test(k, n)$conf.int``)."""
    if n <= 0:
        return (None, None)
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="exact")
    return (float(ci.low), float(ci.high))


def _lfact(x: np.ndarray | int) -> np.ndarray:
    return gammaln(np.asarray(x, dtype=float) + 1)


def fisher_exact(table: Sequence[Sequence[int]]) -> float:
    """Two-sided p-value of Fisher's exact test on an r x c contingency table of counts."""
    m = np.asarray(table, dtype=np.int64)
    if m.ndim != 2 or np.any(m < 0):
        raise ValueError("a two-dimensional table of non-negative counts is needed")
    m = m[m.sum(axis=1) > 0][:, m.sum(axis=0) > 0]
    if m.shape[0] < 2 or m.shape[1] < 2:
        return 1.0
    if m.shape == (2, 2):
        return _fisher_2x2(m)
    if m.shape[1] > m.shape[0]:
        m = m.T  # enumerate the shorter dimension's vectors
    rows, cols = m.sum(axis=1), m.sum(axis=0)
    if _partial_tables(rows, cols, MAX_TABLES) > MAX_TABLES:
        raise ValueError(TOO_LARGE)
    # log P(table) = const - sum(log x_ij!): compare only the table-dependent part
    observed = -float(_lfact(m).sum())
    logs = _enumerate(rows, cols)
    const = float(_lfact(rows).sum() + _lfact(cols).sum() - _lfact(int(rows.sum())))
    keep = logs <= observed + TOL_RXC
    p = float(np.exp(logs[keep] + const).sum())
    return min(p, 1.0)


def _fisher_2x2(m: np.ndarray) -> float:
    col1, col2, row1 = int(m[:, 0].sum()), int(m[:, 1].sum()), int(m[0].sum())
    support = np.arange(max(0, row1 - col2), min(row1, col1) + 1)
    logd = stats.hypergeom.logpmf(support, col1 + col2, col1, row1)
    d = np.exp(logd - logd.max())
    d /= d.sum()
    observed = d[int(m[0, 0]) - support[0]]
    return float(min(d[d <= observed * RELERR_2X2].sum(), 1.0))


def _enumerate(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """-sum(log x_ij!) for every table with these margins (columns filled one at a time).

    With arrays: every partial table's fillings of the next column at once, in the order
    `_compositions` makes them.  The caller has counted the partial tables this makes
    (`_partial_tables`), so a table too large was refused before it cost memory (a 1,000-patient
    Table 1 row has ~1e16 tables)."""
    rest = rows[None, :].astype(np.int64)
    acc = np.zeros(1)
    for col in cols[:-1]:
        state, vec = _fillings(int(col), rest)
        acc = acc[state] - gammaln(vec + 1.0).sum(axis=1)
        rest = rest[state] - vec
    return acc - gammaln(rest + 1.0).sum(axis=1)


def _fillings(total: int, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row s of `bounds`, every vector 0 <= v <= bounds[s] with sum(v) == total, as
    (s of each, the vectors), in `_compositions`' order (s, then v lexicographically)."""
    suffix = np.cumsum(bounds[:, ::-1], axis=1)[:, ::-1]  # suffix[:, i] = sum(bounds[:, i:])
    state = np.arange(bounds.shape[0])
    left = np.full(state.size, total, dtype=np.int64)
    parts: list[np.ndarray] = []
    for i in range(bounds.shape[1] - 1):
        low = np.maximum(0, left - suffix[state, i + 1])
        ways = np.maximum(np.minimum(bounds[state, i], left) - low + 1, 0)
        pick = np.repeat(np.arange(state.size), ways)
        v = low[pick] + np.arange(pick.size) - (np.cumsum(ways) - ways)[pick]
        parts = [*(p[pick] for p in parts), v]
        state, left = state[pick], left[pick] - v
    return state, np.column_stack([*parts, left])  # the last part: what is left, within bounds


def _partial_tables(rows: np.ndarray, cols: np.ndarray, limit: int) -> int:
    """How many partial tables `_enumerate` makes for these margins (every filling of the
    first k columns, k < number of columns), counted without making them; stops counting once
    past `limit`.  Fillings are grouped by the row totals they leave, with multiplicities."""
    if rows.size == 2:
        return _partial_tables_two_rows(rows, cols, limit)
    total = 0
    states: dict[tuple[int, ...], int] = {tuple(int(r) for r in rows): 1}
    for index, col in enumerate(cols[:-1]):
        total += sum(n * _bounded_compositions(int(col), rest) for rest, n in states.items())
        if total > limit or index == len(cols) - 2:
            break
        nxt: dict[tuple[int, ...], int] = {}
        for rest, n in states.items():
            bounds = np.array(rest, dtype=np.int64)
            for vec in _compositions(int(col), bounds, [limit]):
                key = tuple(int(x) for x in bounds - vec)
                nxt[key] = nxt.get(key, 0) + n
        states = nxt
    return total


def _partial_tables_two_rows(rows: np.ndarray, cols: np.ndarray, limit: int) -> int:
    """`_partial_tables` for two rows: the state is what is left of the first row."""
    first, left = int(rows[0]), int(rows.sum())
    counts = np.zeros(first + 1, dtype=np.int64)  # counts[a]: fillings leaving a in row 1
    counts[first] = 1
    a = np.arange(first + 1)
    total = 0
    for col in (int(c) for c in cols[:-1]):
        low = np.maximum(0, col - (left - a))  # at most what is left of row 2
        high = np.minimum(a, col)
        ways = np.maximum(high - low + 1, 0)
        total += int(counts @ ways)
        if total > limit:
            break
        # a filling leaving a goes to every a - x, low <= x <= high: a range, added at once
        valid = (ways > 0) & (counts > 0)
        diff = np.zeros(first + 2, dtype=np.int64)
        np.add.at(diff, (a - high)[valid], counts[valid])
        np.add.at(diff, (a - low + 1)[valid], -counts[valid])
        counts = np.cumsum(diff)[: first + 1]
        left -= col
    return total


def _bounded_compositions(total: int, bounds: Sequence[int]) -> int:
    """The number of integer vectors 0 <= v <= bounds with sum(v) == total (inclusion-
    exclusion over the bounds exceeded)."""
    k, count = len(bounds), 0
    for chosen in range(1 << k):
        over = total - sum(b + 1 for i, b in enumerate(bounds) if chosen >> i & 1)
        if over >= 0:
            sign = -1 if bin(chosen).count("1") % 2 else 1
            count += sign * math.comb(over + k - 1, k - 1)
    return count


def _compositions(total: int, bounds: np.ndarray, budget: list[int]) -> Iterator[np.ndarray]:
    """Every vector 0 <= v <= bounds with sum(v) == total; each one spends one of `budget`."""
    k = bounds.size
    suffix = np.concatenate([np.cumsum(bounds[::-1])[::-1], [0]])
    vec = np.zeros(k, dtype=np.int64)

    def fill(i: int, left: int) -> Iterator[np.ndarray]:
        if i == k - 1:
            if left <= bounds[i]:
                budget[0] -= 1
                if budget[0] < 0:
                    raise ValueError(TOO_LARGE)
                vec[i] = left
                yield vec.copy()
            return
        for v in range(max(0, left - int(suffix[i + 1])), min(int(bounds[i]), left) + 1):
            vec[i] = v
            yield from fill(i + 1, left - v)

    yield from fill(0, total)


@dataclass(frozen=True)
class WilcoxonResult:
    """R ``wilcox.test(x, y)``: W (sum of x's ranks - n_x(n_x+1)/2), p and the method used."""

    statistic: float | None
    p: float | None
    exact: bool
    n_x: int
    n_y: int

    def to_dict(self) -> dict[str, object]:
        return {
            "statistic": self.statistic,
            "p": self.p,
            "exact": self.exact,
            "n_x": self.n_x,
            "n_y": self.n_y,
        }


def wilcoxon_rank_sum(x: Sequence[float], y: Sequence[float]) -> WilcoxonResult:
    """Two-sided Wilcoxon rank-sum test following R's choice of exact or normal p-value."""
    xs = np.asarray([v for v in x if v is not None and not math.isnan(v)], dtype=float)
    ys = np.asarray([v for v in y if v is not None and not math.isnan(v)], dtype=float)
    nx, ny = xs.size, ys.size
    if nx == 0 or ny == 0:
        return WilcoxonResult(None, None, False, nx, ny)
    ranks = stats.rankdata(np.concatenate([xs, ys]))
    w = float(ranks[:nx].sum() - nx * (nx + 1) / 2)
    ties = np.unique(ranks).size != ranks.size
    if nx < 50 and ny < 50 and not ties:
        dist = stats.mannwhitneyu(xs, ys, alternative="two-sided", method="exact")
        return WilcoxonResult(w, float(dist.pvalue), True, nx, ny)
    _, counts = np.unique(ranks, return_counts=True)
    n = nx + ny
    sigma = math.sqrt(
        (nx * ny / 12) * ((n + 1) - float(np.sum(counts**3 - counts)) / (n * (n - 1)))
    )
    z = w - nx * ny / 2
    if sigma == 0:
        return WilcoxonResult(w, None, False, nx, ny)
    z = (z - math.copysign(0.5, z) * (z != 0)) / sigma
    p = 2 * min(stats.norm.cdf(z), stats.norm.sf(z))
    return WilcoxonResult(w, float(p), False, nx, ny)
