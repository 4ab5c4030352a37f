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
    parts.extend(drug_sentences(results))
    parts.extend(competing_sentences(results))
    method = CI_NAMES.get(results.get("ci_method", "log-log"), results.get("ci_method"))
    parts.append(
        f"Kaplan-Meier estimates; 95% confidence intervals use the {method} transformation."
    )
    return " ".join(parts)


def _rate(rate: dict[str, Any]) -> str:
    if not rate.get("n"):
        return "not estimable (no evaluable line)"
    est = rate.get("estimate")
    return f"{100 * est:.0f}% ({ci(rate.get('ci'), percent=True)}; {rate['k']}/{rate['n']})"


def drug_sentences(results: dict[str, Any]) -> list[str]:
    """ORR, DCR and median PFS per setting and line (evaluable lines, exact CIs)."""
    rows = (results.get("drug_response") or {}).get("rows") or []
    if not rows:
        return []
    pfs = {p["label"]: p for p in (results.get("pfs_by_line") or {}).get("lines", [])}
    phrases = []
    for row in rows:
        if not row["orr"]["n"] and not (pfs.get(row["label"]) or {}).get("n"):
            continue  # e.g. adjuvant lines: no measurable disease, no response to report
        text = (
            f"{row['label'].lower()} (n = {row['n_lines']}): objective response "
            f"{_rate(row['orr'])}, disease control {_rate(row['dcr'])}"
        )
        if row["label"] in pfs and pfs[row["label"]].get("n"):
            text += f", median progression-free survival {median_phrase(pfs[row['label']])}"
        phrases.append(text)
    if not phrases:
        return []
    return [
        "Drug sensitivity, per line of systemic therapy (evaluable lines, exact 95% CIs): "
        + "; ".join(phrases)
        + "."
    ]


def competing_sentences(results: dict[str, Any]) -> list[str]:
    """5-year cumulative incidence of each first event, with 1 - KM where it differs at the
    printed precision (whole percent), and the Gray's tests with p < 0.05."""
    cr = results.get("competing_risks") or {}
    if not cr.get("n"):
        return []
    at = (cr.get("at") or {}).get("60") or {}
    naive = (cr.get("one_minus_km") or {}).get("60") or {}
    phrases, overstated = [], []
    for key, label in cr.get("causes", {}).items():
        value = at.get(key) or {}
        if value.get("estimate") is None:
            continue
        interval = ci(value.get("ci"), percent=True) if value["estimate"] else "no event"
        phrases.append(f"{label.lower()} {100 * value['estimate']:.0f}% ({interval})")
        km = naive.get(key)
        if km is not None and round(100 * km) != round(100 * value["estimate"]):
            overstated.append(f"{100 * km:.0f}% for {label.lower()}")
    if not phrases:
        return [
            f"Among the {cr['n']} localized, operated patients, follow-up was too short for "
            "5-year cumulative incidences."
        ]
    text = (
        f"Among the {cr['n']} localized, operated patients, the 5-year cumulative incidence "
        f"(Aalen-Johansen) was: {'; '.join(phrases)}."
    )
    if overstated:
        text += " 1 - Kaplan-Meier, censoring the competing events, would give " + (
            ", ".join(overstated) + "."
        )
    significant = [
        f"{test['label'].lower()} for {cr['causes'].get(k, k).lower()} (p = {t['p']:.3f})"
        for test in (cr.get("gray") or {}).values()
        for k, t in (test.get("tests") or {}).items()
        if t.get("p") is not None and t["p"] < 0.05
    ]
    if significant:
        text += " Gray's test: cumulative incidence differed by " + "; ".join(significant) + "."
    else:
        text += " No subgroup difference was significant at the 5% level by Gray's test."
    return [text]
