"""Time-to-event endpoints derived from instrument data, following the analysis configuration
(analytics.config). Pure functions over plain dicts (analytics.derived is the thin loader from
the ORM). A record whose dates are missing (missing-data codes included) or inconsistent is
excluded from that endpoint with the reason, never silently dropped."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Patient:
    record_id: str
    centre: str
    values: Mapping[str, Any]  # non-repeating instruments, merged
    instances: Mapping[str, list[Mapping[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Observation:
    record_id: str
    centre: str
    time_months: float
    event: int


@dataclass(frozen=True)
class Exclusion:
    record: str
    reason: str


@dataclass
class EndpointData:
    key: str
    label: str
    reverse: bool = False
    observations: list[Observation] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)
    #: {"time": ..., "event": ..., subgroup key: each observation's group}, arrays aligned with
    #: observations, where the caller has them (analytics.columns); else built from them.
    columns: dict[str, Any] | None = None
    #: How many observations there are, where the caller has columns and no observation list.
    n_observed: int | None = None

    @property
    def population(self) -> int:
        observed = len(self.observations) if self.n_observed is None else self.n_observed
        return observed + len(self.excluded)


class Excluded(Exception):
    """Raised while deriving one record's endpoint; the message is the reason shown."""


def _is_blank(raw: Any) -> bool:
    return raw is None or raw == "" or raw == []


def parse_date(
    values: Mapping[str, Any], name: str, missing_codes: set[str], where: str = ""
) -> date:
    """The date in `values[name]`, or Excluded with why it cannot be used."""
    raw = values.get(name)
    suffix = f" in {where}" if where else ""
    if _is_blank(raw):
        raise Excluded(f"{name} missing{suffix}")
    if isinstance(raw, str) and raw in missing_codes:
        raise Excluded(f"{name} is {raw} (missing-data code){suffix}")
    try:
        return date.fromisoformat(str(raw)[:10])
    except ValueError:
        raise Excluded(f"{name} is not a date ({raw!r}){suffix}") from None


def in_population(
    patient: Patient, population: Mapping[str, list[str]], missing_codes: set[str]
) -> bool:
    """False if a known value puts the patient outside; Excluded if membership is unknown."""
    unknown = []
    for name, allowed in population.items():
        raw = patient.values.get(name)
        if _is_blank(raw) or (isinstance(raw, str) and raw in missing_codes):
            unknown.append(f"{name} is {raw or 'missing'}")
        elif str(raw) not in allowed:
            return False
    if unknown:
        raise Excluded("; ".join(unknown) + " (cannot tell whether the endpoint applies)")
    return True


def _event_dates(
    patient: Patient, event_key: str, spec: Mapping[str, Any], missing_codes: set[str]
) -> list[tuple[date, str]]:
    if "indicator" in spec:
        indicator = spec["indicator"]
        raw = patient.values.get(indicator)
        if _is_blank(raw) or (isinstance(raw, str) and raw in missing_codes):
            raise Excluded(f"{indicator} is {raw or 'missing'}")
        if str(raw) not in spec["values"]:
            return []
        try:
            return [(parse_date(patient.values, spec["date"], missing_codes), spec["date"])]
        except Excluded as exc:
            raise Excluded(f"{exc} although {indicator}={raw} ({event_key})") from None
    instrument = spec["instrument"]
    found = []
    for number, values in enumerate(patient.instances.get(instrument, []), start=1):
        found.append(
            (
                parse_date(values, spec["date"], missing_codes, f"{instrument} #{number}"),
                spec["date"],
            )
        )
    return found


