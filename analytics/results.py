"""Turning derived endpoints into the snapshot's results: Kaplan-Meier summaries per endpoint
and subgroup, log-rank tests, univariable Cox models. Pure (no ORM); the curves (long arrays)
are returned apart from the summaries, so the dashboard never loads them to show a number."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from operator import attrgetter
from typing import Any

import numpy as np
import pandas as pd

from .endpoints import EndpointData
from .survival import EventGrid, cox_univariable, event_grid, kaplan_meier, logrank

DEFAULT_CI = "log-log"
#: Endpoints whose subgroups get curves, log-rank tests and Cox models.
SUBGROUP_ENDPOINTS = ("os", "dfs")
#: Subgroup curves stored with the snapshot itself (the dashboard's "OS by stage" figure).
SNAPSHOT_CURVES = (("os", "stage"),)
#: Endpoints whose curves are stored in the snapshot's own row: the dashboard draws them at once
#: (OS, OS by stage, DFS). The other endpoints' curves (half of the 4.9 MB of JSON at 100,000
#: records) are stored with the snapshot's records just after it (SnapshotDataset.curves).
DRAWN_CURVES = ("os", "dfs")


def split_curves(curves: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the curves drawn at once, the others), as build_results returns them."""
    drawn = {key: value for key, value in curves.items() if key in DRAWN_CURVES}
    return drawn, {key: value for key, value in curves.items() if key not in DRAWN_CURVES}


def km_summary(km: dict[str, Any] | None, excluded: list[dict] | None = None) -> dict[str, Any]:
    """The machine-readable shape of one curve: n, events, median (+CI), S(t) at 12/36/60."""
    if km is None:
        out: dict[str, Any] = {
            "n": 0,
            "events": 0,
            "median": None,
            "median_ci": [None, None],
            "survival_at": {},
            "at_risk_table": {},
        }
    else:
        out = {
            "n": km["n"],
            "events": km["events"],
            "median": km["median"],
            "median_ci": list(km["median_ci"]),
            "survival_at": {
                key: {"estimate": v[0], "ci": [v[1], v[2]]} for key, v in km["survival_at"].items()
            },
            "at_risk_table": km["at_risk_table"],
        }
    if excluded is not None:
        out["excluded"] = excluded
    return out


def _arrays(data: EndpointData) -> tuple[np.ndarray, np.ndarray]:
    if data.columns is not None:
        return data.columns["time"], data.columns["event"]
    observations = data.observations
    n = len(observations)
    time = np.fromiter(map(attrgetter("time_months"), observations), float, n)
    event = np.fromiter(map(attrgetter("event"), observations), float, n)
    return time, event


def _groups_of(data: EndpointData, sg_key: str, membership: Mapping[str, str | None]) -> Any:
    if data.columns is not None and sg_key in data.columns:
        return data.columns[sg_key]
    return list(map(membership.get, map(attrgetter("record_id"), data.observations)))


#: Fitted curves by the content hash of their input: a lock adds one record, so at the next
#: recompute most subgroup curves (and any endpoint the record is not in) are unchanged.
_KM_CACHE: dict[bytes, dict[str, Any]] = {}
_KM_CACHE_SIZE = 256


def fit_km(
    time: np.ndarray, event: np.ndarray, *, ci_method: str, survival_times: list[float]
) -> dict[str, Any] | None:
    if time.size == 0:
        return None
    digest = hashlib.sha256(time.tobytes())
    digest.update(event.astype(float).tobytes())
    digest.update(repr((ci_method, survival_times)).encode())
    key = digest.digest()
    cached = _KM_CACHE.get(key)
    if cached is None:
        cached = kaplan_meier(
            time, event, ci_method=ci_method, survival_times=survival_times
        ).to_dict()
        if len(_KM_CACHE) >= _KM_CACHE_SIZE:
            _KM_CACHE.pop(next(iter(_KM_CACHE)))
        _KM_CACHE[key] = cached
    return dict(cached)  # its lists are shared with the cache: read them, never change them


