"""filterLogic is evaluated by the forms' logic engine (registry.logic), the record ID included:
one case per operator, and empty values. The dataset: MIL-0001 (woman, born 1960, 80 mm),
MIL-0002 (woman, 1915, 80 mm, liver and peritoneal metastases), BOL-0001 (man, 1960, 80 mm),
MIL-0003 (man, 1970, no diagnosis entered)."""

from __future__ import annotations

import pytest

from tests.registry.api_fixture import api_fixture, as_json  # noqa: F401 - the fixture
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

ALL = {"MIL-0001", "MIL-0002", "MIL-0003", "BOL-0001"}
CASES = [
    ("[record_id] <> ''", ALL),
    ("[record_id] = 'BOL-0001'", {"BOL-0001"}),
    ("[year_of_birth] = 1960", {"MIL-0001", "BOL-0001"}),
    ("[year_of_birth] <> 1960", {"MIL-0002", "MIL-0003"}),
    ("[year_of_birth] < 1960", {"MIL-0002"}),
    ("[year_of_birth] > 1960", {"MIL-0003"}),
    ("[year_of_birth] <= 1960", {"MIL-0001", "MIL-0002", "BOL-0001"}),
    ("[year_of_birth] >= 1960", {"MIL-0001", "BOL-0001", "MIL-0003"}),
    ("[sex] = '1' and [year_of_birth] > 1965", {"MIL-0003"}),
    ("[sex] = '1' or [year_of_birth] < 1920", {"BOL-0001", "MIL-0003", "MIL-0002"}),
    ("not([sex] = '1')", {"MIL-0001", "MIL-0002"}),
    ("[metastatic_sites(3)] = '1'", {"MIL-0002"}),
    ("[metastatic_sites(3)] = '0'", ALL - {"MIL-0002"}),
    # empty values: equal to '', never less or greater than a number
    ("[tumour_size_mm] = ''", {"MIL-0003"}),
    ("[tumour_size_mm] <> ''", ALL - {"MIL-0003"}),
    ("[tumour_size_mm] < 100", ALL - {"MIL-0003"}),
    ("[tumour_size_mm] > 10", ALL - {"MIL-0003"}),
    ("[date_dx] = ''", {"MIL-0003"}),
    ("datediff([date_dx], '2012-01-01', 'y') > 1", {"MIL-0001", "BOL-0001"}),
]


def test_filter_logic_per_operator_and_for_empty_values(api):
    """One dataset for all cases (building it is the slow part); every mismatch is reported."""
    wrong = {}
    for logic, expected in CASES:
        response = api("dm", content="record", format="json", fields="record_id", filterLogic=logic)
        assert response.status_code == 200, (logic, response.content)
        got = {row["record_id"] for row in as_json(response)}
        if got != expected:
            wrong[logic] = sorted(got)
    assert wrong == {}


def test_filter_logic_syntax_errors_are_named(api):
    response = api("dm", content="record", format="json", filterLogic="[sex] = = '1'")
    assert response.status_code == 400 and "filterLogic" in as_json(response)["error"]
