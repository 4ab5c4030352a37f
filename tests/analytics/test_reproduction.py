"""The reproduction panel: the published abstract's figures beside the registry's. On the
seeded demo every figure matches at the paper's precision (on the dashboard and in
summary.json); a value off by more than that precision, a missing value or a tie for the most
common site is reported as not matching."""

from __future__ import annotations

import copy

import pytest

from analytics.models import StatisticsSnapshot
from analytics.reproduction import PUBLISHED, matches, reproduction
from centers.models import User

MATCHING = {
    "n_patients": 33,
    "centres": {c: 1 for c in ("MIL", "BOL", "ROM", "TOR", "PAD", "NAP")},
    "stage": {"Localized": 22, "Metastatic": 11},
    "site_of_origin": {"Small bowel": 14, "Stomach": 7, "Colon": 6, "Rectum": 3},
    "endpoints": {
        "followup": {"median": 72.115},
        "dfs": {"median": 41.988, "population": 22},
        "os_localized_operated": {
            "median": 192.986,
            "population": 22,
            "survival_at": {"60": {"estimate": 0.7308}},
        },
        "os_metastatic": {"median": 16.394},
    },
    "counts": {
        "local_relapse": {"n": 10, "of": 33},
        "salvage_surgery": {"n": 5, "of": 33},
        "ned_after_salvage": {"n": 2, "of": 33},
        "neoadjuvant": {"n": 6, "of": 33},
        "adjuvant": {"n": 7, "of": 33},
        "relapse_free_after_chemotherapy": {"n": 2, "of": 13},
    },
}


def rows_by_key(table: dict) -> dict[str, dict]:
    return {row["key"]: row for row in table["rows"]}


def test_every_published_figure_has_a_row_and_the_matching_summary_matches():
    table = reproduction(MATCHING)
    assert [r["key"] for r in table["rows"]] == [f.key for f in PUBLISHED]
    assert table["all_match"], [r for r in table["rows"] if not r["matches"]]
    assert table["n"] == 33 and "reverse Kaplan-Meier" in table["methods"]
    rows = rows_by_key(table)
    assert rows["os_5y"]["shown_in_registry"] == "73 %"
    assert rows["os_metastatic"]["shown_in_registry"] == "16.4"
    assert rows["relapse_free_after_chemotherapy"]["shown_in_registry"] == "2 of 13"
    assert rows["os_median"]["population"] == "Localized, operated"


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        (("endpoints", "followup", "median"), 86.8, "followup"),  # today's demo before
        (("endpoints", "dfs", "median"), 42.5, "dfs"),  # rounds half up to 43
        (("endpoints", "os_localized_operated", "median"), None, "os_median"),  # not reached
        (("endpoints", "os_metastatic", "median"), 16.45, "os_metastatic"),
        (("endpoints", "os_metastatic", "median"), 31.9, "os_metastatic"),
        (("counts", "local_relapse", "n"), 9, "local_relapse"),
        (
            ("counts", "relapse_free_after_chemotherapy", "of"),
            11,
            "relapse_free_after_chemotherapy",
        ),
        (("n_patients",), 28, "patients"),
    ],
)
def test_a_mismatching_value_is_reported_as_not_matching(path, value, key):
    results = copy.deepcopy(MATCHING)
    target = results
    for name in path[:-1]:
        target = target[name]
    target[path[-1]] = value
    table = reproduction(results)
    assert not table["all_match"]
    assert [r["key"] for r in table["rows"] if not r["matches"]] == [key]


def test_a_five_year_rate_off_by_a_percent_and_a_tie_for_the_top_site_do_not_match():
    results = copy.deepcopy(MATCHING)
    results["endpoints"]["os_localized_operated"]["survival_at"]["60"]["estimate"] = 0.68
    results["site_of_origin"]["Stomach"] = 14
    rows = rows_by_key(reproduction(results))
    assert not rows["os_5y"]["matches"] and rows["os_5y"]["shown_in_registry"] == "68 %"
    assert not rows["site"]["matches"] and rows["site"]["shown_in_registry"] == "—"


def test_precision_is_the_papers():
    assert matches(72, 72.49, "month") and not matches(72, 72.5, "month")
    assert matches(16.4, 16.35, "tenth") and not matches(16.4, 16.3, "tenth")
    assert matches(73, 72.5, "percent") and not matches(73, 73.5, "percent")
    assert matches((2, 13), (2, 13), "count") and not matches((2, 13), (2, 11), "count")
    assert matches("Intestine", "Small bowel", "site") and not matches("Intestine", "Colon", "site")


@pytest.mark.django_db
def test_the_seeded_demo_reproduces_every_figure(
    dictionary, client, django_capture_on_commit_callbacks
):
    from registry.services.demo import seed_demo

    with django_capture_on_commit_callbacks(execute=True):
        seed_demo()
    snapshot = StatisticsSnapshot.objects.latest()
    table = snapshot.results["reproduction"]
    assert table["n"] == 33
    assert [r for r in table["rows"] if not r["matches"]] == []
    assert len(table["rows"]) == len(PUBLISHED)

    client.force_login(User.objects.get(username="pi"))
    summary = client.get("/analytics/summary.json").json()
    assert summary["reproduction"] == table
    assert summary["reproduction"]["methods"]
    html = client.get("/analytics/").content.decode()
    panel = html[
        html.index('id="reproduction"') : html.index("</table>", html.index('id="reproduction"'))
    ]
    assert panel.count("✓ yes") == len(PUBLISHED) and "✗ no" not in panel
    assert f"all {len(PUBLISHED)} figures match" in html
    for row in table["rows"]:
        assert row["figure"] in panel


def test_the_demo_cohort_has_no_ties_and_no_exclusions():
    """Distinct times in every endpoint: no median falls on a tie that would make it hinge on
    how ties are broken."""
    from analytics.config import resolve_config
    from analytics.endpoints import Patient, derive_endpoints
    from registry.demo import build_cohort

    patients = []
    for number, built in enumerate(p for p in build_cohort() if p.lock):
        values, instances = {}, {}
        for form, rows in built.forms.items():
            if form in ("systemic_therapy", "relapse"):
                instances[form] = rows
            else:
                for row in rows:
                    values.update(row)
        patients.append(Patient(f"R{number}", built.center, values, instances))
    assert len(patients) == 33
    for key, data in derive_endpoints(patients, resolve_config(None), []).items():
        times = [o.time_months for o in data.observations]
        assert not data.excluded, key
        assert len(times) == len(set(times)), key
