"""Raw export rows (registry.exports.rows): names and codes from the dictionary are only looked
up and compared, whatever they hold."""

from __future__ import annotations

import pytest

from registry.dictionary.model import FieldDef
from registry.exports.columns import Column
from registry.exports.options import ExportOptions
from registry.exports.rows import RowBuilder
from registry.exports.stream import RecordBundle

pytestmark = pytest.mark.django_db

HOSTILE = "x'), __import__('os').system('false'), ('\\\"\n"


def test_hostile_names_and_codes_are_literals(dictionary):
    builder = RowBuilder(dictionary, ExportOptions(locked_only=False))
    form = "enrolment"
    box = FieldDef(name=HOSTILE + "box", form=form, field_type="checkbox")
    builder.columns = [
        Column("record_id", "", "record_id"),
        Column("redcap_repeat_instrument", "", "repeat_instrument"),
        Column("redcap_repeat_instance", "", "repeat_instance"),
        Column("redcap_data_access_group", "", "dag"),
        Column("registry_lock_status", "", "lock"),
        Column(HOSTILE, "", "value", form=form),
        Column("box___1", "", "checkbox", form=form, field=box, code=HOSTILE),
        Column("box___2", "", "checkbox", form=form, field=box, code="2"),
        Column("missing", "", "value", form=form),
        Column(form + "_complete", "", "complete", form=form),
        Column("stage_complete", "", "complete", form="stage"),
    ]
    data = {HOSTILE: "=value", HOSTILE + "box": [HOSTILE], "missing": None}
    bundle = RecordBundle(1, "MIL-0001", 1, "MIL", True, None, [(form, 1, 2, data)])
    assert list(builder.rows(bundle)) == [
        ["MIL-0001", "", "", "mil", "locked", "=value", "1", "0", None, "2", "0"]
    ]
