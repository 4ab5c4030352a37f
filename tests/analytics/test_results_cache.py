"""Kaplan-Meier fits reused by content (analytics.results.fit_km): the same arrays give the
same curve without refitting, any change in time, event or options fits again."""

from __future__ import annotations

import numpy as np

from analytics import results
from analytics.survival import kaplan_meier


def test_a_fit_is_reused_only_for_identical_input(monkeypatch):
    results._KM_CACHE.clear()
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return kaplan_meier(*args, **kwargs)

    monkeypatch.setattr(results, "kaplan_meier", counting)
    time = np.array([3.0, 5.0, 8.0, 12.0, 20.0, 31.0])
    event = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0])
    first = results.fit_km(time, event, ci_method="log-log", survival_times=[12.0])
    again = results.fit_km(time.copy(), event.copy(), ci_method="log-log", survival_times=[12.0])
    assert again == first and len(calls) == 1
    direct = kaplan_meier(time, event, ci_method="log-log", survival_times=[12.0]).to_dict()
    assert first == direct  # same numbers as an uncached fit, NaN bounds as None included
    event[-1] = 0.0
    changed = results.fit_km(time, event, ci_method="log-log", survival_times=[12.0])
    assert changed != first and len(calls) == 2
    results.fit_km(time, event, ci_method="log", survival_times=[12.0])
    assert len(calls) == 3
