"""A small known dataset for the export and API tests, entered through the services."""

from __future__ import annotations

import copy

import pytest

from registry.models import FormStatus
from registry.services.locking import SIGNATURE_MEANINGS, lock_records
from registry.services.records import create_record
from tests import factories
from tests.fixtures_records import COMPLETE_CASE, PASSWORD, enter_case

METASTATIC = copy.deepcopy(COMPLETE_CASE)
METASTATIC["enrolment"][0].update(mrn="M-2", year_of_birth="1915")
METASTATIC["diagnosis_pathology"][0].update(
    date_dx="2012-06-15",
    site_of_origin="6",
    site_other='=HYPERLINK("http://x")',
    pathology_notes="-2+3 looks like a formula",
    path_review_date="2012-07-01",
)
METASTATIC["stage"] = [{"stage_dx": "3", "metastatic_sites": ["1", "3"]}]
METASTATIC["primary_surgery"] = [{"surgery_done": "0"}]
METASTATIC["systemic_therapy"] = [
    {
        "therapy_setting": "3",
        "therapy_line": "1",
        "regimen": "2",
        "therapy_start": "2012-07-10",
        "therapy_end": "2012-11-20",
        "progression_date": "2013-01-15",
        "best_response": "2",
    },
    {
        "therapy_setting": "3",
        "therapy_line": "2",
        "regimen": "8",
        "regimen_other": "@SUM(A1)",
        "therapy_start": "2013-02-01",
        "progression_date": "2013-03-20",
        "best_response": "4",
    },
]
METASTATIC["relapse"] = []
METASTATIC["follow_up"] = [
    {
        "last_contact_date": "2014-01-31",
        "vital_status": "0",
        "death_date": "2014-01-31",
        "death_cause": "1",
        "disease_status_last": "3",
    }
]

RELAPSED = copy.deepcopy(COMPLETE_CASE)
RELAPSED["enrolment"][0].update(sex="1", mrn="B-77")
RELAPSED["relapse"] = [
    {
        "relapse_date": "2012-09-01",
        "relapse_type": "1",
        "relapse_sites": ["1"],
        "salvage_surgery": "1",
        "salvage_date": "2012-10-01",
        "status_after_salvage": "1",
    }
]


def diagnosis_first(case: dict) -> dict:
    """Enter the diagnosis before enrolment, so the age calculation sees date_dx."""
    return {
        "diagnosis_pathology": case["diagnosis_pathology"],
        **{k: v for k, v in case.items() if k != "diagnosis_pathology"},
    }


COMPLETE = diagnosis_first(COMPLETE_CASE)
METASTATIC = diagnosis_first(METASTATIC)
RELAPSED = diagnosis_first(RELAPSED)
UNFINISHED = {"enrolment": [{"sex": "1", "year_of_birth": "1970", "mrn": "U-1"}]}


def build_dataset(centers: dict, people: dict, version) -> dict:
    """MIL-0001 (complete), MIL-0002 (metastatic, aged 94, formula-like text), BOL-0001
    (relapse) locked; MIL-0003 unlocked and incomplete."""
    mil, bol = people["coord_mil"], people["coord_bol"]
    records = {}
    for key, user, center, case in [
        ("mil1", mil, centers["MIL"], COMPLETE),
        ("mil2", mil, centers["MIL"], METASTATIC),
        ("bol1", bol, centers["BOL"], RELAPSED),
    ]:
        record = create_record(user=user, center=center)
        enter_case(record, user, version, case)
        records[key] = record
    unfinished = create_record(user=mil, center=centers["MIL"])
    enter_case(unfinished, mil, version, UNFINISHED, status=FormStatus.INCOMPLETE)
    records["mil3"] = unfinished
    lock_records(
        user=people["inv_mil"],
        records=[records["mil1"], records["mil2"]],
        password=PASSWORD,
        meaning=SIGNATURE_MEANINGS[0],
        dictionary_version=version,
    )
    lock_records(
        user=people["inv_bol"],
        records=[records["bol1"]],
        password=PASSWORD,
        meaning=SIGNATURE_MEANINGS[0],
        dictionary_version=version,
    )
    for record in records.values():
        record.refresh_from_db()
    return records


@pytest.fixture(name="dataset")
def dataset_fixture(dictionary, centers, people, settings, tmp_path):
    """The dataset above, a BOL investigator, a fixed hash key and a temporary EXPORT_ROOT."""
    settings.EXPORT_HASH_KEY = "golden-test-key"
    settings.EXPORT_ROOT = tmp_path / "exports"
    people["inv_bol"] = factories.investigator(centers["BOL"], username="bianca")
    return build_dataset(centers, people, dictionary)
