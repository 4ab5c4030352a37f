"""Drug response, PFS per line, competing risks and Table 1 from locked records: in
summary.json (with n and methods), on the PI's dashboard, in the results paragraph, and
Table 1 as CSV and Word-friendly HTML downloads for the pooled roles only.

The dictionary is the study's, extended here with ``progression_date`` on systemic_therapy
(as the shipped dictionary's next version does), so these tests do not depend on it."""

from __future__ import annotations

import copy
import csv
import io
import json
from html import unescape

import pytest

from analytics import services
from analytics.models import SnapshotDataset, SnapshotDetail, SnapshotPaper, StatisticsSnapshot
from analytics.narrative import results_paragraph
from analytics.presentation import PAPER_KEYS, paper_for, with_paper
from analytics.tasks import compute_paper_tables, recompute_statistics, sweep_snapshot_stages
from registry.dictionary import gi_lms_dictionary_csv, gi_lms_project
from registry.models import LockOutbox
from registry.services.dictionary import import_dictionary
from tests import factories
from tests.fixtures_records import COMPLETE_CASE

PROGRESSION_ROW = (
    "progression_date,systemic_therapy,,text,Date of progression on this line,,"
    "Empty if no progression,date_dmy,2004-01-01,today,,[therapy_setting] = '3',,,,,,"
)


@pytest.fixture
def dictionary(db):
    """The study dictionary with progression_date (a second version if the shipped one has
    not got it yet)."""
    first = factories.gi_lms_dictionary()
    text = gi_lms_dictionary_csv()
    if any(f.name == "progression_date" for f in first.dictionary.fields):
        return first
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("best_response,")) + 1
    lines.insert(at, PROGRESSION_ROW)
    return import_dictionary(
        csv_text="\n".join(lines) + "\n", project=gi_lms_project(), note="progression_date"
    )


def therapy(setting: str, start: str, response: str, line: str = "", progression: str = ""):
    values = {"therapy_setting": setting, "regimen": "1", "therapy_start": start}
    values["best_response"] = response
    if setting == "3":
        values.update(therapy_line=line, progression_date=progression)
    return values


def relapse(when: str, kind: str) -> dict:
    return {"relapse_date": when, "relapse_type": kind, "salvage_surgery": "0"}


def patient(therapies=(), relapses=(), **follow_up) -> dict:
    data = copy.deepcopy(COMPLETE_CASE)
    data["follow_up"][0].update(follow_up)
    if therapies:
        data["systemic_therapy"] = list(therapies)
    if relapses:
        data["relapse"] = list(relapses)
    return data


METASTATIC = {
    "stage": [{"stage_dx": "3", "metastatic_sites": ["2"]}],
    "primary_surgery": [{"surgery_done": "0"}],
}


def metastatic(therapies, **follow_up) -> dict:
    data = patient(therapies, **follow_up)
    data.update(copy.deepcopy(METASTATIC))
    return data


@pytest.fixture
def snapshot(make_records, django_capture_on_commit_callbacks):
    dead = {
        "vital_status": "0",
        "death_date": "2012-06-01",
        "last_contact_date": "2012-06-01",
        "death_cause": "1",
        "disease_status_last": "3",
    }
    with django_capture_on_commit_callbacks(execute=True):
        make_records(2, data=patient([therapy("2", "2010-04-20", "3")]))
        make_records(1, data=patient(relapses=[relapse("2011-01-10", "1")]))
        make_records(1, data=patient(relapses=[relapse("2012-01-10", "2")]))
        make_records(
            1, data=patient(relapses=[relapse("2012-01-10", "1"), relapse("2012-01-10", "2")])
        )
        make_records(1, data=patient(**dict(dead, disease_status_last="4", death_cause="3")))
        make_records(
            3,
            centre="BOL",
            data=metastatic(
                [
                    therapy("3", "2010-04-01", "2", "1", "2010-10-01"),
                    therapy("3", "2010-11-01", "4", "2", "2011-01-15"),
                ]
            ),
        )
        make_records(
            2, centre="BOL", data=metastatic([therapy("3", "2010-04-01", "5", "1")], **dead)
        )
    return StatisticsSnapshot.objects.latest()


