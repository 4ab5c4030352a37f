"""Per-record derivation, cached per worker process. A locked record cannot change (database
triggers) until it is unlocked, which voids its signature; so everything derived from it is
keyed by (record, current signature) and reused by every later snapshot. A recompute then
loads and derives only the records locked since the last one."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection

from registry.csv_safety import writer as safe_writer

from .cohort import Labels, count_membership, subgroup_values, table_one_values
from .endpoints import Excluded, Exclusion, Observation, Patient, derive, needed_fields

Outcome = Observation | Exclusion | None
LIST_SQL = """
SELECT r.id, s.id FROM registry_record r
JOIN registry_signature s ON s.record_id = r.id AND s.voided_at IS NULL
WHERE r.is_locked AND r.deleted_at IS NULL
"""
DATA_SQL = """
SELECT r.id, r.record_id, c.code, i.instrument, i.instance, i.data::text
FROM registry_record r
JOIN centers_center c ON c.id = r.center_id
JOIN registry_instrumentdata i ON i.record_id = r.id AND i.deleted_at IS NULL
WHERE r.id = ANY(%s)
"""


@dataclass(frozen=True)
class DerivedRecord:
    record_id: str
    centre: str
    digest: str  # SHA-256 of every stored value of the record
    outcomes: dict[str, Outcome]  # endpoint key -> observation, exclusion or not applicable
    groups: dict[str, str | None]  # subgroup key -> group
    counts: frozenset[str]
    table1: tuple[str, tuple[Any, ...]]
    csv: str  # this record's rows of the analysis dataset


def derive_record(
    patient: Patient, digest: str, config: Mapping[str, Any], labels: Labels, missing: set[str]
) -> DerivedRecord:
    outcomes: dict[str, Outcome] = {}
    for endpoint in config["endpoints"]:
        try:
            outcomes[endpoint["key"]] = derive(patient, endpoint, config, missing)
        except Excluded as exc:
            outcomes[endpoint["key"]] = Exclusion(patient.record_id, str(exc))
    groups = {
        key: members[patient.record_id]
        for key, members in subgroup_values([patient], config, labels, missing).items()
    }
    return DerivedRecord(
        patient.record_id,
        patient.centre,
        digest,
        outcomes,
        groups,
        count_membership(patient, config),
        table_one_values(patient, config, labels, missing),
        dataset_rows(patient.record_id, patient.centre, outcomes, groups),
    )


def dataset_rows(
    record_id: str, centre: str, outcomes: Mapping[str, Outcome], groups: Mapping[str, str | None]
) -> str:
    """CSV lines (DATASET_COLUMNS), cells neutralised against spreadsheet formulas."""
    text = io.StringIO()
    out = safe_writer(text, lineterminator="\n")
    for endpoint, outcome in outcomes.items():
        if isinstance(outcome, Observation):
            out.writerow(
                [
                    record_id,
                    centre,
                    endpoint,
                    repr(outcome.time_months),
                    outcome.event,
                    groups.get("stage") or "",
                    groups.get("site_of_origin") or "",
                    groups.get("chemotherapy") or "",
                ]
            )
    return text.getvalue()


def _patients(
    rows: Iterable[tuple], keep: set[str], repeating: set[str]
) -> dict[int, tuple[Patient, str]]:
    by_record: dict[int, list[tuple]] = {}
    for row in rows:
        by_record.setdefault(row[0], []).append(row)
    out = {}
    for pk, items in by_record.items():
        items.sort(key=lambda r: (r[3], r[4]))
        digest = hashlib.sha256()
        values: dict[str, Any] = {}
        instances: dict[str, list[Mapping[str, Any]]] = {}
        for _pk, _rid, _code, instrument, instance, text in items:
            digest.update(f"{instrument}#{instance}={text}\n".encode())
            data = {k: v for k, v in json.loads(text).items() if k in keep}
            if instrument in repeating:
                instances.setdefault(instrument, []).append(data)
            else:
                values.update(data)
        out[pk] = (Patient(items[0][1], items[0][2], values, instances), digest.hexdigest())
    return out


class DerivedCache:
    """{(record pk, signature pk): DerivedRecord} for one database and configuration."""

    def __init__(self) -> None:
        self.key: tuple = ()
        self.records: dict[tuple[int, int], DerivedRecord] = {}

    def load(
        self,
        config: Mapping[str, Any],
        config_key: str,
        labels: Labels,
        missing: set[str],
        repeating: Iterable[str],
    ) -> tuple[list[DerivedRecord], int]:
        """The current locked records, derived; and how many had to be loaded now. Call
        inside the transaction that reads the dataset version."""
        key = (connection.settings_dict["NAME"], config_key)
        if key != self.key:
            self.key, self.records = key, {}
        with connection.cursor() as cursor:
            cursor.execute(LIST_SQL)
            current = [tuple(row) for row in cursor.fetchall()]
            wanted = [pk for pk, sig in current if (pk, sig) not in self.records]
            fresh: dict[int, tuple[Patient, str]] = {}
            if wanted:
                cursor.execute(DATA_SQL, [wanted])
                fresh = _patients(cursor.fetchall(), set(needed_fields(config)), set(repeating))
        for pk, sig in current:
            if pk in fresh:
                patient, digest = fresh[pk]
                self.records[(pk, sig)] = derive_record(patient, digest, config, labels, missing)
        live = set(current)
        self.records = {k: v for k, v in self.records.items() if k in live}
        ordered = sorted(
            (self.records[k] for k in current if k in self.records), key=lambda r: r.record_id
        )
        return ordered, len(wanted)


CACHE = DerivedCache()
