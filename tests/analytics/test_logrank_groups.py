"""The log-rank test codes plain groups with one hash pass (pd.factorize): on any groups,
missing values and missing times included, it gives exactly what the per-row pandas path (a
Series, kept for categorical groups) gives, errors too."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd

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
