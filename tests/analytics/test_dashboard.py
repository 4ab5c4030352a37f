"""The PI's dashboard, the machine-readable results and who may see them."""

from __future__ import annotations

import csv
import hashlib
import io

import pytest

from analytics.models import StatisticsSnapshot
from analytics.narrative import results_paragraph
from analytics.presentation import paper_for, with_paper
from analytics.tasks import recompute_statistics
from centers.tokens import issue_api_token
from registry.models import AuditEvent, LockOutbox, Record
from registry.services.locking import unlock_record
from tests.analytics.conftest import DEAD, case

POOLED_URLS = [
    "/analytics/",
    "/analytics/summary.json",
    "/analytics/curves.csv",
    "/analytics/analysis-dataset.csv",
    "/analytics/history/",
    "/analytics/freshness/",
]


@pytest.fixture
def snapshot(make_records, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_records(3)
        make_records(2, data=DEAD)
        make_records(2, centre="BOL", data=case(last_contact_date="2014-01-01"))
        make_records(1, centre="BOL", data=case(last_contact_date="UNK"))
    return StatisticsSnapshot.objects.latest()


def figure_url(snapshot, name, fmt):
    return f"/analytics/figures/v{snapshot.dataset_version}/{name}.{fmt}"


@pytest.mark.parametrize("role", ["pi", "dm", "monitor"])
def test_study_roles_see_the_pooled_dashboard(client, people, snapshot, role):
    client.force_login(people[role])
    response = client.get("/analytics/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"As of dataset version {snapshot.dataset_version}" in html
    assert "log-log</strong> transformation" in html
    results = with_paper(snapshot.results, paper_for(snapshot))
    assert results_paragraph(results) in html.replace("&#x27;", "'")
    assert 'id="table1"' in html and 'id="headline-figures"' in html
    assert 'hx-trigger="every 5s"' in html


@pytest.mark.parametrize("who", ["coord_mil", "inv_mil", "coord_bol"])
def test_site_staff_are_denied_the_pooled_results(client, people, snapshot, who):
    client.force_login(people[who])
    for url in [*POOLED_URLS, figure_url(snapshot, "os", "svg")]:
        assert client.get(url).status_code == 403, url


def test_site_staff_see_only_their_centres_progress(client, people, snapshot):
    client.force_login(people["coord_mil"])
    html = client.get("/analytics/progress/").content.decode()
    assert "MIL" in html and "BOL" not in html
    client.force_login(people["pi"])
    html = client.get("/analytics/progress/?fragment=1").content.decode()
    assert "MIL" in html and "BOL" in html


def test_progress_counts(people, snapshot, make_records, client):
    make_records(1, lock=False)
    client.force_login(people["pi"])
    response = client.get("/analytics/progress/?fragment=1")
    rows = {r["code"]: r for r in response.context["rows"]}
    assert (rows["MIL"]["entered"], rows["MIL"]["complete"], rows["MIL"]["locked"]) == (6, 6, 5)
    assert (rows["BOL"]["entered"], rows["BOL"]["locked"], rows["BOL"]["open_queries"]) == (3, 3, 0)


def test_anonymous_is_sent_to_log_in_or_told_401(client, snapshot):
    assert client.get("/analytics/").status_code == 302
    response = client.get("/analytics/summary.json")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"


def test_summary_json_content(client, people, snapshot):
    client.force_login(people["pi"])
    data = client.get("/analytics/summary.json").json()
    assert data["dataset_version"] == snapshot.dataset_version
    assert data["ci_method"] == "log-log"
    assert data["computed_at"].startswith(snapshot.computed_at.date().isoformat())
    assert set(data["endpoints"]) == {
        "os",
        "dfs",
        "os_localized",
        "os_localized_operated",
        "os_metastatic",
        "followup",
    }
    os_ = data["endpoints"]["os"]
    assert set(os_) == {"n", "events", "median", "median_ci", "survival_at", "excluded"}
    assert (os_["n"], os_["events"]) == (7, 2)
    assert os_["median"] is None  # not reached: R's NA
    assert set(os_["survival_at"]) == {"12", "36", "60"}
    assert set(os_["survival_at"]["12"]) == {"estimate", "ci"}
    assert os_["survival_at"]["12"]["estimate"] == 1.0
    assert os_["excluded"] == [
        {"record": "BOL-0003", "reason": "last_contact_date is UNK (missing-data code)"}
    ]
    assert data["endpoints"]["os_metastatic"]["n"] == 0
    assert data["logrank"]["os_by_centre"]["df"] == 1
    assert set(data["logrank"]["os_by_centre"]) == {"chisq", "df", "p"}
    assert data["logrank"]["os_by_centre"]["p"] == pytest.approx(
        snapshot.results["logrank"]["os_by_centre"]["p"]
    )


def test_summary_json_offers_r_default_ci(client, people, snapshot):
    client.force_login(people["dm"])
    loglog = client.get("/analytics/summary.json").json()["endpoints"]["os"]
    log = client.get("/analytics/summary.json?ci=log").json()
    assert log["ci_method"] == "log"
    at36 = log["endpoints"]["os"]["survival_at"]["60"]
    assert at36["estimate"] == loglog["survival_at"]["60"]["estimate"]
    assert at36["ci"] != loglog["survival_at"]["60"]["ci"]
    assert at36["ci"][1] == 1.0  # log CI is capped at 1, as R's survfit does


def test_api_token_reads_summary(client, people, snapshot):
    token = issue_api_token(user=people["pi"])
    response = client.get("/analytics/summary.json", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert response.json()["dataset_version"] == snapshot.dataset_version
    site_token = issue_api_token(user=people["coord_mil"])
    assert (
        client.get("/analytics/summary.json", HTTP_AUTHORIZATION=f"Token {site_token}").status_code
        == 403
    )
    unknown = client.get("/analytics/summary.json", HTTP_AUTHORIZATION="Token " + "0" * 32)
    assert unknown.status_code == 401 and unknown["WWW-Authenticate"] == "Token"
    csv_response = client.get(
        "/analytics/analysis-dataset.csv", HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert csv_response.status_code == 200
    downloads = AuditEvent.objects.filter(action="results_export").order_by("seq")
    assert [(e.actor_name, e.details["what"], e.details["via_token"]) for e in downloads] == [
        (people["pi"].full_name, "summary.json", True),
        (people["pi"].full_name, "analysis-dataset.csv", True),
    ]
    assert downloads.last().details["sha256"] == hashlib.sha256(csv_response.content).hexdigest()


def test_analysis_dataset_and_curves_csv(client, people, snapshot):
    client.force_login(people["pi"])
    text = client.get("/analytics/analysis-dataset.csv").content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "record_id",
        "centre",
        "endpoint",
        "time_months",
        "event",
        "stage",
        "site_of_origin",
        "chemotherapy",
    ]
    os_rows = [r for r in rows if r["endpoint"] == "os"]
    assert len(os_rows) == 7 and "BOL-0003" not in {r["record_id"] for r in os_rows}
    assert sum(int(r["event"]) for r in os_rows) == 2
    curves = list(csv.DictReader(io.StringIO(client.get("/analytics/curves.csv").content.decode())))
    os_curve = [r for r in curves if r["endpoint"] == "os" and r["subgroup"] == "all"]
    assert [float(r["time_months"]) for r in os_curve] == snapshot.curves["os"]["all"]["All"][
        "times"
    ]
    assert {r["ci_method"] for r in curves} == {"log-log"}


def test_figures_download_in_three_formats_and_inline(client, people, snapshot):
    client.force_login(people["monitor"])
    svg = client.get(figure_url(snapshot, "os_by_stage", "svg"))
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert b"Number at risk" in svg.content or b"at risk" in svg.content
    assert client.get(figure_url(snapshot, "os", "png")).content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(figure_url(snapshot, "dfs", "pdf") + "?ci=log").content[:4] == b"%PDF"
    inline = client.get(figure_url(snapshot, "os_by_centre", "svg") + "?inline=1")
    assert inline.content.decode().startswith("<svg")
    assert client.get(figure_url(snapshot, "nope", "svg")).status_code == 404
    assert client.get("/analytics/figures/v999999/os.svg").status_code == 404


def test_freshness_asks_for_a_reload_when_a_newer_snapshot_lands(
    client, people, snapshot, make_records, django_capture_on_commit_callbacks
):
    client.force_login(people["pi"])
    url = f"/analytics/freshness/?version={snapshot.dataset_version}"
    assert "HX-Refresh" not in client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        make_records(1)
    response = client.get(url)
    assert response["HX-Refresh"] == "true"
    newest = StatisticsSnapshot.objects.latest()
    assert f"As of dataset version {newest.dataset_version}" in response.content.decode()


def test_history_diff_lists_records_and_figures(
    client, people, snapshot, make_records, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_records(1, data=DEAD)
    newest = StatisticsSnapshot.objects.latest()
    client.force_login(people["pi"])
    response = client.get(
        f"/analytics/history/?a={snapshot.dataset_version}&b={newest.dataset_version}"
    )
    diff = response.context["diff"]
    assert diff["added"] == ["MIL-0006"] and diff["removed"] == [] and diff["changed"] == []
    events = next(f for f in diff["figures"] if f["endpoint"] == "os" and f["what"] == "events")
    assert (events["before"], events["after"], events["changed"]) == (2, 3, True)
    assert "MIL-0006" in response.content.decode()


def test_dashboard_with_log_ci_and_subgroup(client, people, snapshot):
    client.force_login(people["pi"])
    html = client.get("/analytics/?ci=log&subgroup=centre").content.decode()
    assert "log</strong> transformation" in html and "survfit" in html
    assert "os_by_centre.svg?inline=1&amp;ci=log" in html


def test_empty_dashboard(client, people, dictionary):
    client.force_login(people["pi"])
    assert "No statistics yet" in client.get("/analytics/").content.decode()
    assert client.get("/analytics/summary.json").status_code == 404


def test_dashboard_says_when_its_figures_are_behind_the_locked_dataset(
    client, people, snapshot, make_records, django_capture_on_commit_callbacks
):
    client.force_login(people["pi"])
    assert "not yet in these figures" not in client.get("/analytics/").content.decode()
    current = client.get("/analytics/summary.json").json()
    assert (current["latest_dataset_version"], current["behind_by"]) == (
        snapshot.dataset_version,
        0,
    )
    # Two locks committed, their recompute not run yet (no worker got to it).
    with django_capture_on_commit_callbacks(execute=False):
        make_records(1)
        make_records(1, centre="BOL")
    latest = LockOutbox.objects.latest("pk").dataset_version
    page = client.get("/analytics/").content.decode()
    assert "2 locks not yet in these figures, recomputing" in page
    assert f"As of dataset version {snapshot.dataset_version}," in page
    fragment = client.get(f"/analytics/freshness/?version={snapshot.dataset_version}")
    assert "2 locks not yet in these figures" in fragment.content.decode()
    assert "HX-Refresh" not in fragment
    behind = client.get("/analytics/summary.json").json()
    assert behind["dataset_version"] == snapshot.dataset_version
    assert behind["latest_dataset_version"] == latest
    assert behind["behind_by"] == 2
    assert behind["not_yet_included"] == {"locked": 2, "unlocked": 0}
    assert behind["recomputing"] is True

    recompute_statistics.apply(args=[latest], throw=True)
    page = client.get("/analytics/").content.decode()
    assert "not yet in these figures" not in page
    assert f"As of dataset version {latest}," in page
    caught_up = client.get("/analytics/summary.json").json()
    assert (caught_up["dataset_version"], caught_up["behind_by"]) == (latest, 0)
    # The older figures, asked for by version, say they are superseded, not "recomputing".
    old = client.get(f"/analytics/?version={snapshot.dataset_version}").content.decode()
    assert "2 locks not in these figures; newer figures include them." in old


def test_an_unlock_not_yet_in_the_figures_is_named(
    client, people, snapshot, django_capture_on_commit_callbacks
):
    client.force_login(people["pi"])
    record = Record.objects.filter(is_locked=True).first()
    with django_capture_on_commit_callbacks(execute=False):
        unlock_record(user=people["dm"], record=record, reason="correct a date")
    page = client.get("/analytics/").content.decode()
    assert "1 unlock not yet in these figures, recomputing" in page
