"""The demo cohort is shaped like the published study, locked through the real services, and
loading it twice adds nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from registry.models import InstrumentData, Record, Signature

pytestmark = pytest.mark.django_db


def values(instrument: str, field: str) -> list:
    return [
        d.get(field)
        for d in InstrumentData.objects.filter(instrument=instrument).values_list("data", flat=True)
    ]


def test_seed_demo_shapes_the_published_cohort_and_is_idempotent(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "coordinator-mil" in out and "datamanager" in out and "SYNTHETIC" in out
    assert Record.objects.count() == 33
    assert Record.objects.filter(synthetic=True).count() == 33
    assert Record.objects.values("center").distinct().count() == 6
    stages = values("stage", "stage_dx")
    assert stages.count("3") == 11
    assert values("primary_surgery", "surgery_done").count("1") == 22
    assert values("relapse", "relapse_type").count("1") == 10
    assert values("relapse", "salvage_surgery").count("1") == 5
    assert values("relapse", "status_after_salvage").count("1") == 2
    settings = values("systemic_therapy", "therapy_setting")
    assert settings.count("1") == 6 and settings.count("2") == 7
    locked = Record.objects.filter(is_locked=True).count()
    assert 25 <= locked < 33
    assert Signature.objects.filter(voided_at__isnull=True).count() == locked
    dates = [d for d in values("diagnosis_pathology", "date_dx")]
    assert min(dates) >= "2004-01-01" and max(dates) <= "2020-12-31"

    call_command("seed_demo")
    assert Record.objects.count() == 33
