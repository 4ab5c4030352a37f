"""Reading snapshots for display: results under either CI method, figures, curve CSVs and the
difference between two snapshots."""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np
from django.core.cache import cache
from django.utils.translation import get_language, gettext, gettext_noop

from registry.csv_safety import writer as safe_writer

from .analysis_dataset import DatasetPending, read_analysis_dataset, record_hashes_of
from .details import dataset_from_snapshot
from .models import SnapshotDataset, SnapshotDetail, SnapshotPaper, StatisticsSnapshot
from .plots import render_km_figure
from .plots_cif import render_cif_figure
from .reproduction import reproduction
from .results import SUBGROUP_ENDPOINTS, build_results, fit_km, subgroup_curves
from .survival import CI_METHODS, KaplanMeierResult

CONTENT_TYPES = {"svg": "image/svg+xml", "png": "image/png", "pdf": "application/pdf"}
PAPER_KEYS = ("drug_response", "pfs_by_line", "competing_risks", "table1")
NOT_COMPUTED = "Not computed for this snapshot (made before these analyses existed)."
BEING_COMPUTED = gettext_noop(
    "Being computed: the headline figures of this dataset version are stored first, the "
    "paper's tables follow."
)
SUPERSEDED = gettext_noop("Not computed for this dataset version: a newer one superseded it.")
DATASET_BEING_COMPUTED = gettext_noop(
    "Being computed: the headline figures of this dataset version are stored first, its "
    "analysis dataset follows."
)
DATASET_SUPERSEDED = gettext_noop(
    "Not stored for this dataset version: a newer one superseded it before its analysis "
    "dataset was stored."
)


def paper_block(results: dict[str, Any], key: str, pending: str = "") -> dict[str, Any]:
    """One of the paper's further analyses from a snapshot's results, always with n and methods
    (a snapshot made before they existed says so rather than having no key). `pending`: why
    the paper's tables are not there yet (paper_pending), shown instead of them."""
    if pending:
        return {"n": 0, "methods": pending, "pending": True}
    block = dict(results.get(key) or {})
    block.setdefault("n", 0)
    block.setdefault("methods", NOT_COMPUTED)
    return block


def paper_for(snapshot: StatisticsSnapshot) -> dict[str, Any] | None:
    """The paper's tables of a snapshot: its SnapshotPaper, or the snapshot's own results for
    one stored when they were computed with it; None while they are being computed."""
    if any(key in snapshot.results for key in PAPER_KEYS):
        return {key: snapshot.results[key] for key in PAPER_KEYS if key in snapshot.results}
    return SnapshotPaper.objects.filter(snapshot=snapshot).values_list("results", flat=True).first()


def paper_pending(snapshot: StatisticsSnapshot, paper: dict[str, Any] | None) -> str:
    """Why the paper's tables are missing ('' when they are there)."""
    if paper is not None:
        return ""
    newer = StatisticsSnapshot.objects.filter(dataset_version__gt=snapshot.dataset_version)
    return gettext(SUPERSEDED) if newer.exists() else gettext(BEING_COMPUTED)


def with_paper(results: dict[str, Any], paper: dict[str, Any] | None) -> dict[str, Any]:
    return dict(results, **paper) if paper else results


def results_with_paper(snapshot: StatisticsSnapshot, ci: str) -> tuple[dict[str, Any], str]:
    """The snapshot's results with its paper's tables, and why those are missing ('' when they
    are there)."""
    paper = paper_for(snapshot)
    return with_paper(results_for(snapshot, ci), paper), paper_pending(snapshot, paper)


def dataset_pending(snapshot: StatisticsSnapshot) -> str:
    """Why the snapshot's records (hashes, analysis dataset) are missing ('' when stored)."""
    if SnapshotDataset.objects.filter(snapshot=snapshot).exists():
        return ""
    newer = StatisticsSnapshot.objects.filter(dataset_version__gt=snapshot.dataset_version)
    return gettext(DATASET_SUPERSEDED) if newer.exists() else gettext(DATASET_BEING_COMPUTED)


def stages_complete(snapshot: StatisticsSnapshot) -> bool:
    """Every later stage stored (records, details, paper's tables): the dashboard stops
    waiting."""
    return (
        details_for(snapshot) is not None
        and paper_for(snapshot) is not None
        and not dataset_pending(snapshot)
    )


def ci_method_from(value: str | None) -> str:
    return value if value in CI_METHODS else "log-log"


def km_from_dict(data: dict[str, Any]) -> KaplanMeierResult:
    return KaplanMeierResult(
        n=data["n"],
        events=data["events"],
        ci_method=data["ci_method"],
        alpha=data["alpha"],
        times=data["times"],
        n_risk=data["n_risk"],
        n_event=data["n_event"],
        n_censor=data["n_censor"],
        survival=data["survival"],
        std_err=data["std_err"],
        ci_lower=data["ci_lower"],
        ci_upper=data["ci_upper"],
        median=data["median"],
        median_ci=tuple(data["median_ci"]),
        survival_at={float(k): tuple(v) for k, v in data["survival_at"].items()},
        at_risk_table={float(k): v for k, v in data["at_risk_table"].items()},
    )


