"""Describing the cohort from the analysis configuration: subgroup membership, patient counts
(relapses, salvage surgery, chemotherapy) and Table 1 (baseline characteristics by stage).
Pure functions over analytics.endpoints.Patient."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from itertools import chain
from typing import Any

import numpy as np

from .endpoints import Patient
from .table1 import add_tests

Labels = Mapping[str, Mapping[str, str]]  # field -> {code: label}


def _known(raw: Any, missing_codes: set[str]) -> bool:
    return raw not in (None, "", []) and not (isinstance(raw, str) and raw in missing_codes)


def subgroup_value(
    patient: Patient, subgroup: Mapping[str, Any], labels: Labels, missing_codes: set[str]
) -> str | None:
    """The patient's group in one subgroup variable (None: unknown, left out of comparisons)."""
    if subgroup.get("centre"):
        return patient.centre
    if "instrument" in subgroup:
        settings = {
            str(inst.get(subgroup["field"]))
            for inst in patient.instances.get(subgroup["instrument"], [])
        }
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


def subgroup_values(
    patients: Sequence[Patient], config: Mapping[str, Any], labels: Labels, missing_codes: set[str]
) -> dict[str, dict[str, str | None]]:
    """{subgroup key: {record_id: group}}."""
    return {
        sg["key"]: {p.record_id: subgroup_value(p, sg, labels, missing_codes) for p in patients}
        for sg in config.get("subgroups", [])
    }


def _matches(values: Mapping[str, Any], where: Mapping[str, list[str]]) -> bool:
    return all(str(values.get(name)) in codes for name, codes in where.items())


def _has_instance(patient: Patient, spec: Mapping[str, Any]) -> bool:
    return any(
        _matches(inst, spec.get("where", {}))
        for inst in patient.instances.get(spec["instrument"], [])
    )


def count_membership(patient: Patient, config: Mapping[str, Any]) -> frozenset[str]:
    """The count keys this patient is in (see patient_counts)."""
    member: set[str] = set()
    for count in config.get("counts", []):
        if "of" in count:
            if count["of"] in member and not _has_instance(patient, count["without"]):
                member.add(count["key"])
        elif _has_instance(patient, count):
            member.add(count["key"])
    return frozenset(member)


def aggregate_counts(
    memberships: Sequence[frozenset[str]], config: Mapping[str, Any]
) -> dict[str, dict]:
    return count_results(Counter(chain.from_iterable(memberships)), len(memberships), config)


def count_results(
    totals: Mapping[str, int], n_patients: int, config: Mapping[str, Any]
) -> dict[str, dict]:
    """aggregate_counts from the records per count (totals) and the number of records."""
    result: dict[str, dict] = {}
    for count in config.get("counts", []):
        of = totals.get(count["of"], 0) if "of" in count else n_patients
        result[count["key"]] = {"label": count["label"], "n": totals.get(count["key"], 0), "of": of}
    return result


def patient_counts(patients: Sequence[Patient], config: Mapping[str, Any]) -> dict[str, dict]:
    """{count key: {label, n, of}}: patients with a matching instance (or, for "of" counts,
    patients of another count with no matching instance of the "without" instrument)."""
    return aggregate_counts([count_membership(p, config) for p in patients], config)


def _number(raw: Any) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _continuous(values: list[Any]) -> dict[str, Any]:
    numbers = [v for v in values if v is not None]  # normalised by table_one_values
    if not numbers:
        return {"n": 0, "median": None, "q1": None, "q3": None, "missing": len(values)}
    q1, median, q3 = np.percentile(numbers, [25, 50, 75])  # R's quantile type 7
    return {
        "n": len(numbers),
        "median": float(median),
        "q1": float(q1),
        "q3": float(q3),
        "missing": len(values) - len(numbers),
    }


def _categorical(
    values: list[Any], order: Mapping[str, str], missing_codes: set[str]
) -> list[dict[str, Any]]:
    total = len(values)
    tally = Counter(values)  # normalised by table_one_values: code string or None
    rows = []
    for code, label in order.items():
        n = tally.get(code, 0)
        rows.append({"level": label, "n": n, "pct": 100.0 * n / total if total else None})
    missing = total - sum(tally.get(code, 0) for code in order)
    if missing:
        rows.append(
            {
                "level": "Missing / not applicable",
                "n": missing,
                "pct": 100.0 * missing / total if total else None,
            }
        )
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
        {
            "level": level,
            "cells": [next((lv for lv in col if lv["level"] == level), empty) for col in cells],
        }
        for level in order
    ]


def table_one_values(
    patient: Patient, config: Mapping[str, Any], labels: Labels, missing_codes: set[str]
) -> tuple[str, tuple[Any, ...]]:
    """(column, row values) of one patient for Table 1."""
    spec = config.get("table1") or {}
    if not spec:
        return ("", ())
    by = next(sg for sg in config["subgroups"] if sg["key"] == spec["by"])
    column = subgroup_value(patient, by, labels, missing_codes) or "Unknown"
    values = []
    for row in spec["rows"]:
        raw = _value(patient, row)
        if row["kind"] == "continuous":
            values.append(_number(raw))
        else:
            values.append(str(raw) if _known(raw, missing_codes) else None)
    return (column, tuple(values))


def aggregate_table_one(
    values: Sequence[tuple[str, tuple[Any, ...]]],
    config: Mapping[str, Any],
    labels: Labels,
    field_labels: Mapping[str, str],
    missing_codes: set[str],
) -> dict[str, Any]:
    """Baseline characteristics by the configured subgroup (stage): n (%) or median [IQR]."""
    spec = config.get("table1") or {}
    if not spec:
        return {}
    by = next(sg for sg in config["subgroups"] if sg["key"] == spec["by"])
    groups: dict[str, list[tuple[Any, ...]]] = {name: [] for name in by.get("groups", {})}
    for column, row_values in values:
        groups.setdefault(column, []).append(row_values)
    columns = [(name, members) for name, members in groups.items() if members or name != "Unknown"]
    columns.append(("All", [v for _, v in values]))
    rows = []
    for index, row in enumerate(spec["rows"]):
        name = row["field"]
        cells = []
        for _label, members in columns:
            column_values = [m[index] for m in members]
            if row["kind"] == "continuous":
                cells.append(_continuous(column_values))
            else:
                cells.append(_categorical(column_values, labels.get(name, {}), missing_codes))
        entry = {
            "field": name,
            "label": row.get("label") or field_labels.get(name, name),
            "kind": row["kind"],
            "cells": cells,
        }
        if row["kind"] != "continuous":
            entry["levels"] = _by_level(cells)
        rows.append(entry)
    table = {
        "by": by["label"],
        "columns": [{"label": lbl, "n": len(m)} for lbl, m in columns],
        "rows": rows,
    }
    return add_tests(table, values, list(by.get("groups", {}))[:2])


def table_one(
    patients: Sequence[Patient],
    config: Mapping[str, Any],
    labels: Labels,
    field_labels: Mapping[str, str],
    missing_codes: set[str],
) -> dict[str, Any]:
    values = [table_one_values(p, config, labels, missing_codes) for p in patients]
    return aggregate_table_one(values, config, labels, field_labels, missing_codes)
