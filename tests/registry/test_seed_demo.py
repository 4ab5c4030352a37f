"""The demo: the published cohort's 33 patients locked through the real services, a few
workflow records beside them (not locked), every course's dates in a plausible order, and
loading it twice adds nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command

from registry.demo import build_cohort
from registry.demo_cohort import DATA_CUTOFF, PD
from registry.models import FormStatus, InstrumentData, Query, Record, Signature


def values(instrument: str, field: str) -> list:
    rows = InstrumentData.objects.filter(instrument=instrument, record__is_locked=True)
    return [d.get(field) for d in rows.values_list("data", flat=True)]


@pytest.mark.django_db
def test_seed_demo_locks_the_published_cohort_and_is_idempotent(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "coordinator-mil" in out and "datamanager" in out and "SYNTHETIC" in out
    assert Record.objects.count() == 38
    assert Record.objects.filter(synthetic=True).count() == 38
    locked = Record.objects.filter(is_locked=True)
    assert locked.count() == 33
    assert locked.values("center").distinct().count() == 6
    assert Signature.objects.filter(voided_at__isnull=True).count() == 33
    stages = values("stage", "stage_dx")
    assert stages.count("3") == 11 and len(stages) == 33
    assert values("primary_surgery", "surgery_done").count("1") == 22
    relapses = InstrumentData.objects.filter(instrument="relapse", record__is_locked=True)
    local = relapses.filter(data__relapse_type="1")
    assert local.values("record").distinct().count() == 10
    assert local.filter(data__salvage_surgery="1").count() == 5
    assert local.filter(data__status_after_salvage="1").count() == 2
    settings = values("systemic_therapy", "therapy_setting")
    assert settings.count("1") == 6 and settings.count("2") == 7
    dates = values("diagnosis_pathology", "date_dx")
    assert min(dates) >= "2004-01-01" and max(dates) <= "2020-12-31"
    advanced = InstrumentData.objects.filter(
        instrument="systemic_therapy", data__therapy_setting="3", record__is_locked=True
    )
    progressed = advanced.filter(data__progression_date__regex=r"^\d{4}-\d{2}-\d{2}$")
    built = [
        line
        for p in build_cohort()
        if p.lock
        for line in p.forms["systemic_therapy"]
        if line.get("progression_date")
    ]
    assert progressed.count() == len(built) > 20

    unlocked = Record.objects.filter(is_locked=False)
    in_progress = unlocked.filter(instruments__status=FormStatus.INCOMPLETE).distinct()
    assert in_progress.count() == 3
    queried = Query.objects.exclude(status=Query.Status.CLOSED)
    assert queried.count() == 1 and not queried.get().record.is_locked
    waiting = unlocked.exclude(pk__in=in_progress).exclude(pk=queried.get().record_id)
    assert waiting.count() == 1
    assert not waiting.get().instruments.exclude(status=FormStatus.COMPLETE).exists()

    call_command("seed_demo")
    assert Record.objects.count() == 38


def _months(a: date, b: date) -> float:
    return (b - a).days / 30.4375


def test_every_demo_course_is_in_a_plausible_order() -> None:
    for patient in build_cohort():
        forms = {k: v for k, v in patient.forms.items()}
        dx = date.fromisoformat(forms["diagnosis_pathology"][0]["date_dx"])
        assert date(2004, 1, 1) <= dx <= date(2020, 12, 31)
        if not patient.complete:
            continue
        follow = forms["follow_up"][0]
        last = date.fromisoformat(follow["last_contact_date"])
        assert dx < last <= DATA_CUTOFF
        if follow["vital_status"] == "0":
            assert follow["death_date"] == follow["last_contact_date"]
        surgery = forms["primary_surgery"][0].get("surgery_date")
        previous = date.fromisoformat(surgery) if surgery else dx
        for relapse in forms["relapse"]:
            when = date.fromisoformat(relapse["relapse_date"])
            assert previous < when < last
            if relapse.get("salvage_date"):
                assert when < date.fromisoformat(relapse["salvage_date"]) < last
            previous = when
        next_start = dx
        for line in forms["systemic_therapy"]:
            start = date.fromisoformat(line["therapy_start"])
            assert dx < start < last and start >= next_start
            end = line.get("therapy_end")
            assert end is None or start < date.fromisoformat(end) <= last
            progression = line.get("progression_date")
            assert (line["therapy_setting"] == "3") or progression is None
            if progression:
                progressed = date.fromisoformat(progression)
                assert start < progressed <= last
                if line["best_response"] == PD:  # at the first restaging
                    assert _months(start, progressed) < 3
                else:  # a response or stable disease lasts beyond it
                    assert _months(start, progressed) > 3
                next_start = progressed
            elif line["therapy_setting"] == "3":
                assert follow["vital_status"] == "1" and not end  # still on it