def _dataset(snapshot: StatisticsSnapshot) -> tuple[dict, dict]:
    key = f"analytics:dataset:{snapshot.pk}"
    hit = cache.get(key)
    if hit is None:
        hit = dataset_from_snapshot(snapshot)
        cache.set(key, hit, 600)
    return hit


def results_for(snapshot: StatisticsSnapshot, ci_method: str) -> dict[str, Any]:
    """The snapshot's results, re-run under another CI method if asked (cached; from the
    analysis dataset: DatasetPending until it is stored)."""
    if ci_method == snapshot.ci_method:
        return snapshot.results
    key = f"analytics:alt:{snapshot.pk}:{ci_method}"
    hit = cache.get(key)
    if hit is None:
        endpoints, groups = _dataset(snapshot)
        summaries, _ = build_results(
            endpoints, groups, snapshot.analysis_config, ci_method=ci_method
        )
        hit = dict(
            snapshot.results,
            ci_method=ci_method,
            endpoints=summaries["endpoints"],
            subgroups=summaries["subgroups"],
        )
        cache.set(key, hit, 3600)
    return hit


def reproduction_for(results: dict[str, Any]) -> dict[str, Any]:
    """The published figures beside these results (computed here for snapshots stored before
    the comparison was)."""
    return results.get("reproduction") or reproduction(results)


def details_for(snapshot: StatisticsSnapshot) -> dict[str, Any] | None:
    return (
        SnapshotDetail.objects.filter(snapshot=snapshot).values_list("results", flat=True).first()
    )


def curves_for(
    snapshot: StatisticsSnapshot, endpoint: str, subgroup: str, ci_method: str
) -> dict[str, Any]:
    """{group label: KM dict} for one endpoint (subgroup "all": the whole population): stored
    with the snapshot, its records (the endpoints not drawn at once) or its details, else
    computed from the snapshot's dataset (cached; DatasetPending until it is stored)."""
    if ci_method == snapshot.ci_method:
        path = f"curves__{endpoint}__{subgroup}"
        for model, pk_field in (
            (StatisticsSnapshot, "pk"),
            (SnapshotDataset, "snapshot"),
            (SnapshotDetail, "snapshot"),
        ):
            found = (
                model.objects.filter(**{pk_field: snapshot.pk}).values_list(path, flat=True).first()
            )
            if found:
                return found
    key = f"analytics:curves:{snapshot.pk}:{endpoint}:{subgroup}:{ci_method}"
    hit = cache.get(key)
    if hit is None:
        endpoints, groups = _dataset(snapshot)
        data = endpoints.get(endpoint)
        if data is None or not data.observations:
            return {}
        config = snapshot.analysis_config
        if subgroup == "all":
            times, event = (
                [o.time_months for o in data.observations],
                [o.event for o in data.observations],
            )
            km = fit_km(
                np.array(times),
                np.array(event, dtype=float),
                ci_method=ci_method,
                survival_times=config.get("survival_times", [12, 36, 60]),
            )
            hit = {"All": km}
        elif subgroup in groups:
            hit = subgroup_curves(data, groups[subgroup], config, ci_method)
        else:
            return {}
        cache.set(key, hit, 3600)
    return hit


def parse_figure_name(name: str, subgroups: list[str]) -> tuple[str, str] | None:
    """'os' -> ('os', 'all'); 'dfs_by_centre' -> ('dfs', 'centre')."""
    endpoint, _, subgroup = name.partition("_by_")
    if not subgroup:
        return (endpoint, "all")
    if endpoint in SUBGROUP_ENDPOINTS and subgroup in subgroups:
        return (endpoint, subgroup)
    return None


CIF_FIGURE = "cumulative_incidence"


def cif_figure_bytes(snapshot: StatisticsSnapshot, fmt: str) -> bytes | None:
    key = f"analytics:fig:{snapshot.pk}:{CIF_FIGURE}:{fmt}"
    hit = cache.get(key)
    if hit is None:
        curves = _stored_cif(snapshot)
        if not curves:
            return None
        hit = render_cif_figure(
            curves, title="Localized, operated: first event after surgery", format=fmt
        )
        cache.set(key, hit, 3600)
    return hit


def _stored_cif(snapshot: StatisticsSnapshot) -> dict[str, Any] | None:
    for model, pk_field in ((SnapshotPaper, "snapshot"), (StatisticsSnapshot, "pk")):
        found = (
            model.objects.filter(**{pk_field: snapshot.pk})
            .values_list("curves__competing_risks", flat=True)
            .first()
        )
        if found:
            return found
    return None


