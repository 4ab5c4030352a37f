"""Pooled analytics benchmark: lock -> snapshot latency with a real Celery worker and Redis,
recompute time split (loading vs statistics vs lifelines alone), dashboard time from a stored
snapshot, at 33, 1,000, 10,000 and 100,000 locked records.

    .venv/bin/python bench/analytics_benchmark.py [--sizes 33,1000,10000,100000]

Each size gets a fresh database (migrated by the owner). The synthetic locked records are
bulk-loaded with COPY (records and instrument data with triggers bypassed by the owner,
`session_replication_role = replica`, so the audit trail of the bulk load is not written; then
signatures and `is_locked = true` with the integrity triggers on). The measured locks go the
production way: `lock_record` in the app (signature, triggers, outbox row), the task sent by
name to Redis after commit, a real worker (`--pool solo`) computing and storing the snapshot.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))  # also when the app imports bench.analytics_benchmark
from common import database_url, km_fits_ms, km_fits_passes_ms  # noqa: E402

BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/6")
EXTRA = 4  # records locked through the services: one warm-up lock, three measured locks
MEANING = "I reviewed this record and approve it as complete and accurate."


def _env(db: str) -> dict:
    return dict(
        os.environ,
        DATABASE_URL=database_url(db),
        CELERY_BROKER_URL=BROKER,
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_TEST_FAST_HASHER="1",
        DEBUG="false",  # as production (with DEBUG, Django keeps every statement a worker runs)
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )


def _manage(db: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_env(db),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-4000:])
    return done.stdout


def _in_app(db: str, call: str) -> dict:
    out = _manage(db, "shell", "-c", f"import bench.analytics_benchmark as b; b.{call}")
    return json.loads(out.strip().splitlines()[-1])


# --- inside the app (run through manage.py shell) ---------------------------------------------


def app_setup() -> None:
    from centers.models import Center, Membership, Role, User
    from registry.services.demo import CENTERS
    from registry.services.dictionary import import_default_dictionary

    version = import_default_dictionary()
    for code, (name, city) in CENTERS.items():
        center = Center.objects.create(code=code, name=name, city=city)
        user = User.objects.create_user(
            f"investigator-{code.lower()}",
            password="bench-pass",
            first_name="Investigator",
            last_name=code,
        )
        Membership.objects.create(user=user, center=center, role=Role.SITE_INVESTIGATOR)
    pi = User.objects.create_user("pi", password="bench-pass")
    Membership.objects.create(user=pi, center=None, role=Role.PRINCIPAL_INVESTIGATOR)
    print(json.dumps({"dictionary": version.pk}))


def app_extra_records() -> None:
    """EXTRA complete, unlocked records entered through the services (to be locked later)."""
    from centers.models import Center, User
    from registry.demo import build_cohort
    from registry.entry import clean_instrument
    from registry.models import DictionaryVersion
    from registry.services.records import create_record, record_values, save_instrument

    version = DictionaryVersion.objects.current()
    patients = [p for p in build_cohort(99) if p.lock and p.complete][:EXTRA]
    ids = []
    for patient in patients:
        user = User.objects.get(username=f"investigator-{patient.center.lower()}")
        record = create_record(user=user, center=Center.objects.get(code=patient.center))
        for form, _label in version.dictionary.forms:
            for instance, values in enumerate(patient.forms.get(form, []), start=1):
                cleaned = clean_instrument(
                    dictionary=version.dictionary,
                    instrument=form,
                    submitted=values,
                    context=record_values(record),
                    status=2,
                    missing_codes=version.missing_code_values,
                )
                save_instrument(
                    user=user,
                    record=record,
                    instrument=form,
                    instance=instance,
                    data=cleaned.data,
                    status=2,
                    expected_version=None,
                    dictionary_version=version,
                )
        ids.append(record.record_id)
    print(json.dumps({"records": ids}))


def app_initial_snapshot() -> None:
    from analytics.services import compute_snapshot

    snapshot = compute_snapshot()
    print(
        json.dumps(
            {
                "version": snapshot.dataset_version,
                "n": snapshot.n_locked_records,
                "load_ms": snapshot.load_ms,
                "statistics_ms": snapshot.statistics_ms,
            }
        )
    )


def app_measure(record_ids: list[str]) -> None:
    """Lock each record through the services; time until the worker's snapshot is stored and
    until the dashboard shows it. Then dashboard timings and lifelines alone."""
    from django.test import Client

    from analytics.models import (
        SnapshotDataset,
        SnapshotDetail,
        SnapshotPaper,
        StatisticsSnapshot,
    )
    from centers.models import User
    from registry.models import DictionaryVersion, LockOutbox, Record
    from registry.services.locking import lock_record

    version = DictionaryVersion.objects.current()
    client = Client()
    client.force_login(User.objects.get(username="pi"))
    client.get("/analytics/")  # warm the process (imports, templates)
    _shell_headline_ms()  # this process's own derived cache, loaded cold here (not timed)
    locks = []
    for rid in record_ids:
        record = Record.objects.get(record_id=rid)
        user = User.objects.get(username=f"investigator-{record.center.code.lower()}")
        started = time.perf_counter()
        lock_record(
            user=user,
            record=record,
            password="bench-pass",
            meaning=MEANING,
            dictionary_version=version,
        )
        returned = time.perf_counter()  # committed, and the task sent to Redis
        target = LockOutbox.objects.order_by("-dataset_version").first().dataset_version
        while not StatisticsSnapshot.objects.filter(dataset_version=target).exists():
            time.sleep(0.005)
        stored = time.perf_counter()
        while f"As of dataset version {target}," not in client.get("/analytics/").content.decode():
            time.sleep(0.005)
        shown = time.perf_counter()
        # The paper's tables, Cox models and subgroup curves follow as later tasks; wait so
        # that the next lock measures an idle worker (a solo worker would otherwise queue it
        # behind them).
        stages = (SnapshotDataset, SnapshotPaper, SnapshotDetail)
        while not all(m.objects.filter(snapshot__dataset_version=target).exists() for m in stages):
            if time.perf_counter() - shown > 600:
                break
            time.sleep(0.02)
        detailed = time.perf_counter()
        # The references, paired with this lock and timed while the worker is idle: the
        # same headline computed in this process (warm, one pass, as the worker's), and
        # lifelines' own fits of this snapshot's arrays (three passes).
        shell_ms = _shell_headline_ms()
        fits = km_fits_passes_ms(
            _lifelines_arrays(StatisticsSnapshot.objects.get(dataset_version=target))
        )
        snap = StatisticsSnapshot.objects.only(
            "load_ms", "statistics_ms", "duration_ms", "n_locked_records"
        ).get(dataset_version=target)
        later = {
            m.__name__: m.objects.filter(snapshot=snap)
            .values_list("duration_ms", flat=True)
            .first()
            for m in stages
        }
        locks.append(
            {
                "lock_call_ms": 1000 * (returned - started),
                "lock_to_snapshot_ms": 1000 * (stored - started),
                "lock_to_dashboard_ms": 1000 * (shown - started),
                "worker_load_ms": snap.load_ms,
                "worker_statistics_ms": snap.statistics_ms,
                "worker_total_ms": snap.duration_ms,
                "n_locked": snap.n_locked_records,
                "snapshot_to_all_stages_ms": 1000 * (detailed - stored),
                "lock_to_all_stages_ms": 1000 * (detailed - started),
                "dataset_stage_ms": later["SnapshotDataset"],
                "paper_stage_ms": later["SnapshotPaper"],
                "details_stage_ms": later["SnapshotDetail"],
                "shell_statistics_ms": shell_ms,
                "lifelines_passes_ms": fits,
            }
        )
    page = _timings(client, "/analytics/", 20)
    summary = _timings(client, "/analytics/summary.json", 20)
    latest = StatisticsSnapshot.objects.latest()
    started = time.perf_counter()
    client.get(f"/analytics/figures/v{latest.dataset_version}/os_by_stage.svg?inline=1")
    figure_cold = 1000 * (time.perf_counter() - started)
    print(
        json.dumps(
            {
                "locks": locks,
                "dashboard_ms": page,
                "summary_json_ms": summary,
                "figure_os_by_stage_first_render_ms": figure_cold,
                "lifelines_alone_ms": _lifelines_alone(latest),
                "statistics_ms": latest.statistics_ms,
                "load_ms": latest.load_ms,
            }
        )
    )


def _timings(client, url: str, n: int) -> dict:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        times.append(1000 * (time.perf_counter() - started))
    return {"median": statistics.median(times), "max": max(times)}


def _shell_headline_ms() -> float:
    """The worker's `statistics_ms` stage (runs, compute_headline) in this process, on the
    dataset as it is now, after loading it (incrementally, this process's own cache)."""
    from analytics.columns import runs
    from analytics.services import compute_headline, load_dataset

    loaded = load_dataset()
    started = time.perf_counter()
    # (code from before the loader kept the runs walks them here, as its worker did)
    record_runs = loaded.runs() if hasattr(loaded, "runs") else list(runs(loaded.records))
    compute_headline(loaded, record_runs=record_runs)
    return 1000 * (time.perf_counter() - started)


def _lifelines_alone(snapshot) -> float:
    """The same Kaplan-Meier fits the snapshot makes (every endpoint overall, OS by stage),
    lifelines only, on in-memory numpy arrays (best of three)."""
    return km_fits_ms(_lifelines_arrays(snapshot))


def _lifelines_arrays(snapshot) -> list:
    import numpy as np

    from analytics.analysis_dataset import read_analysis_dataset

    rows = read_analysis_dataset(snapshot)
    fits = []
    for endpoint in {r["endpoint"] for r in rows}:
        sub = [r for r in rows if r["endpoint"] == endpoint]
        fits.append(sub)
        if endpoint == "os":
            for level in {r["stage"] for r in sub if r["stage"]}:
                fits.append([r for r in sub if r["stage"] == level])
    return [
        (np.array([float(r["time_months"]) for r in f]), np.array([int(r["event"]) for r in f]))
        for f in fits
    ]


# --- outside the app: bulk load, worker ----------------------------------------------------------


def bulk_load(db: str, n: int) -> None:
    """n synthetic locked records (build_cohort blocks of 33), as COPY; see the module doc."""
    import psycopg

    from registry.demo import build_cohort

    with psycopg.connect(database_url(db), autocommit=False) as conn:
        centers = dict(conn.execute("SELECT code, id FROM centers_center").fetchall())
        signers = dict(
            conn.execute(
                "SELECT last_name, id FROM centers_user WHERE username LIKE 'investigator-%'"
            ).fetchall()
        )
        dictionary = conn.execute("SELECT max(id) FROM registry_dictionaryversion").fetchone()[0]
        now = datetime.now(UTC)
        seq: dict[str, int] = {}
        records, instruments, signatures = [], [], []
        block: list = []
        for i in range(n):
            if i % 30 == 0:  # complete patients only: an incomplete record cannot be locked
                block = [p for p in build_cohort(1000 + i // 30) if p.complete]
            patient = block[i % 30]
            code = patient.center
            seq[code] = seq.get(code, 0) + 1
            rid = i + 1
            record_id = f"{code}-{seq[code]:06d}"
            records.append((rid, record_id, seq[code], False, True, now, now, centers[code]))
            rows = []
            for form, instances in patient.forms.items():
                for number, values in enumerate(instances, start=1):
                    rows.append(
                        {"instrument": form, "instance": number, "status": 2, "data": values}
                    )
                    instruments.append(
                        (form, number, json.dumps(values), 2, True, 1, now, dictionary, rid, False)
                    )
            rows.sort(key=lambda r: (r["instrument"], r["instance"]))
            content = json.dumps(
                {
                    "record_id": record_id,
                    "center_id": centers[code],
                    "instruments": rows,
                    "signer_id": signers[code],
                    "signer_name": f"Investigator {code}",
                    "meaning": MEANING,
                    "signed_at": now.isoformat(timespec="microseconds"),
                },
                sort_keys=True,
                separators=(",", ":"),
                ensure_ascii=False,
            ).encode()
            signatures.append(
                (
                    f"Investigator {code}",
                    MEANING,
                    now,
                    hashlib.sha256(content).hexdigest(),
                    "",
                    rid,
                    signers[code],
                )
            )
        with conn.cursor() as cur:
            cur.execute("SET session_replication_role = replica")
            with cur.copy(
                "COPY registry_record (id, record_id, sequence, is_locked, synthetic, "
                "created_at, updated_at, center_id) FROM STDIN"
            ) as copy:
                for row in records:
                    copy.write_row(row)
            with cur.copy(
                "COPY registry_instrumentdata (instrument, instance, data, status, "
                "ever_completed, version, updated_at, dictionary_version_id, "
                "record_id, is_locked) FROM STDIN"
            ) as copy:
                for row in instruments:
                    copy.write_row(row)
            cur.execute("SET session_replication_role = origin")
            with cur.copy(
                "COPY registry_signature (signer_name, meaning, signed_at, "
                "content_sha256, void_reason, record_id, signer_id) FROM STDIN"
            ) as copy:
                for row in signatures:
                    copy.write_row(row)
            cur.execute("UPDATE registry_record SET is_locked = true, locked_at = %s", [now])
            cur.execute("SELECT setval(pg_get_serial_sequence('registry_record', 'id'), %s)", [n])
            for code, last in seq.items():
                cur.execute(
                    "INSERT INTO registry_recordcounter (center_id, last_number) VALUES (%s, %s)",
                    [centers[code], last],
                )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def start_worker(db: str, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "-n",
            f"bench-{db}@%h",
        ],
        cwd=ROOT,
        env=_env(db),
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    for _ in range(600):
        if "ready." in log.read_text():
            return proc
        if proc.poll() is not None:
            raise RuntimeError(log.read_text()[-3000:])
        time.sleep(0.1)
    raise RuntimeError("worker did not start")


def run_size(n: int) -> dict:
    import psycopg
    import redis

    db = f"{os.environ.get('BENCH_DB_PREFIX', 'bench')}_analytics_{n}"
    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    redis.Redis.from_url(BROKER).flushdb()
    _manage(db, "migrate", "--noinput")
    _in_app(db, "app_setup()")
    started = time.perf_counter()
    bulk_load(db, n - EXTRA)
    load_s = time.perf_counter() - started
    extra = _in_app(db, "app_extra_records()")["records"]
    initial = _in_app(db, "app_initial_snapshot()")
    worker = start_worker(db, Path(f"/tmp/{db}-worker.log"))
    try:
        measured = _in_app(db, f"app_measure({extra!r})")
    finally:
        worker.terminate()
        worker.wait(30)
    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    timed = measured["locks"][1:]  # the first lock warms the worker up
    return {
        "locked_records": n,
        "bulk_load_s": round(load_s, 1),
        "initial_snapshot": initial,
        "lock_to_snapshot_ms": [round(x["lock_to_snapshot_ms"]) for x in timed],
        "lock_to_dashboard_ms": [round(x["lock_to_dashboard_ms"]) for x in timed],
        "lock_call_ms": [round(x["lock_call_ms"]) for x in timed],
        "worker_load_ms": [x["worker_load_ms"] for x in timed],
        # The headline stage: what a lock waits for before the dashboard shows it.
        "worker_statistics_ms": [x["worker_statistics_ms"] for x in timed],
        # The later tasks, each with its own incremental load of the locked dataset. Headline
        # + paper is what the first task computed before the split (Cox models were apart).
        # Storing the records' hashes and the analysis dataset, after the snapshot (same task).
        "dataset_stage_ms": [x["dataset_stage_ms"] for x in timed],
        "paper_stage_ms": [x["paper_stage_ms"] for x in timed],
        "details_stage_ms": [x["details_stage_ms"] for x in timed],
        "worker_all_stages_ms": [
            x["worker_statistics_ms"] + (x["paper_stage_ms"] or 0) + (x["details_stage_ms"] or 0)
            for x in timed
        ],
        "snapshot_to_all_stages_ms": [round(x["snapshot_to_all_stages_ms"]) for x in timed],
        "lock_to_all_stages_ms": [round(x["lock_to_all_stages_ms"]) for x in timed],
        "lifelines_alone_ms": round(measured["lifelines_alone_ms"]),
        # Paired with each lock (after its stages, worker idle): lifelines' three passes on
        # that snapshot's arrays, and the same headline stage computed in the benchmark's own
        # process. Each worker figure over the median pass of its own lock.
        "lifelines_passes_ms": [[round(p) for p in x["lifelines_passes_ms"]] for x in timed],
        "shell_statistics_ms": [round(x["shell_statistics_ms"]) for x in timed],
        "worker_over_paired_lifelines": [
            round(x["worker_statistics_ms"] / statistics.median(x["lifelines_passes_ms"]), 2)
            for x in timed
        ],
        "shell_over_paired_lifelines": [
            round(x["shell_statistics_ms"] / statistics.median(x["lifelines_passes_ms"]), 2)
            for x in timed
        ],
        "statistics_over_lifelines": round(
            measured["statistics_ms"] / max(measured["lifelines_alone_ms"], 1e-3), 2
        ),
        "headline_over_lifelines": [
            round(x["worker_statistics_ms"] / max(measured["lifelines_alone_ms"], 1e-3), 2)
            for x in timed
        ],
        "headline_and_paper_over_lifelines": [
            round(
                (x["worker_statistics_ms"] + (x["paper_stage_ms"] or 0))
                / max(measured["lifelines_alone_ms"], 1e-3),
                2,
            )
            for x in timed
        ],
        "dashboard_ms": {k: round(v, 1) for k, v in measured["dashboard_ms"].items()},
        "summary_json_ms": {k: round(v, 1) for k, v in measured["summary_json_ms"].items()},
        "figure_first_render_ms": round(measured["figure_os_by_stage_first_render_ms"]),
        "warmup_lock": measured["locks"][0],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="33,1000,10000,100000")
    args = parser.parse_args()
    from bench.common import machine

    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        result = run_size(n)
        print(json.dumps(result), flush=True)
        results.append(result)
    out = ROOT / "bench" / "results" / "analytics.json"
    out.parent.mkdir(exist_ok=True)
    earlier = json.loads(out.read_text())["results"] if out.exists() else []
    sizes = {r["locked_records"] for r in results}
    merged = sorted(
        [r for r in earlier if r["locked_records"] not in sizes] + results,
        key=lambda r: r["locked_records"],
    )
    out.write_text(
        json.dumps(
            {
                "benchmark": "analytics",
                "machine": machine(),
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "results": merged,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