def test_summary_json_has_the_paper_keys_with_n_and_methods(client, people, snapshot):
    client.force_login(people["pi"])
    data = client.get("/analytics/summary.json").json()
    for key in ("drug_response", "pfs_by_line", "competing_risks", "table1"):
        assert data[key]["n"] > 0 and data[key]["methods"], key
    drug = {row["label"]: row for row in data["drug_response"]["rows"]}
    assert set(drug) == {"Adjuvant", "Advanced, line 1", "Advanced, line 2"}
    first = drug["Advanced, line 1"]
    assert (first["n_lines"], first["n_evaluable"], first["not_evaluable"]) == (5, 3, 2)
    assert (first["orr"]["k"], first["orr"]["n"]) == (3, 3)
    assert first["orr"]["ci"][1] == 1.0 and 0.29 < first["orr"]["ci"][0] < 0.30
    pfs = {p["label"]: p for p in data["pfs_by_line"]["lines"]}
    assert (pfs["Advanced, line 1"]["n"], pfs["Advanced, line 1"]["events"]) == (5, 5)
    cr = data["competing_risks"]
    assert cr["n"] == 6  # the localized, operated patients
    assert cr["events"] == {"1": 1, "2": 2, "3": 1}  # same-day local + distant is distant
    assert set(cr["gray"]) == {"site_of_origin", "margins", "chemotherapy"}
    assert data["table1"]["compared"] == ["Localized", "Metastatic"]
    assert {row["test"] for row in data["table1"]["rows"]} == {
        "Fisher's exact",
        "Wilcoxon rank-sum",
    }


def test_dashboard_and_paragraph_show_them(client, people, snapshot):
    client.force_login(people["pi"])
    html = client.get("/analytics/").content.decode()
    for anchor in ('id="drug-response"', 'id="pfs-by-line"', 'id="competing-risks"'):
        assert anchor in html
    assert 'id="table1-footnote"' in html and "Fisher&#x27;s exact test" in html
    gray = html[html.index('id="gray-tests"') :]
    order = [gray.index(name) for name in ("Site of origin", "Resection margins", "(Neo)adjuvant")]
    assert order == sorted(order)  # the configuration's order, not JSONB's key order
    paragraph = results_paragraph(with_paper(snapshot.results, paper_for(snapshot)))
    assert "objective response" in paragraph and "Aalen-Johansen" in paragraph
    assert paragraph in unescape(html)


def test_cumulative_incidence_figure_in_three_formats(client, people, snapshot):
    client.force_login(people["pi"])
    base = f"/analytics/figures/v{snapshot.dataset_version}/cumulative_incidence"
    svg = client.get(f"{base}.svg?inline=1").content.decode()
    assert 'width="100%"' in svg and "viewBox" in svg and "Local relapse" in svg
    assert client.get(f"{base}.png").content[:4] == b"\x89PNG"
    assert client.get(f"{base}.pdf").content[:4] == b"%PDF"


