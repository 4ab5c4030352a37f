"""The published figures beside the registry's: each figure of the study's abstract (Cancer
Medicine, 17 July 2023), the population it refers to, the value a snapshot's results give and
whether the two agree at the precision the paper prints them. Pure: results dict in, rows out.

Readings of the abstract (the study summary in the repository's shared notes says the same):
"Twenty-two patients had localized disease and underwent surgery: with a median follow-up of 72
months, median DFS was 42 months. OS-rate at 5 years was 73% and median OS was 193 months"
describes those 22 patients; the 16.4 months the patients metastatic at diagnosis. "Intestine"
is the small intestine: the study names colon and rectum among the other GI sites.

Precision: counts must be equal; a median printed as 72 must round to 72 (half up), one printed
as 16.4 to 16.4; a rate printed as 73 % must round to 73 %. A missing value never matches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["PUBLISHED", "PublishedFigure", "reproduction"]

SOURCE = (
    "The rare entity of gastrointestinal leiomyosarcomas: an Italian multicenter retrospective "
    "study in high-volume referral centers. Cancer Medicine, 2023 (abstract)."
)
METHODS = (
    "Locked records only. Kaplan-Meier estimates with R survival's median rule; median "
    "follow-up by reverse Kaplan-Meier (censoring as the event); 5-year rate = S(60 months); "
    "months = days / 30.4375. Counts are patients with at least one matching form instance."
)
ALL, OPERATED, METASTATIC = "All patients", "Localized, operated", "Metastatic at diagnosis"
CHEMO = "(Neo)adjuvant chemotherapy"
PLACES = {"count": None, "month": "1", "tenth": "0.1", "percent": "1"}
COMPARED_AT = {
    "count": "exactly",
    "month": "to the month",
    "tenth": "to 0.1 month",
    "percent": "to the percent",
    "site": "most common level",
}
INTESTINE = {"Small bowel"}  # the dictionary's label for the small intestine

Results = Mapping[str, Any]


def _endpoint(results: Results, *keys: str) -> Mapping[str, Any]:
    """The first of the endpoints that the results have (older snapshots lack some)."""
    endpoints = results.get("endpoints") or {}
    return next((endpoints[k] for k in keys if k in endpoints), {})


def _count(key: str) -> Callable[[Results], Any]:
    return lambda r: ((r.get("counts") or {}).get(key) or {}).get("n")


def _count_of(key: str) -> Callable[[Results], Any]:
    def read(r: Results) -> Any:
        found = (r.get("counts") or {}).get(key)
        return None if not found else (found.get("n"), found.get("of"))

    return read


def _median(*keys: str) -> Callable[[Results], Any]:
    return lambda r: _endpoint(r, *keys).get("median")


def _five_year(r: Results) -> Any:
    at = (_endpoint(r, "os_localized_operated").get("survival_at") or {}).get("60") or {}
    estimate = at.get("estimate")
    return None if estimate is None else 100 * estimate


def _operated(r: Results) -> Any:
    return _endpoint(r, "os_localized_operated", "dfs").get("population")


def _most_common_site(r: Results) -> Any:
    """The single most common site of origin (None if two share the top)."""
    tally = {k: v for k, v in (r.get("site_of_origin") or {}).items() if k != "Unknown"}
    if not tally:
        return None
    top = max(tally.values())
    leaders = [site for site, n in tally.items() if n == top]
    return leaders[0] if len(leaders) == 1 else None


@dataclass(frozen=True)
class PublishedFigure:
    key: str
    figure: str
    population: str
    published: Any  # int, float, (n, of) or the site's name
    precision: str  # "count", "month", "tenth", "percent" or "site"
    read: Callable[[Results], Any]


PUBLISHED: tuple[PublishedFigure, ...] = (
    PublishedFigure("patients", "Patients", ALL, 33, "count", lambda r: r.get("n_patients")),
    PublishedFigure(
        "centres", "Referral centres", ALL, 6, "count", lambda r: len(r.get("centres") or {})
    ),
    PublishedFigure(
        "site", "Most common site of origin", ALL, "Intestine", "site", _most_common_site
    ),
    PublishedFigure("operated", "Localized disease, operated", ALL, 22, "count", _operated),
    PublishedFigure(
        "metastatic",
        "Metastatic disease at diagnosis",
        ALL,
        11,
        "count",
        lambda r: (r.get("stage") or {}).get("Metastatic"),
    ),
    PublishedFigure(
        "followup", "Median follow-up (months)", OPERATED, 72, "month", _median("followup")
    ),
    PublishedFigure(
        "dfs", "Median disease-free survival (months)", OPERATED, 42, "month", _median("dfs")
    ),
    PublishedFigure("os_5y", "5-year overall survival (%)", OPERATED, 73, "percent", _five_year),
    PublishedFigure(
        "os_median",
        "Median overall survival (months)",
        OPERATED,
        193,
        "month",
        _median("os_localized_operated"),
    ),
    PublishedFigure("local_relapse", "Local relapse", ALL, 10, "count", _count("local_relapse")),
    PublishedFigure(
        "salvage",
        "Salvage surgery after local relapse",
        ALL,
        5,
        "count",
        _count("salvage_surgery"),
    ),
    PublishedFigure(
        "ned_after_salvage",
        "No evidence of disease after salvage surgery",
        ALL,
        2,
        "count",
        _count("ned_after_salvage"),
    ),
    PublishedFigure(
        "neoadjuvant", "Neoadjuvant chemotherapy", ALL, 6, "count", _count("neoadjuvant")
    ),
    PublishedFigure("adjuvant", "Adjuvant chemotherapy", ALL, 7, "count", _count("adjuvant")),
    PublishedFigure(
        "relapse_free_after_chemotherapy",
        "Free from relapse after (neo)adjuvant chemotherapy",
        CHEMO,
        (2, 13),
        "count",
        _count_of("relapse_free_after_chemotherapy"),
    ),
    PublishedFigure(
        "os_metastatic",
        "Median overall survival, metastatic disease (months)",
        METASTATIC,
        16.4,
        "tenth",
        _median("os_metastatic"),
    ),
)


def _rounded(value: float, places: str) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def shown(value: Any, precision: str) -> str:
    """The registry's value as the paper would print it."""
    if value is None:
        return "—"
    if isinstance(value, tuple):
        return f"{value[0]} of {value[1]}"
    places = PLACES.get(precision)
    if places is None:
        return str(value)
    text = str(_rounded(value, places))
    return f"{text} %" if precision == "percent" else text