def figure_bytes(snapshot: StatisticsSnapshot, name: str, fmt: str, ci_method: str) -> bytes | None:
    if name == CIF_FIGURE:
        return cif_figure_bytes(snapshot, fmt) if fmt in CONTENT_TYPES else None
    subgroups = {sg["key"]: sg["label"] for sg in snapshot.analysis_config.get("subgroups", [])}
    parsed = parse_figure_name(name, list(subgroups))
    if parsed is None or fmt not in CONTENT_TYPES:
        return None
    key = f"analytics:fig:{snapshot.pk}:{name}:{fmt}:{ci_method}:{get_language()}"
    hit = cache.get(key)
    if hit is not None:
        return hit
    endpoint, subgroup = parsed
    curves = curves_for(snapshot, endpoint, subgroup, ci_method)
    if not curves:
        return None
    label = next(
        (ep["label"] for ep in snapshot.analysis_config["endpoints"] if ep["key"] == endpoint),
        endpoint,
    )
    title = (
        label
        if subgroup == "all"
        else gettext("%(endpoint)s, by %(subgroup)s")
        % {"endpoint": label, "subgroup": subgroups[subgroup].lower()}
    )
    pairs = [(f"{group} (n={km['n']})", km_from_dict(km)) for group, km in curves.items()]
    data = render_km_figure(pairs, title=title, format=fmt)
    cache.set(key, data, 3600)
    return data


def inline_svg(data: bytes) -> str:
    """SVG markup to put in the page (XML prolog and doctype removed), sized by its container:
    matplotlib writes a fixed width and height in points, which overflowed narrow columns; the
    viewBox it also writes keeps the aspect ratio once they are gone."""
    text = data.decode()
    text = text[text.index("<svg") :]
    end = text.index(">")
    tag = re.sub(r'\s(width|height)="[^"]*"', "", text[:end])
    return f'{tag} width="100%" style="height:auto;max-width:100%"{text[end:]}'


def curves_csv(snapshot: StatisticsSnapshot, ci_method: str) -> str:
    """Every curve (overall and by subgroup), one row per time point."""
    subgroups = [sg["key"] for sg in snapshot.analysis_config.get("subgroups", [])]
    text = io.StringIO()
    out = safe_writer(text, lineterminator="\n")
    out.writerow(
        [
            "endpoint",
            "subgroup",
            "group",
            "time_months",
            "n_risk",
            "n_event",
            "n_censor",
            "survival",
            "ci_lower",
            "ci_upper",
            "ci_method",
        ]
    )
    for endpoint in snapshot.results.get("endpoints", {}):
        wanted = ["all"] + (subgroups if endpoint in SUBGROUP_ENDPOINTS else [])
        for subgroup in wanted:
            for group, km in curves_for(snapshot, endpoint, subgroup, ci_method).items():
                for i, t in enumerate(km["times"]):
                    out.writerow(
                        [
                            endpoint,
                            subgroup,
                            group,
                            repr(t),
                            km["n_risk"][i],
                            km["n_event"][i],
                            km["n_censor"][i],
                            repr(km["survival"][i]),
                            _num(km["ci_lower"][i]),
                            _num(km["ci_upper"][i]),
                            km["ci_method"],
                        ]
                    )
    return text.getvalue()


def _num(value: float | None) -> str:
    return "NA" if value is None else repr(value)


def dataset_csv_text(snapshot: StatisticsSnapshot) -> str:
    rows = read_analysis_dataset(snapshot)
    text = io.StringIO()
    out = safe_writer(text, lineterminator="\n")
    out.writerow(list(rows[0]) if rows else ["record_id"])
    out.writerows(row.values() for row in rows)
    return text.getvalue()


HEADLINE = [
    ("os", "median"),
    ("dfs", "median"),
    ("followup", "median"),
    ("os_localized_operated", "median"),
    ("os_metastatic", "median"),
    ("os", "60"),
    ("os_localized_operated", "60"),
    ("dfs", "60"),
    ("os_localized", "60"),
]


def _figure(results: dict[str, Any], endpoint: str, what: str) -> Any:
    data = results.get("endpoints", {}).get(endpoint, {})
    if what == "median":
        return data.get("median")
    return ((data.get("survival_at") or {}).get(what) or {}).get("estimate")


def snapshot_diff(old: StatisticsSnapshot, new: StatisticsSnapshot) -> dict[str, Any]:
    """Records added / removed / changed and headline figures before and after; while either
    snapshot's records are not stored, `pending` says why instead of the records."""
    figures = []
    for endpoint, what in HEADLINE:
        a, b = _figure(old.results, endpoint, what), _figure(new.results, endpoint, what)
        label = "median (months)" if what == "median" else f"S({what} months)"
        figures.append(
            {"endpoint": endpoint, "what": label, "before": a, "after": b, "changed": a != b}
        )
    for key in ("n", "events"):
        for endpoint in new.results.get("endpoints", {}):
            a = old.results.get("endpoints", {}).get(endpoint, {}).get(key)
            b = new.results["endpoints"][endpoint].get(key)
            figures.append(
                {"endpoint": endpoint, "what": key, "before": a, "after": b, "changed": a != b}
            )
    try:
        before, after = record_hashes_of(old), record_hashes_of(new)
    except DatasetPending:
        return {"pending": dataset_pending(old) or dataset_pending(new), "figures": figures}
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": sorted(r for r in set(before) & set(after) if before[r] != after[r]),
        "figures": figures,
    }
