"""Issue 13's table from the latest bench/results/*.json: every row as a figure against the
limit measured in the same run, its goal, and whether it is met. `make bench` prints it last;
`python bench/summary.py` prints it again from the stored results."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _row(what: str, limit: str, figure: str, ratio: str, goal: str, met: bool | None) -> list:
    return [what, limit, figure, ratio, goal, "-" if met is None else ("yes" if met else "NO")]


def rows() -> list[list[str]]:
    out = []
    fs = _load("form_save")
    if fs:
        c, s = fs["ceiling_healthz"], fs["form_save"]
        rps, p95 = fs["form_save_rps_over_ceiling"], fs["form_save_p95_over_ceiling_p95"]
        out.append(
            _row(
                "form save, 16 clients",
                f"/healthz/ {c['rps']} req/s, p95 {c['p95_ms']} ms",
                f"{s['rps']} saves/s, p95 {s['p95_ms']} ms",
                f"{rps}x, p95 {p95}x",
                ">= 0.33x, p95 <= 3x",
                rps >= 0.33 and p95 <= 3,
            )
        )
        if "cpu_ms_per_request" in fs:
            cpu = fs["cpu_ms_per_request"]
            out.append(
                _row(
                    "form save, CPU a request costs Django + PostgreSQL + load generator",
                    f"/healthz/ {cpu['healthz']['total']} ms",
                    f"{cpu['form_save']['total']} ms",
                    f"{fs['form_save_cpu_ratio']}x",
                    ">= 0.33x",
                    fs["form_save_cpu_ratio"] >= 0.33,
                )
            )
    chain = _load("audit_chain")
    if chain:
        for n, ratio in chain["chain_over_no_lock"].items():
            best = max(r["saves_per_s"] for r in chain["results"]["chain"][n])
            free = max(r["saves_per_s"] for r in chain["results"]["no_lock"][n])
            out.append(
                _row(
                    f"saves straight to PostgreSQL, audit chain held to commit, {n} connections",
                    f"the same without the chain's lock: {free} saves/s",
                    f"{best} saves/s",
                    f"{ratio}x",
                    "(the chain's price; no goal)",
                    None,
                )
            )
    imp = _load("import")
    if imp and "scaling" in imp:
        small, large = imp["scaling"]["sizes"]
        a, b = imp[f"import_{small}"], imp[f"import_{large}"]
        ratio = imp["scaling"]["time_ratio"]
        out.append(
            _row(
                f"API import {small:,} / {large:,} new records",
                f"{small:,}: {a['seconds']} s",
                f"{large:,}: {b['seconds']} s",
                f"{ratio}x (linear {imp['scaling']['linear_would_be']}x)",
                f"<= {large / small * 1.2:g}x",
                ratio <= large / small * 1.2,
            )
        )
        worst = max(a["other_centre_save_max_ms"] or 0, b["other_centre_save_max_ms"] or 0)
        alone = imp["save_alone_ms"]["median"]
        out.append(
            _row(
                "another centre's save during the import",
                f"same save, no import: median {alone} ms",
                f"max {worst} ms (median {b['other_centre_save_median_ms']} ms)",
                f"{worst / alone:.1f}x",
                "max <= 1000 ms",
                worst <= 1000,
            )
        )
        if "worker_peak_rss_growth_mb" in b:
            per_record = b["worker_peak_rss_growth_mb"] * 1024 / large
            out.append(
                _row(
                    f"API import memory, {large:,} records in one call",
                    f"the call's body {b['request_body_mb']} MB",
                    f"worker +{b['worker_peak_rss_growth_mb']} MB ({per_record:.1f} KB a record)",
                    "-",
                    "flat (issue); here bounded: a body over "
                    "DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) is refused with a 413",
                    None,
                )
            )
    tool = _load("import_tool_wait")
    if tool and "runs" in tool:
        run = tool["runs"][-1]
        alone = run["save_alone_median_ms"]
        for step in ("preview", "import"):
            worst = run[f"{step}_other_centre_save_max_ms"]
            out.append(
                _row(
                    f"another centre's save while the web Data Import Tool's {step} of "
                    f"{run['records']:,} new records runs ({run[f'{step}_s']} s)",
                    f"same save, nothing running: median {alone} ms",
                    f"max {worst} ms (median {run[f'{step}_other_centre_save_median_ms']} ms)",
                    f"{worst / alone:.1f}x",
                    "max <= 1000 ms",
                    worst <= 1000,
                )
            )
    ex = _load(f"export_{10000}")
    if ex:
        copy, export = ex["copy"], ex["export"]
        out.append(
            _row(
                f"CSV export, {ex['records']:,} records",
                f"COPY {copy['seconds']} s",
                f"{export['seconds']} s, +{ex['export_rss_growth_mb_max']} MB",
                f"{ex['export_over_copy']}x",
                "<= 2x (issue), <= 3x (earlier goal); flat",
                ex["export_over_copy"] <= 2,
            )
        )
        bundle = ex.get("bundle")
        if bundle:
            csv_only = bundle["zip_csv_dictionary_r"]["rss_growth_mb"]
            at_cap = bundle.get("zip_with_sav_dta_at_cap", {})
            full = bundle["zip_with_sav_dta"]
            shown = "refused (cap)" if "refused" in full else f"+{full['rss_growth_mb']} MB"
            growth = max(at_cap.get("rss_growth_mb", 0), full["rss_growth_mb"])
            out.append(
                _row(
                    "zip with SPSS + Stata",
                    f"CSV-only zip +{csv_only} MB",
                    f"{ex['records']:,} records: {shown}; at the cap "
                    f"({at_cap.get('records', '?'):,} records): +{at_cap.get('rss_growth_mb')} MB",
                    f"+{growth} MB",
                    "<= +100 MB at any size",
                    growth <= 100,
                )
            )
    an = _load("analytics")
    for r in an["results"] if an else []:
        n = r["locked_records"]
        if n >= 10000:
            ratio = r["statistics_over_lifelines"]
            staged = "headline_and_paper_over_lifelines" in r
            out.append(
                _row(
                    f"worker statistics{', headline stage' if staged else ''}, {n:,} locked",
                    f"lifelines' own fits {r['lifelines_alone_ms']} ms",
                    f"{r['worker_statistics_ms']} ms",
                    f"{ratio}x",
                    "<= 3x",
                    ratio <= 3,
                )
            )
            if staged:
                both = r["headline_and_paper_over_lifelines"]
                out.append(
                    _row(
                        f"worker statistics, headline + paper-table stages, {n:,} locked",
                        f"lifelines' own fits {r['lifelines_alone_ms']} ms",
                        f"{r['worker_statistics_ms']} + {r['paper_stage_ms']} ms",
                        f"{max(both)}x",
                        "<= 3x",
                        max(both) <= 3,
                    )
                )
        if n >= 100000:
            worst = max(r["lock_to_dashboard_ms"])
            out.append(
                _row(
                    f"lock -> dashboard, {n:,} locked",
                    "-",
                    f"{r['lock_to_dashboard_ms']} ms",
                    "-",
                    "< 3000 ms",
                    worst < 3000,
                )
            )
    return out


def print_summary() -> None:
    header = ["what", "limit (same run)", "figure", "ratio", "goal", "met"]
    table = [header, *rows()]
    widths = [max(len(str(r[i])) for r in table) for i in range(len(header))]
    print("\n=== issue 13: figures against their limits")
    for r in table:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    print_summary()
