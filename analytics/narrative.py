"""The results paragraph, written in the style of the study's abstract, every number taken from
a snapshot's results. Pure: results dict in, text out."""

from __future__ import annotations

from typing import Any

CI_NAMES = {"log-log": "log-log", "log": "log (R's default)"}


def months(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.1f} months"


def ci(interval: list[float | None] | None, *, percent: bool = False) -> str:
    lo, hi = (interval or [None, None])[:2]

    def fmt(v: float | None) -> str:
        if v is None:
            return "NA"
        return f"{100 * v:.0f}%" if percent else f"{v:.1f}"

    return f"95% CI {fmt(lo)}-{fmt(hi)}"


def median_phrase(endpoint: dict[str, Any]) -> str:
    return (
        f"{months(endpoint.get('median'))} ({ci(endpoint.get('median_ci'))}; "
        f"n = {endpoint.get('n', 0)})"
    )


def rate_phrase(endpoint: dict[str, Any], key: str = "60") -> str:
    at = (endpoint.get("survival_at") or {}).get(key) or {}
    if at.get("estimate") is None:
        return f"not estimable (follow-up shorter than {key} months; n = {endpoint.get('n', 0)})"
    return (
        f"{100 * at['estimate']:.0f}% ({ci(at.get('ci'), percent=True)}; "
        f"n = {endpoint.get('n', 0)})"
    )


def _count(counts: dict[str, Any], key: str) -> int:
    return int((counts.get(key) or {}).get("n", 0))


def _survival_sentence(operated: dict[str, Any] | None, whole: dict[str, Any]) -> str:
    if operated is None:  # a snapshot computed before the localized, operated OS endpoint
        return (
            f"The 5-year overall survival rate was {rate_phrase(whole)} and median overall "
            f"survival was {median_phrase(whole)}."
        )
    return (
        f"Their 5-year overall survival rate was {rate_phrase(operated)} and median overall "
        f"survival was {median_phrase(operated)}. In the whole cohort, median overall survival "
        f"was {median_phrase(whole)}."
    )


def results_paragraph(results: dict[str, Any]) -> str:
    """A paragraph like the abstract's results, from one snapshot."""
    eps = results.get("endpoints", {})
    counts = results.get("counts", {})
    stage = results.get("stage", {})
    n = results.get("n_patients", 0)
    if not n:
        return "No locked records yet: there is nothing to report."
    os_, dfs, follow = eps.get("os", {}), eps.get("dfs", {}), eps.get("followup", {})
    metastatic = eps.get("os_metastatic", {})
    centres = len(results.get("centres", {}))
    parts = [
        f"{n} patients from {centres} centre{'s' if centres != 1 else ''} were analysed; "
        f"{stage.get('Localized', 0)} had localized disease at diagnosis, "
        f"{dfs.get('population', 0)} of whom were operated, and "
        f"{stage.get('Metastatic', 0)} had metastatic disease.",
        f"In the localized, operated patients, with a median follow-up of "
        f"{median_phrase(follow)}, median disease-free survival was {median_phrase(dfs)}.",
        _survival_sentence(eps.get("os_localized_operated"), os_),
        f"Local relapse occurred in {_count(counts, 'local_relapse')} patients; "
        f"{_count(counts, 'salvage_surgery')} of them underwent salvage surgery, "
        f"{_count(counts, 'ned_after_salvage')} with no evidence of disease afterwards.",
        f"{_count(counts, 'neoadjuvant')} patients received neoadjuvant and "
        f"{_count(counts, 'adjuvant')} adjuvant chemotherapy; "
        f"{_count(counts, 'relapse_free_after_chemotherapy')} of "
        f"{_count(counts, 'perioperative_chemotherapy')} remained free from relapse.",
        f"In metastatic disease at diagnosis, median overall survival was "
        f"{median_phrase(metastatic)}.",
    ]
    method = CI_NAMES.get(results.get("ci_method", "log-log"), results.get("ci_method"))
    parts.append(
        f"Kaplan-Meier estimates; 95% confidence intervals use the {method} transformation."
    )
    return " ".join(parts)
