"""Table 1 (baseline characteristics by stage) with p-values, and its downloadable forms.
Pure: the per-patient values and the aggregated table (analytics.cohort) in, data and text out.

Conventions:

* The comparison is between the first two columns of the "by" subgroup (Localized vs
  Metastatic); patients of unknown stage are in the "All" column only.
* Categorical rows: Fisher's exact test (R ``fisher.test``, two-sided) on the levels x stage
  table of known values; "Missing / not applicable" is not a level of the test (R's
  ``table()`` drops ``NA``).  Continuous rows: Wilcoxon rank-sum (R ``wilcox.test``, exact or
  normal with continuity correction by R's rule; see :mod:`analytics.exact_tests`).
* No p-value (``None``, shown "NA") where R would stop: a row with known values in only one
  group, or (Fisher) fewer than two levels, or (Wilcoxon) no spread.
* Percentages are of the column's patients, missing included (the row "Missing / not
  applicable" shows them).  Medians and quartiles: R's ``quantile`` type 7.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from registry.csv_safety import writer as safe_writer

from .exact_tests import fisher_exact, wilcoxon_rank_sum

__all__ = ["FOOTNOTE", "add_tests", "display_rows", "table1_csv"]

FOOTNOTE = (
    "p: Fisher's exact test (two-sided) for categorical characteristics, missing values "
    "excluded; Wilcoxon rank-sum test (two-sided; exact for fewer than 50 patients per group "
    "without ties, otherwise normal approximation with continuity correction) for continuous "
    "characteristics. Continuous: median [interquartile range]. Categorical: n (%)."
)
TESTS = {"categorical": "Fisher's exact", "continuous": "Wilcoxon rank-sum"}


def _test(kind: str, first: list[Any], second: list[Any]) -> dict[str, Any]:
    if kind == "continuous":
        a = [v for v in first if v is not None]
        b = [v for v in second if v is not None]
        if not a or not b:
            return {"test": TESTS[kind], "p": None, "note": "values in one group only"}
        result = wilcoxon_rank_sum(a, b)
        note = "exact" if result.exact else "normal approximation"
        return {"test": TESTS[kind], "p": result.p, "statistic": result.statistic, "note": note}
    levels = sorted({v for v in first + second if v is not None})
    counts = [[first.count(lv), second.count(lv)] for lv in levels]
    if len(levels) < 2 or not any(r[0] for r in counts) or not any(r[1] for r in counts):
        return {"test": TESTS[kind], "p": None, "note": "fewer than two levels or groups"}
    try:
        return {"test": TESTS[kind], "p": fisher_exact(counts), "note": ""}
    except ValueError as exc:
        return {"test": TESTS[kind], "p": None, "note": str(exc)}


def add_tests(
    table: dict[str, Any], values: Sequence[tuple[str, tuple[Any, ...]]], groups: Sequence[str]
) -> dict[str, Any]:
    """The aggregated Table 1 with ``p``, ``test`` and ``note`` on each row, ``methods`` and
    ``compared`` on the table.  ``groups``: the two column labels compared."""
    if not table or len(groups) < 2:
        return table
    first = [v for column, v in values if column == groups[0]]
    second = [v for column, v in values if column == groups[1]]
    for index, row in enumerate(table["rows"]):
        row.update(_test(row["kind"], [v[index] for v in first], [v[index] for v in second]))
    table["compared"] = list(groups[:2])
    table["methods"] = FOOTNOTE
    table["n"] = len(values)
    return table


def _num(v: float | None, digits: int = 1) -> str:
    return "NA" if v is None else f"{v:.{digits}f}"


def _p(p: float | None) -> str:
    if p is None:
        return "NA"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def display_rows(table: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows as printed: {label, cells: [text], p: text, indent: bool, header: bool}."""
    out = []
    for row in table.get("rows", []):
        p = _p(row.get("p"))
        if row["kind"] == "continuous":
            cells = []
            for c in row["cells"]:
                text = f"{_num(c['median'])} [{_num(c['q1'])}-{_num(c['q3'])}]" if c["n"] else "NA"
                cells.append(text + (f" ({c['missing']} missing)" if c["missing"] else ""))
            label = f"{row['label']}, median [IQR]"
            out.append({"label": label, "cells": cells, "p": p, "indent": False, "header": False})
            continue
        blank = [""] * len(row["cells"])
        label = f"{row['label']}, n (%)"
        out.append({"label": label, "cells": blank, "p": p, "indent": False, "header": True})
        for level in row["levels"]:
            cells = [f"{c['n']} ({_num(c['pct'])}%)" for c in level["cells"]]
            out.append(
                {"label": level["level"], "cells": cells, "p": "", "indent": True, "header": False}
            )
    return out


def table1_csv(table: Mapping[str, Any]) -> str:
    """Table 1 as CSV (every cell through registry.csv_safety), footnote in the last row."""
    text = io.StringIO()
    out = safe_writer(text, lineterminator="\n")
    columns = [f"{c['label']} (n = {c['n']})" for c in table.get("columns", [])]
    out.writerow(["Characteristic", *columns, "p"])
    for row in display_rows(table):
        label = ("  " if row["indent"] else "") + row["label"]
        out.writerow([label, *row["cells"], row["p"]])
    out.writerow([])
    out.writerow([table.get("methods", FOOTNOTE)])
    return text.getvalue()
