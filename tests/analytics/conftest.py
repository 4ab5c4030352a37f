"""Fixtures for analytics tests: locked records entered and signed through the services."""

from __future__ import annotations

import copy

import pytest

from registry.services.locking import SIGNATURE_MEANINGS, lock_records
from registry.services.records import create_record
from tests import factories
from tests.fixtures_records import COMPLETE_CASE, PASSWORD, enter_case


def case(**follow_up) -> dict:
    """COMPLETE_CASE with follow-up values replaced (e.g. a death)."""
    data = copy.deepcopy(COMPLETE_CASE)
    data["follow_up"][0].update(follow_up)
    return data


DEAD = case(
    vital_status="0",
    death_date="2013-05-05",
    last_contact_date="2013-05-05",
    death_cause="1",
    disease_status_last="3",
)


@pytest.fixture
def make_records(dictionary, centers, people):
    """make_records(n, centre="MIL", data=COMPLETE_CASE, lock=True) -> records."""
    investigators = {"MIL": people["inv_mil"]}

    def make(n: int = 1, centre: str = "MIL", data: dict = COMPLETE_CASE, lock: bool = True):
        if centre not in investigators:
            investigators[centre] = factories.investigator(centers[centre])
        user = investigators[centre]
        records = []
        for _ in range(n):
            record = create_record(user=user, center=centers[centre])
            enter_case(record, user, dictionary, case=data)
            records.append(record)
        if lock:
            lock_records(
                user=user,
                records=records,
                password=PASSWORD,
                meaning=SIGNATURE_MEANINGS[0],
                dictionary_version=dictionary,
            )
        return records

    return make