def derive(
    patient: Patient,
    endpoint: Mapping[str, Any],
    config: Mapping[str, Any],
    missing_codes: set[str],
) -> Observation | None:
    """The patient's (time, event) for one endpoint; None if outside its population.
    Raises Excluded with the reason when dates are missing or inconsistent."""
    if not in_population(patient, endpoint.get("population", {}), missing_codes):
        return None
    start_name = endpoint["start"]
    start = parse_date(patient.values, start_name, missing_codes)
    events: list[tuple[date, str]] = []
    for key in endpoint["events"]:
        events.extend(_event_dates(patient, key, config["events"][key], missing_codes))
    censor_name = config["censor_date"]
    try:
        censor: date | None = parse_date(patient.values, censor_name, missing_codes)
    except Excluded:
        if not events:
            raise
        censor = None
    for when, name in events:
        if when < start:
            raise Excluded(f"{name} ({when}) is before {start_name} ({start})")
        if censor is not None and when > censor:
            raise Excluded(f"{name} ({when}) is after {censor_name} ({censor})")
    if censor is not None and censor < start:
        raise Excluded(f"{censor_name} ({censor}) is before {start_name} ({start})")
    if events:
        end, event = min(when for when, _ in events), 1
    else:
        end, event = censor, 0
    if endpoint.get("reverse"):
        event = 1 - event
    months = (end - start).days / float(config["days_per_month"])
    return Observation(patient.record_id, patient.centre, months, event)


def derive_endpoints(
    patients: Iterable[Patient], config: Mapping[str, Any], missing_codes: Iterable[str]
) -> dict[str, EndpointData]:
    codes = set(missing_codes)
    result = {
        ep["key"]: EndpointData(ep["key"], ep["label"], bool(ep.get("reverse")))
        for ep in config["endpoints"]
    }
    for patient in patients:
        for ep in config["endpoints"]:
            data = result[ep["key"]]
            try:
                obs = derive(patient, ep, config, codes)
            except Excluded as exc:
                data.excluded.append(Exclusion(patient.record_id, str(exc)))
                continue
            if obs is not None:
                data.observations.append(obs)
    return result


def needed_fields(config: Mapping[str, Any]) -> list[str]:
    """Every field the configuration reads (the loader fetches only these)."""
    names = {config["censor_date"]}
    for spec in config["events"].values():
        names.update(v for k, v in spec.items() if k in ("indicator", "date"))
    for ep in config["endpoints"]:
        names.add(ep["start"])
        names.update(ep.get("population", {}))
    for sg in config.get("subgroups", []):
        if "field" in sg:
            names.add(sg["field"])
    for count in config.get("counts", []):
        names.update(count.get("where", {}))
        names.update(count.get("without", {}).get("where", {}))
    for row in config.get("table1", {}).get("rows", []):
        names.add(row["field"])
        names.update(row.get("age_from", []))
    return sorted(names)


def dataset_hash(record_hashes: Mapping[str, str]) -> str:
    text = "\n".join(f"{rid}:{digest}" for rid, digest in sorted(record_hashes.items()))
    return hashlib.sha256(text.encode()).hexdigest()


#: Each run's lines of dataset_hash's text, by its records' (id, digest): a lock changes one
#: run, so at the next recompute the other runs' text is not built again.
_HASH_BLOCKS: dict[tuple, bytes] = {}
#: How many runs' text the last runs_hash call built anew (read by tests: the reuse itself).
HASH_WORK = {"blocks_built": 0}


def runs_hash(record_runs: Iterable[Sequence[Any]]) -> str:
    """dataset_hash of the runs' records (objects with record_id and digest), hashed run by
    run: the same text when the ids ascend from run to run, as load_dataset orders them
    (otherwise dataset_hash is called as it is)."""
    record_runs = list(record_runs)
    blocks: dict[tuple, bytes] = {}
    digest = hashlib.sha256()
    held = b""  # the last block is hashed without its final newline (the text is joined)
    last_id = ""
    built = 0
    for run in record_runs:
        key = tuple((r.record_id, r.digest) for r in run)
        if not key:
            continue
        block = _HASH_BLOCKS.get(key)
        if block is None:
            if any(a[0] >= b[0] for a, b in zip(key, key[1:], strict=False)):
                return _plain_hash(record_runs)
            block = "".join(f"{rid}:{d}\n" for rid, d in key).encode()
            built += 1
        if key[0][0] <= last_id:
            return _plain_hash(record_runs)
        last_id = key[-1][0]
        blocks[key] = block
        digest.update(held)
        held = block
    digest.update(held[:-1])
    _HASH_BLOCKS.clear()
    _HASH_BLOCKS.update(blocks)
    HASH_WORK["blocks_built"] = built
    return digest.hexdigest()


def _plain_hash(record_runs: list[Sequence[Any]]) -> str:
    return dataset_hash({r.record_id: r.digest for run in record_runs for r in run})
