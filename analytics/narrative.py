"""The results paragraph, written in the style of the study's abstract, every number taken from
a snapshot's results. Pure: results dict in, text out, in the active language (English by
default; the sentences are in the translation catalogue)."""

from __future__ import annotations

from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext


def ci_name(method: str) -> str:
    return gettext("log (R's default)") if method == "log" else method


def months(value: float | None) -> str:
    if value is None:
        return gettext("not reached")
    return gettext("%(value)s months") % {"value": _localized(value)}


def _localized(value: float) -> str:
    """One decimal, rounded as Python rounds, with the language's decimal separator."""
    return number_format(f"{value:.1f}", decimal_pos=1)


def ci(interval: list[float | None] | None, *, percent: bool = False) -> str:
    lo, hi = (interval or [None, None])[:2]

    def fmt(v: float | None) -> str:
        if v is None:
            return "NA"
        return f"{100 * v:.0f}%" if percent else _localized(v)

    return gettext("95%% CI %(low)s-%(high)s") % {"low": fmt(lo), "high": fmt(hi)}


def median_phrase(endpoint: dict[str, Any]) -> str:
    return (
        f"{months(endpoint.get('median'))} ({ci(endpoint.get('median_ci'))}; "
        f"n = {endpoint.get('n', 0)})"
    )


def rate_phrase(endpoint: dict[str, Any], key: str = "60") -> str:
    at = (endpoint.get("survival_at") or {}).get(key) or {}
    if at.get("estimate") is None:
        return gettext("not estimable (follow-up shorter than %(months)s months; n = %(n)s)") % {
            "months": key,
            "n": endpoint.get("n", 0),
        }
    return (
        f"{100 * at['estimate']:.0f}% ({ci(at.get('ci'), percent=True)}; "
        f"n = {endpoint.get('n', 0)})"
    )


def _survival_sentence(operated: dict[str, Any] | None, whole: dict[str, Any]) -> str:
    if operated is None:  # a snapshot computed before the localized, operated OS endpoint
        return gettext(
            "The 5-year overall survival rate was %(rate)s and median overall survival was "
            "%(median)s."
        ) % {"rate": rate_phrase(whole), "median": median_phrase(whole)}
    return gettext(
        "Their 5-year overall survival rate was %(rate)s and median overall survival was "
        "%(median)s. In the whole cohort, median overall survival was %(whole)s."
    ) % {
        "rate": rate_phrase(operated),
        "median": median_phrase(operated),
        "whole": median_phrase(whole),
    }


def _count(counts: dict[str, Any], key: str) -> int:
    return int((counts.get(key) or {}).get("n", 0))


def results_paragraph(results: dict[str, Any]) -> str:
    """A paragraph like the abstract's results, from one snapshot."""
    eps = results.get("endpoints", {})
    counts = results.get("counts", {})
    stage = results.get("stage", {})
    n = results.get("n_patients", 0)
    if not n:
        return gettext("No locked records yet: there is nothing to report.")
    os_, dfs, follow = eps.get("os", {}), eps.get("dfs", {}), eps.get("followup", {})
    metastatic = eps.get("os_metastatic", {})
    centres = len(results.get("centres", {}))
    parts = [
        ngettext(
            "%(n)s patients from %(centres)s centre were analysed; %(localized)s had localized "
            "disease at diagnosis, %(operated)s of whom were operated, and %(metastatic)s had "
            "metastatic disease.",
            "%(n)s patients from %(centres)s centres were analysed; %(localized)s had localized "
            "disease at diagnosis, %(operated)s of whom were operated, and %(metastatic)s had "
            "metastatic disease.",
            centres,
        )
        % {
            "n": n,
            "centres": centres,
            "localized": stage.get("Localized", 0),
            "operated": dfs.get("population", 0),
            "metastatic": stage.get("Metastatic", 0),
        },
        gettext(
            "In the localized, operated patients, with a median follow-up of %(follow)s, median "
            "disease-free survival was %(dfs)s."
        )
        % {"follow": median_phrase(follow), "dfs": median_phrase(dfs)},
        _survival_sentence(eps.get("os_localized_operated"), os_),
        gettext(
            "Local relapse occurred in %(relapse)s patients; %(salvage)s of them underwent "
            "salvage surgery, %(ned)s with no evidence of disease afterwards."
        )
        % {
            "relapse": _count(counts, "local_relapse"),
            "salvage": _count(counts, "salvage_surgery"),
            "ned": _count(counts, "ned_after_salvage"),
        },
        gettext(
            "%(neo)s patients received neoadjuvant and %(adj)s adjuvant chemotherapy; "
            "%(free)s of %(peri)s remained free from relapse."
        )
        % {
            "neo": _count(counts, "neoadjuvant"),
            "adj": _count(counts, "adjuvant"),
            "free": _count(counts, "relapse_free_after_chemotherapy"),
            "peri": _count(counts, "perioperative_chemotherapy"),
        },
        gettext("In metastatic disease at diagnosis, median overall survival was %(median)s.")
        % {"median": median_phrase(metastatic)},
    ]
    parts.append(
        gettext(
            "Kaplan-Meier estimates; 95%% confidence intervals use the %(method)s transformation."
        )
        % {"method": ci_name(results.get("ci_method", "log-log"))}
    )
    return " ".join(parts)
