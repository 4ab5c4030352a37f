"""Profile the pooled statistics recompute in-process, without a database: synthetic locked
records as bench/analytics_benchmark.py builds them, derived as the worker derives them, timed
against lifelines' own Kaplan-Meier fits. Two figures: the headline stage (what a lock waits
for before the dashboard shows it, analytics.services.compute_headline) and every stage
(compute_statistics: the headline plus the paper's tables of the later task).

    PYTHONPATH=. .venv/bin/python bench/analytics_profile.py --sizes 1000,10000 \
        [--profile [--stage headline|all]]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import km_fits_ms  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def loaded_dataset(n: int):
    """A LoadedDataset of n synthetic complete records (blocks of build_cohort, as the
    benchmark's bulk load), with an unsaved dictionary version."""
    from analytics.config import resolve_config
    from analytics.derived import derive_record
    from analytics.endpoints import Patient
    from analytics.services import LoadedDataset, choice_labels
    from registry.demo import build_cohort
    from registry.dictionary import gi_lms_dictionary_csv, gi_lms_project, parse_dictionary_csv
    from registry.models import DictionaryVersion
    from registry.services.dictionary import DEFAULT_ANALYSIS

    dictionary = DictionaryVersion(
        number=1,
        fields=parse_dictionary_csv(gi_lms_dictionary_csv()).to_json(),
        project=gi_lms_project(),
        analysis={"profile": DEFAULT_ANALYSIS},
    )
    config = resolve_config(dictionary.analysis)
    labels = choice_labels(dictionary)
    missing = set(dictionary.missing_code_values)
    repeating = set(dictionary.repeating_instruments)
    records = []
    block: list = []
    for i in range(n):
        if i % 30 == 0:
            block = [p for p in build_cohort(1000 + i // 30) if p.complete]
        synthetic = block[i % 30]
        values: dict = {}
        instances: dict = {}
        for form, rows in sorted(synthetic.forms.items()):
            for row in rows:
                if form in repeating:
                    instances.setdefault(form, []).append(dict(row))
                else:
                    values.update(row)
        record_id = f"{synthetic.center}-{i + 1:06d}"
        patient = Patient(record_id, synthetic.center, values, instances)
        records.append(derive_record(patient, f"{i:064x}", config, labels, missing))
    records.sort(key=lambda r: r.record_id)
    return LoadedDataset(1, None, dictionary, config, records)


def lifelines_alone(loaded) -> float:
    """The benchmark's `lifelines_alone_ms` (every endpoint overall, OS by stage), best of 3."""
    import numpy as np

    from analytics.endpoints import Observation

    fits = []
    for endpoint in {k for r in loaded.records for k in r.outcomes}:
        sub = [r for r in loaded.records if isinstance(r.outcomes.get(endpoint), Observation)]
        fits.append([r.outcomes[endpoint] for r in sub])
        if endpoint == "os":
            for level in {r.groups.get("stage") for r in sub if r.groups.get("stage")}:
                fits.append([r.outcomes[endpoint] for r in sub if r.groups.get("stage") == level])
    arrays = [(np.array([o.time_months for o in f]), np.array([o.event for o in f])) for f in fits]
    return km_fits_ms(arrays)


def change(loaded, selection: list) -> tuple[list, list]:
    """(added, removed) (record id, record) pairs from loaded's records to the selection: what
    the worker's load finds from the members it reads."""
    now = {r.record_id: r for r in selection}
    before = {r.record_id: r for r in loaded.records} if loaded.record_runs else {}
    return (
        [(k, r) for k, r in now.items() if k not in before],
        [(k, r) for k, r in before.items() if k not in now],
    )


def select(loaded, kept, selection: list, added: list, removed: list) -> None:
    """The selection as loaded's records, with its runs kept as the worker's load keeps them."""
    loaded.record_runs = kept.update(added, removed)
    loaded.records = selection


def main() -> None:
    import django

    django.setup()
    from analytics.columns import RecordRuns
    from analytics.services import compute_headline, compute_statistics

    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--stage", choices=("headline", "all"), default="headline")
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args()
    for n in (int(s) for s in args.sizes.split(",")):
        full = loaded_dataset(n)
        records = full.records
        # The records kept in runs as the worker's DerivedCache keeps them; keeping them up to
        # date (the worker does that while loading) is counted in the figures here.
        kept = RecordRuns()

        # as after each lock: one more record than the last recompute (per-content caches miss
        # where the new record is)
        select(full, kept, records[:-5], *change(full, records[:-5]))
        compute_statistics(full)  # warm: imports, caches, as a worker after its first lock
        figures = {}
        for name, stage, extras in (
            ("headline", compute_headline, (4, 3)),
            ("all stages", compute_statistics, (2, 1)),
        ):
            times = []
            for extra in extras:
                selection = records[:-extra]
                delta = change(full, selection)
                started = time.perf_counter()
                select(full, kept, selection, *delta)
                stage(full)
                times.append(1000 * (time.perf_counter() - started))
            figures[name] = min(times)
        select(full, kept, records, *change(full, records))
        loaded = full
        alone = lifelines_alone(loaded)
        print(
            f"n={n}: lifelines alone {alone:.0f} ms; "
            + "; ".join(f"{name} {ms:.0f} ms ({ms / alone:.1f}x)" for name, ms in figures.items()),
            flush=True,
        )
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            (compute_headline if args.stage == "headline" else compute_statistics)(loaded)
            profiler.disable()
            stats = pstats.Stats(profiler).sort_stats("cumulative")
            stats.print_stats(args.top)


if __name__ == "__main__":
    main()