def build_results(
    endpoints: Mapping[str, EndpointData],
    groups: Mapping[str, Any],
    config: Mapping[str, Any],
    *,
    ci_method: str = DEFAULT_CI,
    curve_subgroups: tuple[tuple[str, str], ...] = SNAPSHOT_CURVES,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(summaries, curves) for the snapshot: every endpoint overall, the few subgroup curves the
    dashboard draws at once, and log-rank tests (cheap). Cox models and the other subgroup
    curves are `build_details` (a second task, so a lock shows up within seconds).
    curves[endpoint]["all"]["All"] and curves[endpoint][subgroup][group] are KM dicts.
    groups: {subgroup key: {record id: group}}; unused where the endpoints have columns."""
    times = [float(t) for t in config.get("survival_times", [12, 36, 60])]
    summaries: dict[str, Any] = {"endpoints": {}, "subgroups": {}, "logrank": {}}
    curves: dict[str, Any] = {}
    for key, data in endpoints.items():
        time, event = _arrays(data)
        km = fit_km(time, event, ci_method=ci_method, survival_times=times)
        excluded = [{"record": x.record, "reason": x.reason} for x in data.excluded]
        summaries["endpoints"][key] = dict(
            km_summary(km, excluded),
            label=data.label,
            reverse=data.reverse,
            population=data.population,
        )
        curves[key] = {"all": {"All": km}} if km else {}
        if key not in SUBGROUP_ENDPOINTS or time.size == 0:
            continue
        grid = event_grid(time, event)  # the times searched once for every grouping
        for sg_key, membership in groups.items():
            group = _groups_of(data, sg_key, membership)
            summaries["logrank"][f"{key}_by_{sg_key}"] = _logrank(time, event, group, grid)
            if (key, sg_key) in curve_subgroups:
                _subgroup(summaries, curves, key, sg_key, config, time, event, group, ci_method)
    return summaries, curves


def build_details(
    endpoints: Mapping[str, EndpointData],
    groups: Mapping[str, Mapping[str, str | None]],
    config: Mapping[str, Any],
    *,
    ci_method: str = DEFAULT_CI,
    skip: tuple[tuple[str, str], ...] = SNAPSHOT_CURVES,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(details, curves): univariable Cox models and the remaining subgroup curves."""
    details: dict[str, Any] = {"subgroups": {}, "cox": {}}
    curves: dict[str, Any] = {}
    for key in SUBGROUP_ENDPOINTS:
        data = endpoints.get(key)
        if data is None or not data.observations:
            continue
        time, event = _arrays(data)
        curves[key] = {}
        for sg_key, membership in groups.items():
            group = _groups_of(data, sg_key, membership)
            details["cox"][f"{key}_by_{sg_key}"] = _cox(time, event, group)
            if (key, sg_key) not in skip:
                _subgroup(details, curves, key, sg_key, config, time, event, group, ci_method)
    return details, curves


def subgroup_curves(
    data: EndpointData,
    membership: Mapping[str, str | None],
    config: Mapping[str, Any],
    ci_method: str,
) -> dict[str, Any]:
    """{group: KM dict} for one endpoint split by one subgroup."""
    time, event = _arrays(data)
    group = _groups_of(data, "", membership)
    out: dict[str, Any] = {}
    _subgroup(
        {"subgroups": {}}, {data.key: out}, data.key, "x", config, time, event, group, ci_method
    )
    return out.get("x", {})


def _subgroup(
    summaries: dict,
    curves: dict,
    key: str,
    sg_key: str,
    config: Mapping[str, Any],
    time: np.ndarray,
    event: np.ndarray,
    group: list[str | None],
    ci_method: str,
) -> None:
    times = [float(t) for t in config.get("survival_times", [12, 36, 60])]
    labels = {sg["key"]: sg["label"] for sg in config.get("subgroups", [])}
    per_group, sg_curves = {}, {}
    # one hash pass, not one comparison of every row per level (None is no level)
    codes, uniques = pd.factorize(np.asarray(group, dtype=object))
    levels = {level: code for code, level in enumerate(uniques.tolist())}
    for level in sorted(levels):
        mask = codes == levels[level]
        sub = fit_km(time[mask], event[mask], ci_method=ci_method, survival_times=times)
        per_group[level] = km_summary(sub)
        sg_curves[level] = sub
    summaries["subgroups"][f"{key}_by_{sg_key}"] = {
        "endpoint": key,
        "subgroup": sg_key,
        "label": labels.get(sg_key, sg_key),
        "groups": per_group,
    }
    curves.setdefault(key, {})[sg_key] = sg_curves


def _logrank(
    time: np.ndarray, event: np.ndarray, group: list[str | None], grid: EventGrid | None = None
) -> dict[str, Any]:
    try:
        result = logrank(time, event, np.array(group, dtype=object), grid=grid).to_dict()
    except ValueError as exc:
        return {"chisq": None, "df": None, "p": None, "note": str(exc)}
    return {
        "chisq": result["chisq"],
        "df": result["df"],
        "p": result["p"],
        "groups": result["groups"],
    }


def _cox(time: np.ndarray, event: np.ndarray, group: list[str | None]) -> dict[str, Any]:
    try:
        result = cox_univariable(time, event, np.array(group, dtype=object), categorical=True)
    except (ValueError, np.linalg.LinAlgError) as exc:
        return {"terms": [], "reference": None, "note": str(exc)}
    data = result.to_dict()
    return {
        "reference": data["reference"],
        "terms": data["terms"],
        "n": data["n"],
        "events": data["events"],
        "lr": data["lr"],
        "warnings": data["warnings"],
    }
