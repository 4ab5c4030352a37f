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
    parts.extend(drug_sentences(results))
    parts.extend(competing_sentences(results))
    parts.append(
        gettext(
            "Kaplan-Meier estimates; 95%% confidence intervals use the %(method)s transformation."
        )
        % {"method": ci_name(results.get("ci_method", "log-log"))}
    )
    return " ".join(parts)


def _rate(rate: dict[str, Any]) -> str:
    if not rate.get("n"):
        return gettext("not estimable (no evaluable line)")
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
        text = gettext(
            "%(line)s (n = %(n)s): objective response %(orr)s, disease control %(dcr)s"
        ) % {
            "line": row["label"].lower(),
            "n": row["n_lines"],
            "orr": _rate(row["orr"]),
            "dcr": _rate(row["dcr"]),
        }
        if row["label"] in pfs and pfs[row["label"]].get("n"):
            text += gettext(", median progression-free survival %(pfs)s") % {
                "pfs": median_phrase(pfs[row["label"]])
            }
        phrases.append(text)
    if not phrases:
        return []
    return [
        gettext(
            "Drug sensitivity, per line of systemic therapy (evaluable lines, exact 95%% CIs): "
            "%(lines)s."
        )
        % {"lines": "; ".join(phrases)}
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
        interval = ci(value.get("ci"), percent=True) if value["estimate"] else gettext("no event")
        phrases.append(f"{label.lower()} {100 * value['estimate']:.0f}% ({interval})")
        km = naive.get(key)
        if km is not None and round(100 * km) != round(100 * value["estimate"]):
            overstated.append(
                gettext("%(pct)s for %(cause)s")
                % {"pct": f"{100 * km:.0f}%", "cause": label.lower()}
            )
    if not phrases:
        return [
            gettext(
                "Among the %(n)s localized, operated patients, follow-up was too short for "
                "5-year cumulative incidences."
            )
            % {"n": cr["n"]}
        ]
    text = gettext(
        "Among the %(n)s localized, operated patients, the 5-year cumulative incidence "
        "(Aalen-Johansen) was: %(incidences)s."
    ) % {"n": cr["n"], "incidences": "; ".join(phrases)}
    if overstated:
        text += " " + gettext(
            "1 - Kaplan-Meier, censoring the competing events, would give %(values)s."
        ) % {"values": ", ".join(overstated)}
    significant = [
        gettext("%(test)s for %(cause)s (p = %(p)s)")
        % {
            "test": test["label"].lower(),
            "cause": cr["causes"].get(k, k).lower(),
            "p": f"{t['p']:.3f}",
        }
        for test in (cr.get("gray") or {}).values()
        for k, t in (test.get("tests") or {}).items()
        if t.get("p") is not None and t["p"] < 0.05
    ]
    if significant:
        text += " " + gettext("Gray's test: cumulative incidence differed by %(tests)s.") % {
            "tests": "; ".join(significant)
        }
    else:
        text += " " + gettext(
            "No subgroup difference was significant at the %(level)s level by Gray's test."
        ) % {"level": "5%"}
    return [text]
