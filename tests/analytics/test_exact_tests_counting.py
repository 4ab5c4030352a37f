"""Fisher's exact test decides from the margins whether a table can be enumerated: the count
it works out must be the number of partial tables the enumeration makes, so that a table is
refused exactly when enumerating it would be; and the enumeration with arrays must give what
the one-by-one enumeration gave, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from analytics import exact_tests
from analytics.exact_tests import MAX_TABLES, _compositions, _partial_tables


def made_by_enumeration(rows: np.ndarray, cols: np.ndarray) -> int:
    budget = [10**12]
    states = [rows.copy()]
    for col in cols[:-1]:
        states = [rest - vec for rest in states for vec in _compositions(int(col), rest, budget)]
    return 10**12 - budget[0]


TABLES = [
    np.array(t)
    for t in (
        [[3, 1, 0], [2, 4, 1], [0, 2, 5]],
        [[1, 2, 3, 4], [4, 3, 2, 1], [0, 1, 0, 2]],
        [[5, 0], [2, 7], [4, 4], [0, 3], [6, 1]],
        [[12, 3], [9, 14], [1, 0]],
        [[2, 2, 2], [1, 3, 0]],
    )
]


@pytest.mark.parametrize("table", TABLES, ids=lambda t: "x".join(map(str, t.shape)))
@pytest.mark.parametrize("transpose", [False, True])
def test_partial_tables_counts_what_the_enumeration_makes(table, transpose) -> None:
    rows, cols = margins(table.T if transpose else table)
    made = made_by_enumeration(rows, cols)
    assert _partial_tables(rows, cols, 10**12) == made
    for limit in (0, made - 1, made):
        assert (_partial_tables(rows, cols, limit) > limit) == (made > limit)


def enumerated_one_by_one(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The enumeration as it was written first: one partial table at a time."""
    states = [(rows.copy(), 0.0)]
    for col in cols[:-1]:
        states = [
            (rest - vec, acc - float(exact_tests._lfact(vec).sum()))
            for rest, acc in states
            for vec in _compositions(int(col), rest, [MAX_TABLES])
        ]
    return np.array([acc - float(exact_tests._lfact(rest).sum()) for rest, acc in states])


@pytest.mark.parametrize("table", TABLES, ids=lambda t: "x".join(map(str, t.shape)))
def test_array_enumeration_is_the_one_by_one_enumeration(table) -> None:
    m = table if table.shape[0] >= table.shape[1] else table.T
    rows, cols = m.sum(axis=1), m.sum(axis=0)
    assert np.array_equal(exact_tests._enumerate(rows, cols), enumerated_one_by_one(rows, cols))


def margins(table: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns as fisher_exact enumerates them (the longer dimension as rows)."""
    m = np.array(table)
    m = m if m.shape[0] >= m.shape[1] else m.T
    return m.sum(axis=1), m.sum(axis=0)


def test_a_table_just_within_the_limit_is_still_computed(monkeypatch) -> None:
    table = [[12, 3], [9, 14], [1, 0]]
    rows, cols = margins(table)
    made = made_by_enumeration(rows, cols)
    monkeypatch.setattr(exact_tests, "MAX_TABLES", made)
    p = exact_tests.fisher_exact(table)
    assert 0 < p <= 1
    monkeypatch.setattr(exact_tests, "MAX_TABLES", made - 1)
    with pytest.raises(ValueError, match="too large"):
        exact_tests.fisher_exact(table)
