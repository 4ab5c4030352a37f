"""Fixtures for registry tests: a dictionary, centres, people, and a record ready to lock."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from registry.audit import set_audit_context
from registry.entry import clean_instrument
from registry.models import FormStatus, Record, Signature
from registry.outbox import announce_dataset_change
from registry.services.locking import SIGNATURE_MEANINGS, lock_record
from registry.services.records import create_record, record_values, save_instrument
from tests import factories

PASSWORD = "correct-horse-battery"

COMPLETE_CASE = {
    "enrolment": [
        {
            "sex": "2",
            "year_of_birth": "1960",
            "kit_negative": "1",
            "expert_review_confirmed": "1",
            "dx_in_study_period": "1",
            "mrn": "H123",
        }
    ],
    "diagnosis_pathology": [
        {
            "date_dx": "2010-03-04",
            "site_of_origin": "3",
            "tumour_size_mm": "80",
            "fnclcc_grade": "3",
            "kit_cd117": "2",
            "path_review_confirmed": "1",
            "path_review_date": "2010-04-01",
        }
    ],
    "stage": [{"stage_dx": "1"}],
    "primary_surgery": [
        {
            "surgery_done": "1",
            "surgery_date": "2010-03-20",
            "margins": "0",
            "rupture": "0",
            "surgery_procedure": "Segmental resection",
        }
    ],
    "radiotherapy": [{"rt_given": "0"}],
    "follow_up": [
        {"last_contact_date": "2015-05-05", "vital_status": "1", "disease_status_last": "1"}
    ],
}


@pytest.fixture
def people(centers):
    return {
        "coord_mil": factories.coordinator(centers["MIL"], username="alice"),
        "inv_mil": factories.investigator(centers["MIL"], username="ivan"),
        "coord_bol": factories.coordinator(centers["BOL"], username="charlie"),
        "dm": factories.data_manager(username="dora"),
        "pi": factories.principal_investigator(username="paola"),
        "monitor": factories.monitor(username="mona"),
    }


def enter_case(record, user, version, case=COMPLETE_CASE, status=FormStatus.COMPLETE):
    dictionary = version.dictionary
    for form, instances in case.items():
        for instance, values in enumerate(instances, start=1):
            cleaned = clean_instrument(
                dictionary=dictionary,
                instrument=form,
                submitted=values,
                context=record_values(record),
                status=status,
                missing_codes=version.missing_code_values,
            )
            assert cleaned.ok, cleaned.errors
            save_instrument(
                user=user,
                record=record,
                instrument=form,
                instance=instance,
                data=cleaned.data,
                status=status,
                expected_version=None,
                dictionary_version=version,
            )


@pytest.fixture
def complete_record(dictionary, centers, people):
    record = create_record(user=people["coord_mil"], center=centers["MIL"])
    enter_case(record, people["coord_mil"], dictionary)
    return record


@pytest.fixture
def locked_record(complete_record, people, dictionary, django_capture_on_commit_callbacks):
    lock_record(
        user=people["inv_mil"],
        record=complete_record,
        password=PASSWORD,
        meaning=SIGNATURE_MEANINGS[0],
        dictionary_version=dictionary,
    )
    complete_record.refresh_from_db()
    return complete_record


def lock_with_forged_signature(record, user) -> None:
    """Lock a record under a signature whose hash covers other content (as if copied from
    another record). The database accepts it: checking the hash needs the rows, in Python."""
    with transaction.atomic():
        set_audit_context(user=user, reason=SIGNATURE_MEANINGS[0])
        Signature.objects.create(
            record=record,
            signer=user,
            signer_name=user.full_name,
            meaning=SIGNATURE_MEANINGS[0],
            signed_at=timezone.now(),
            content_sha256="0" * 64,
        )
        Record.objects.filter(pk=record.pk).update(is_locked=True, locked_at=timezone.now())
        announce_dataset_change(action="lock", record_ids=[record.record_id])