def test_table1_downloads(client, people, snapshot):
    client.force_login(people["dm"])
    response = client.get("/analytics/table1.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "Characteristic" and rows[0][-1] == "p"
    assert rows[-1][0].startswith("p: Fisher's exact test")
    html = client.get("/analytics/table1.html")
    assert html.status_code == 200
    assert "attachment" in html["Content-Disposition"]
    assert "<table>" in html.content.decode() and "Wilcoxon rank-sum" in html.content.decode()


@pytest.mark.parametrize("who", ["coord_mil", "inv_mil", "coord_bol"])
def test_site_staff_are_denied_table1(client, people, snapshot, who):
    client.force_login(people[who])
    for url in ("/analytics/table1.csv", "/analytics/table1.html"):
        assert client.get(url).status_code == 403, url


def test_table1_needs_a_log_in(client, snapshot):
    assert client.get("/analytics/table1.csv").status_code == 401


def test_the_stages_together_store_what_one_pass_computes(snapshot):
    """The headline snapshot, its records and its paper tables (later rows) hold exactly the
    content the statistics computed in one pass over the same records, and the headline holds
    none of the paper's tables, nor the curves the dashboard does not draw at once."""
    loaded = services.load_dataset()
    results, curves, dataset_gz = services.compute_statistics(loaded)
    paper = SnapshotPaper.objects.get(snapshot=snapshot)
    stored = SnapshotDataset.objects.get(snapshot=snapshot)
    assert not set(PAPER_KEYS) & set(snapshot.results)
    assert set(paper.results) == set(PAPER_KEYS)
    assert dict(snapshot.results, **paper.results) == json_round_trip(results)
    assert dict(snapshot.curves, **stored.curves, **paper.curves) == json_round_trip(curves)
    assert set(snapshot.curves) == {"os", "dfs"} and "stage" in snapshot.curves["os"]
    assert {"os_localized", "followup"} <= set(stored.curves)
    assert bytes(stored.analysis_dataset_gz) == dataset_gz
    assert stored.record_hashes == loaded.record_hashes
    assert len(stored.record_hashes) == snapshot.n_locked_records == 11


def json_round_trip(value):
    return json.loads(json.dumps(value))


@pytest.fixture
def headline_only(snapshot_records):
    """A stored headline snapshot whose later stages have not run (their messages are still
    in the broker, or were lost with the worker)."""
    version = LockOutbox.objects.order_by("-dataset_version").first().dataset_version
    recompute_statistics.apply(args=[version], throw=True)  # the stages wait for a commit
    return StatisticsSnapshot.objects.get(dataset_version=version)


@pytest.fixture
def snapshot_records(make_records, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        make_records(2, data=patient([therapy("2", "2010-04-20", "3")]))
        make_records(1, data=patient(relapses=[relapse("2011-01-10", "1")]))
        make_records(2, centre="BOL", data=metastatic([therapy("3", "2010-04-01", "2", "1")]))


def test_the_dashboard_says_the_paper_tables_are_being_computed(client, people, headline_only):
    assert not SnapshotPaper.objects.exists()
    client.force_login(people["pi"])
    response = client.get("/analytics/")
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "Median DFS" in html and 'id="headline-figures"' in html
    assert html.count("Being computed: the headline figures") == 3  # Table 1, drugs, risks
    assert 'id="table1"' not in html and 'id="pfs-by-line"' not in html
    assert "details=0" in html  # the page reloads once the later stages are stored
    data = client.get("/analytics/summary.json").json()
    for key in ("drug_response", "pfs_by_line", "competing_risks", "table1"):
        assert data[key]["pending"] is True and data[key]["methods"].startswith("Being computed")
    for url in ("/analytics/table1.csv", "/analytics/table1.html"):
        table = client.get(url)
        assert table.status_code == 503 and table["Retry-After"], url
    figure = f"/analytics/figures/v{headline_only.dataset_version}/cumulative_incidence.svg"
    assert client.get(figure).status_code == 404

    compute_paper_tables.apply(args=[headline_only.dataset_version], throw=True)
    html = unescape(client.get("/analytics/").content.decode())
    assert "Being computed" not in html and 'id="table1"' in html and 'id="pfs-by-line"' in html
    assert client.get("/analytics/table1.csv").status_code == 200


def test_a_redelivered_recompute_sends_the_stages_a_dead_worker_never_sent(
    headline_only, django_capture_on_commit_callbacks
):
    """The worker stored the headline snapshot and died before sending the later stages: the
    redelivered message (acks_late) or the sweep's resend finds the snapshot stored and sends
    the stages it lacks."""
    with django_capture_on_commit_callbacks(execute=True):
        assert recompute_statistics.apply(args=[headline_only.dataset_version]).get() is None
    assert SnapshotPaper.objects.filter(snapshot=headline_only).exists()
    assert SnapshotDetail.objects.filter(snapshot=headline_only).exists()


def test_paper_tables_describe_the_snapshots_records_after_later_locks(
    headline_only, make_records, django_capture_on_commit_callbacks
):
    """A record locked after the snapshot (its own recompute not run yet) is left out: the
    tables are stored against the snapshot's dataset version and describe its records."""
    with django_capture_on_commit_callbacks(execute=False):
        make_records(3, data=patient([therapy("2", "2010-04-20", "3")]))
    paper = compute_paper_tables.apply(args=[headline_only.dataset_version]).get()
    assert paper == headline_only.pk
    tables = SnapshotPaper.objects.get(snapshot=headline_only).results
    assert {c["label"]: c["n"] for c in tables["table1"]["columns"]}["All"] == 5
    assert tables["drug_response"]["n_patients"] == 4


def test_the_sweep_resends_stages_still_missing_after_the_grace(
    headline_only, settings, django_capture_on_commit_callbacks
):
    """A worker killed during a later stage: its message waits for Redis's redelivery (an
    hour); the periodic sweep sends the missing stages again once the grace has passed."""
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_snapshot_stages.apply().get() == 0  # within the grace: nothing
    assert not SnapshotPaper.objects.exists()
    settings.SNAPSHOT_STAGES_RESEND_AFTER_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_snapshot_stages.apply().get() == 2
    assert SnapshotPaper.objects.filter(snapshot=headline_only).exists()
    assert SnapshotDetail.objects.filter(snapshot=headline_only).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_snapshot_stages.apply().get() == 0  # nothing missing (and sent once)