def matches(published: Any, value: Any, precision: str) -> bool:
    if value is None:
        return False
    if precision == "site":
        return value in INTESTINE if published == "Intestine" else value == published
    if precision == "count" or isinstance(published, tuple):
        return value == published
    places = PLACES[precision]
    return _rounded(value, places) == _rounded(published, places)


def reproduction(
    results: Results, published: tuple[PublishedFigure, ...] = PUBLISHED
) -> dict[str, Any]:
    """One snapshot's results beside the paper: {n, methods, source, all_match, rows: [{key,
    figure, population, published, registry, shown_in_registry, precision, compared_at,
    matches}]}; `registry` is the value at full precision (rates in percent)."""
    rows = []
    for fig in published:
        value = fig.read(results)
        rows.append(
            {
                "key": fig.key,
                "figure": fig.figure,
                "population": fig.population,
                "published": shown(fig.published, fig.precision),
                "registry": list(value) if isinstance(value, tuple) else value,
                "shown_in_registry": shown(value, fig.precision),
                "precision": fig.precision,
                "compared_at": COMPARED_AT[fig.precision],
                "matches": matches(fig.published, value, fig.precision),
            }
        )
    return {
        "n": results.get("n_patients", 0),
        "methods": METHODS,
        "source": SOURCE,
        "all_match": all(row["matches"] for row in rows),
        "rows": rows,
    }
