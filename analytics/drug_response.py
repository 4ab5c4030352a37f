"""Drug sensitivity per setting and line of systemic therapy: objective response rate, disease
control rate, and progression-free survival of each advanced line.  Pure: a DataFrame of
treatment lines in, plain data out.

The unit is a treatment line (one instance of the ``systemic_therapy`` form), so a patient
appears once per line.  Input columns: ``record_id``, ``setting`` ("Neoadjuvant", "Adjuvant",
"Advanced"), ``line`` (advanced line number, ``None`` when not recorded), ``regimen_group``,
``response`` (RECIST best response "CR", "PR", "SD", "PD", "NE" or ``None``), ``pfs_time``
(months, NaN when not derivable) and ``pfs_event`` (1 progression or death, 0 censored).

Conventions (R leaves these to the analyst):

* ORR = (CR + PR) / evaluable, DCR = (CR + PR + SD) / evaluable.  Evaluable = a best response
  of CR, PR, SD or PD.  NE (not evaluable) and a missing response are left out of the
  denominator and reported beside it (``not_evaluable``, ``missing``), as RECIST reports do.
* 95 % CIs: exact Clopper-Pearson, = R ``binom.test(k, n)$conf.int``; none when n = 0.
* Rows: "Neoadjuvant", "Adjuvant", then "Advanced, line k" for each recorded line, and
  "Advanced, line not recorded" if any.  Lines are not pooled.
* Regimen groups: within a row, a regimen group gets its own sub-row only when it has at
  least ``MIN_GROUP_N`` (5) evaluable lines (for PFS: 5 lines with PFS); smaller groups are
  not shown separately (their lines stay in the row's total), because a rate on fewer than
  five lines has a CI too wide to read.
* PFS: from the start of an advanced line to progression (``progression_date`` on that line)
  or death, whichever first; censored at last contact.  Kaplan-Meier median with the
  registry's default CI (log-log, Greenwood; :func:`analytics.survival.kaplan_meier`), so the
  median and its CI follow ``summary(survfit(...))$table``.  The snapshot computes PFS with its
  own CI method; the dashboard's log / log-log switch re-runs the endpoints only, so the PFS
  rows keep the method named in their ``methods`` text.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .exact_tests import clopper_pearson
from .results import fit_km

__all__ = ["MIN_GROUP_N", "RESPONSES", "pfs_by_line", "response_rates", "row_label"]

MIN_GROUP_N = 5
RESPONSES = ("CR", "PR", "SD", "PD", "NE")
SETTINGS = ("Neoadjuvant", "Adjuvant", "Advanced")
ORR = {"CR", "PR"}
DCR = {"CR", "PR", "SD"}


def row_label(setting: str, line: Any) -> str:
    if setting != "Advanced":
        return setting
    return "Advanced, line not recorded" if _missing(line) else f"Advanced, line {int(line)}"


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def _rows(lines: pd.DataFrame) -> list[tuple[str, Any, pd.DataFrame]]:
    """(setting, line, lines) in reading order."""
    out = []
    for setting in SETTINGS:
        part = lines[lines["setting"] == setting]
        if part.empty:
            continue
        if setting != "Advanced":
            out.append((setting, None, part))
            continue
        known = part["line"].notna()
        for line in sorted({int(v) for v in part.loc[known, "line"].unique()}):
            out.append((setting, line, part[known & (part["line"] == line)]))
        if (~known).any():
            out.append((setting, None, part[~known]))
    return out


def _rate(k: int, n: int) -> dict[str, Any]:
    lo, hi = clopper_pearson(k, n)
    return {"k": k, "n": n, "estimate": k / n if n else None, "ci": [lo, hi]}


def _response_block(part: pd.DataFrame) -> dict[str, Any]:
    raw = part["response"]
    known = raw.notna()
    tally = raw[known].astype(str).value_counts()
    counts = {r: int(tally.get(r, 0)) for r in RESPONSES}
    n = sum(counts[r] for r in ("CR", "PR", "SD", "PD"))
    return {
        "n_lines": int(len(part)),
        "n_patients": int(part["record_id"].nunique()),
        "counts": counts,
        "n_evaluable": n,
        "not_evaluable": counts["NE"],
        "missing": int((~known).sum()),
        "orr": _rate(sum(counts[r] for r in ORR), n),
        "dcr": _rate(sum(counts[r] for r in DCR), n),
    }


def response_rates(lines: pd.DataFrame, *, min_group_n: int = MIN_GROUP_N) -> list[dict]:
    """ORR and DCR with Clopper-Pearson CIs per setting and line (and regimen group)."""
    out = []
    for setting, line, part in _rows(lines):
        block = _response_block(part)
        regimens = []
        for group in sorted(part["regimen_group"].dropna().unique()):
            sub = _response_block(part[part["regimen_group"] == group])
            if sub["n_evaluable"] >= min_group_n:
                regimens.append(dict(sub, regimen_group=str(group)))
        out.append(
            dict(
                block, setting=setting, line=line, label=row_label(setting, line), regimens=regimens
            )
        )
    return out


def _km(part: pd.DataFrame, ci_method: str) -> dict[str, Any]:
    ok = part["pfs_time"].notna() & part["pfs_event"].notna()
    time = part.loc[ok, "pfs_time"].to_numpy(float)
    event = part.loc[ok, "pfs_event"].to_numpy(float)
    if time.size == 0:
        return {
            "n": 0,
            "events": 0,
            "median": None,
            "median_ci": [None, None],
            "survival_at": {},
            "ci_method": ci_method,
        }
    km = fit_km(time, event, ci_method=ci_method, survival_times=[6.0, 12.0])  # cached
    return {
        "n": km["n"],
        "events": km["events"],
        "median": km["median"],
        "median_ci": list(km["median_ci"]),
        "survival_at": {
            t: {"estimate": v[0], "ci": [v[1], v[2]]} for t, v in km["survival_at"].items()
        },
        "ci_method": ci_method,
    }


def pfs_by_line(
    lines: pd.DataFrame, *, ci_method: str = "log-log", min_group_n: int = MIN_GROUP_N
) -> list[dict]:
    """Kaplan-Meier PFS per advanced line (and regimen group where n allows)."""
    out = []
    for setting, line, part in _rows(lines):
        if setting != "Advanced":
            continue
        block = _km(part, ci_method)
        block["excluded"] = int(len(part) - block["n"])
        regimens = []
        for group in sorted(part["regimen_group"].dropna().unique()):
            sub = _km(part[part["regimen_group"] == group], ci_method)
            if sub["n"] >= min_group_n:
                regimens.append(dict(sub, regimen_group=str(group)))
        out.append(dict(block, line=line, label=row_label(setting, line), regimens=regimens))
    return out
