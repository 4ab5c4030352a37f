"""Per-record derivation, cached per worker process. A locked record cannot change (database
triggers) until it is unlocked, which voids its signature; so everything derived from it is
keyed by (record, current signature) and reused by every later snapshot. A recompute then
loads and derives only the records locked since the last one."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection

from registry.csv_safety import writer as safe_writer
from registry.dataset import LockedDataset, LockedRecord

from .cohort import Labels, count_membership, subgroup_values, table_one_values
from .columns import RecordRuns
from .endpoints import Excluded, Exclusion, Observation, Patient, derive, needed_fields
from .paper_data import (
    CompetingObservation,
    TherapyLine,
    competing_outcome,
    paper_fields,
    therapy_lines,
)

Outcome = Observation | Exclusion | None


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
    lines: tuple[TherapyLine, ...] = ()  # systemic therapy lines (drug response, PFS)
    competing: CompetingObservation | Exclusion | None = None


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
        therapy_lines(patient, config, missing),
        competing_outcome(patient, config, labels, missing),
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


def _patient(record: LockedRecord, keep: set[str], repeating: set[str]) -> tuple[Patient, str]:
    """The patient and the SHA-256 of every stored value (rows in Python's order, values as
    PostgreSQL prints them: the digest earlier snapshots' record hashes were made with)."""
    digest = hashlib.sha256()
    values: dict[str, Any] = {}
    instances: dict[str, list[Mapping[str, Any]]] = {}
    for row in sorted(record.rows, key=lambda r: (r.instrument, r.instance)):
        digest.update(f"{row.instrument}#{row.instance}={row.text}\n".encode())
        data = {k: v for k, v in row.data.items() if k in keep}
        if row.instrument in repeating:
            instances.setdefault(row.instrument, []).append(data)
        else:
            values.update(data)
    return Patient(record.record_id, record.centre, values, instances), digest.hexdigest()


class DerivedCache:
    """{(record pk, signature pk): DerivedRecord} for one database and configuration, kept in
    runs (columns.RecordRuns) too: a recompute after a lock sorts the one run the record joins
    and hands the others on as the same tuples, instead of sorting and walking every record."""

    def __init__(self) -> None:
        self.key: tuple = ()
        self.records: dict[tuple[int, int], DerivedRecord] = {}
        self.runs = RecordRuns()

    def load(
        self,
        dataset: LockedDataset,
        config: Mapping[str, Any],
        config_key: str,
        labels: Labels,
        missing: set[str],
        repeating: Iterable[str],
    ) -> tuple[list[tuple[DerivedRecord, ...]], int]:
        """The dataset's records, derived, as columns.runs gives them (in record id order);
        and how many had to be loaded now."""
        key = (connection.settings_dict["NAME"], config_key)
        if key != self.key:
            self.key, self.records, self.runs = key, {}, RecordRuns()
        current = dataset.members()
        wanted = [m for m in current if m not in self.records]
        keep = set(needed_fields(config)) | paper_fields(config)
        repeating = set(repeating)
        added = {}  # kept only once every record is read: a failed read leaves nothing half in
        for record in dataset.records(wanted):
            patient, digest = _patient(record, keep, repeating)
            member = (record.pk, record.signature.pk)
            added[member] = derive_record(patient, digest, config, labels, missing)
        self.records.update(added)
        removed = []
        present = len(current) - sum(1 for m in wanted if m not in self.records)
        if len(self.records) > present:  # some were unlocked (or relocked: a new signature)
            removed = [(m, self.records.pop(m)) for m in self.records.keys() - set(current)]
        return self.runs.update(list(added.items()), removed), len(wanted)


CACHE = DerivedCache()
