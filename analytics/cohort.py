"""Describing the cohort from the analysis configuration: subgroup membership, patient counts
(relapses, salvage surgery, chemotherapy) and Table 1 (baseline characteristics by stage).
Pure functions over analytics.endpoints.Patient."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np

from .endpoints import Patient

Labels = Mapping[str, Mapping[str, str]]  # field -> {code: label}


def _known(raw: Any, missing_codes: set[str]) -> bool:
    return raw not in (None, "", []) and not (isinstance(raw, str) and raw in missing_codes)


def subgroup_value(patient: Patient, subgroup: Mapping[str, Any], labels: Labels,
                   missing_codes: set[str]) -> str | None:
    """The patient's group in one subgroup variable (None: unknown, left out of comparisons)."""
    if subgroup.get("centre"):
        return patient.centre
    if "instrument" in subgroup:
        settings = {str(inst.get(subgroup["field"])) for inst in
                    patient.instances.get(subgroup["instrument"], [])}
        found = [name for name, codes in subgroup["groups"].items() if settings & set(codes)]
        return " + ".join(found) if found else subgroup.get("none", "None")
    raw = patient.values.get(subgroup["field"])
    if not _known(raw, missing_codes):
        return None
    if "groups" in subgroup:
        for name, codes in subgroup["groups"].items():
            if str(raw) in codes:
                return name
        return None
    return labels.get(subgroup["field"], {}).get(str(raw), str(raw))


def subgroup_values(patients: Sequence[Patient], config: Mapping[str, Any], labels: Labels,
                    missing_codes: set[str]) -> dict[str, dict[str, str | None]]:
    """{subgroup key: {record_id: group}}."""
    return {
        sg["key"]: {p.record_id: subgroup_value(p, sg, labels, missing_codes) for p in patients}
        for sg in config.get("subgroups", [])
    }


def _matches(values: Mapping[str, Any], where: Mapping[str, list[str]]) -> bool:
    return all(str(values.get(name)) in codes for name, codes in where.items())


def _with_instance(patients: Sequence[Patient], spec: Mapping[str, Any]) -> set[str]:
    return {
        p.record_id for p in patients
        if any(_matches(inst, spec.get("where", {}))
               for inst in p.instances.get(spec["instrument"], []))
    }


def patient_counts(patients: Sequence[Patient], config: Mapping[str, Any]) -> dict[str, dict]:
    """{count key: {label, n, of}}: patients with a matching instance (or, for "of" counts,
    patients of another count with no matching instance of the "without" instrument)."""
    members: dict[str, set[str]] = {}
    result: dict[str, dict] = {}
    for count in config.get("counts", []):
        if "of" in count:
            base = members[count["of"]]
            ids = base - _with_instance(patients, count["without"])
            of = len(base)
        else:
            ids = _with_instance(patients, count)
            of = len(patients)
        members[count["key"]] = ids
        result[count["key"]] = {"label": count["label"], "n": len(ids), "of": of}
    return result


def _number(raw: Any) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _continuous(values: list[Any]) -> dict[str, Any]:
    numbers = [v for v in (_number(x) for x in values) if v is not None]
    if not numbers:
        return {"n": 0, "median": None, "q1": None, "q3": None, "missing": len(values)}
    q1, median, q3 = np.percentile(numbers, [25, 50, 75])  # R's quantile type 7
    return {"n": len(numbers), "median": float(median), "q1": float(q1), "q3": float(q3),
            "missing": len(values) - len(numbers)}


def _categorical(values: list[Any], order: Mapping[str, str], missing_codes: set[str]
                 ) -> list[dict[str, Any]]:
    total = len(values)
    rows = []
    for code, label in order.items():
        n = sum(1 for v in values if str(v) == code)
        rows.append({"level": label, "n": n, "pct": 100.0 * n / total if total else None})
    missing = sum(1 for v in values if not _known(v, missing_codes) or str(v) not in order)
    if missing:
        rows.append({"level": "Missing / not applicable", "n": missing,
                     "pct": 100.0 * missing / total if total else None})
    return rows


def _value(patient: Patient, row: Mapping[str, Any]) -> Any:
    raw = patient.values.get(row["field"])
    if raw in (None, "") and row.get("age_from"):
        year_field, date_field = row["age_from"]
        born, when = _number(patient.values.get(year_field)), patient.values.get(date_field)
        try:
            when_date = date.fromisoformat(str(when)[:10])
        except ValueError:
            return None
        if born is None:
            return None
        return when_date.year - born - (1 if when_date < date(when_date.year, 7, 1) else 0)
    return raw


def _by_level(cells: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Categorical cells re-shaped to one row per level with a cell per column."""
    order = [lv["level"] for lv in cells[-1]]  # the "All" column has every level
    empty = {"n": 0, "pct": 0.0}
    return [
        {"level": level,
         "cells": [next((lv for lv in col if lv["level"] == level), empty) for col in cells]}
        for level in order
    ]


def table_one(patients: Sequence[Patient], config: Mapping[str, Any], labels: Labels,
              field_labels: Mapping[str, str], missing_codes: set[str]) -> dict[str, Any]:
    """Baseline characteristics by the configured subgroup (stage): n (%) or median [IQR]."""
    spec = config.get("table1") or {}
    if not spec:
        return {}
    by = next(sg for sg in config["subgroups"] if sg["key"] == spec["by"])
    groups: dict[str, list[Patient]] = {name: [] for name in by.get("groups", {})}
    for p in patients:
        value = subgroup_value(p, by, labels, missing_codes)
        groups.setdefault(value or "Unknown", []).append(p)
    columns = [(name, members) for name, members in groups.items() if members or name != "Unknown"]
    columns.append(("All", list(patients)))
    rows = []
    for row in spec["rows"]:
        name = row["field"]
        cells = []
        for _label, members in columns:
            values = [_value(p, row) for p in members]
            if row["kind"] == "continuous":
                cells.append(_continuous(values))
            else:
                cells.append(_categorical(values, labels.get(name, {}), missing_codes))
        entry = {"field": name, "label": row.get("label") or field_labels.get(name, name),
                 "kind": row["kind"], "cells": cells}
        if row["kind"] != "continuous":
            entry["levels"] = _by_level(cells)
        rows.append(entry)
    return {"by": by["label"], "columns": [{"label": lbl, "n": len(m)} for lbl, m in columns],
            "rows": rows}
