"""The snapshot's drug-response, PFS-by-line and competing-risks results, from the derived
records (analytics.paper_data). Pure: the statistics are analytics.drug_response and
analytics.competing_risks; this module only gathers their inputs and shapes the summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .competing_risks import aalen_johansen, gray_test, one_minus_km
from .drug_response import MIN_GROUP_N, pfs_by_line, response_rates
from .endpoints import Exclusion
from .paper_data import CompetingObservation, TherapyLine, compare_specs

DRUG_METHODS = (
    "Unit: treatment line. ORR = CR + PR, DCR = CR + PR + SD (RECIST 1.1 best response), "
    "among evaluable lines (NE and missing responses excluded from the denominator and "
    "reported); exact Clopper-Pearson 95% CIs (R binom.test). Regimen groups shown where at "
    f"least {MIN_GROUP_N} lines are evaluable."
)
PFS_METHODS = (
    "Progression-free survival per advanced line: from the line's start to progression on "
    "that line or death, censored at last contact; Kaplan-Meier median with 95% CI "
    "({ci} transformation, Greenwood variance; R survfit). Regimen groups shown where at "
    f"least {MIN_GROUP_N} lines have PFS data."
)
CR_METHODS = (
    "Localized, operated patients, from surgery. Cumulative incidence by the Aalen-Johansen "
    "estimator (R survfit multi-state), 95% CIs from the infinitesimal-jackknife standard "
    "error on the log scale (R's default); Gray's test (R cmprsk::cuminc, rho = 0) between "
    "subgroups; 1 - Kaplan-Meier (competing events censored) shown for comparison. The first "
    "relapse decides its type; local and distant on the same day count as distant."
)


def lines_frame(lines: Sequence[tuple[str, TherapyLine]]) -> pd.DataFrame:
    columns = ["record_id", "setting", "line", "regimen_group", "response", "pfs_time"]
    rows = [
        [rid, ln.setting, ln.line, ln.regimen_group, ln.response, ln.pfs_time, ln.pfs_event]
        for rid, ln in lines
    ]
    frame = pd.DataFrame(rows, columns=[*columns, "pfs_event"])
    frame["pfs_time"] = pd.to_numeric(frame["pfs_time"], errors="coerce").astype(float)
    frame["pfs_event"] = pd.to_numeric(frame["pfs_event"], errors="coerce").astype(float)
    return frame


def drug_results(
    lines: Sequence[tuple[str, TherapyLine]], *, ci_method: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(drug_response, pfs_by_line) summaries."""
    frame = lines_frame(lines)
    notes = [ln.pfs_note for _, ln in lines if ln.pfs_note]
    if frame.empty:
        rows, pfs = [], []
    else:
        rows, pfs = response_rates(frame), pfs_by_line(frame, ci_method=ci_method)
    drug = {
        "n": int(len(frame)),
        "n_patients": int(frame["record_id"].nunique()) if not frame.empty else 0,
        "rows": rows,
        "methods": DRUG_METHODS,
    }
    advanced = frame[frame["setting"] == "Advanced"] if not frame.empty else frame
    pfs_summary = {
        "n": int(len(advanced)),
        "lines": pfs,
        "excluded": notes,
        "methods": PFS_METHODS.format(ci=ci_method),
    }
    return drug, pfs_summary


def competing_results(
    outcomes: Sequence[CompetingObservation | Exclusion | None], config: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(competing_risks summary, cumulative incidence curves or None)."""
    spec = config.get("competing_risks") or {}
    causes = {int(k): v for k, v in spec.get("causes", {}).items()}
    observed = [o for o in outcomes if isinstance(o, CompetingObservation)]
    excluded = [
        {"record": o.record, "reason": o.reason} for o in outcomes if isinstance(o, Exclusion)
    ]
    at_times = [float(t) for t in config.get("survival_times", [12, 36, 60])]
    summary: dict[str, Any] = {
        "n": len(observed),
        "causes": {str(k): v for k, v in causes.items()},
        "excluded": excluded,
        "methods": CR_METHODS,
        "at": {},
        "one_minus_km": {},
        "events": {},
        "gray": {},
        "compare": [sg["key"] for sg in compare_specs(config)],  # display order (JSONB sorts keys)
    }
    if not observed or not causes:
        return summary, None
    time = np.array([o.time_months for o in observed])
    status = np.array([o.status for o in observed])
    aj = aalen_johansen(time, status, causes=sorted(causes), at_times=at_times)
    summary["events"] = {str(k): v for k, v in aj.events.items()}
    for t, per in aj.at.items():
        summary["at"][format(t, "g")] = {
            str(k): {"estimate": v[0], "ci": [v[1], v[2]]} for k, v in per.items()
        }
    for k in causes:
        for t, v in one_minus_km(time, status, k, at_times).items():
            summary["one_minus_km"].setdefault(format(t, "g"), {})[str(k)] = v
    for sg in compare_specs(config):
        group = np.array([o.groups.get(sg["key"]) for o in observed], dtype=object)
        summary["gray"][sg["key"]] = _gray(time, status, group, sg.get("label", sg["key"]))
    return summary, dict(aj.to_dict(), labels={str(k): v for k, v in causes.items()})


def _gray(time: np.ndarray, status: np.ndarray, group: np.ndarray, label: str) -> dict:
    try:
        result = gray_test(time, status, group).to_dict()
    except ValueError as exc:
        return {"label": label, "groups": [], "n": {}, "tests": {}, "note": str(exc)}
    return dict(result, label=label, note="")
