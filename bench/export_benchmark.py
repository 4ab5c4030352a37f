"""Streaming export benchmark: the registry's flat CSV export against PostgreSQL's own
``COPY (SELECT ...) TO STDOUT`` of the same rows, from the same tables, in the same run.

    .venv/bin/python bench/export_benchmark.py --records 10000
    .venv/bin/python bench/export_benchmark.py --records 100000

Creates a fresh database (bench_export_<n>), migrates it, loads the GI-LMS dictionary and
<n> synthetic locked records with COPY (services bypassed; triggers stay on, so the audit trail
is written and each record gets a real signature row before it is locked), then measures, in a
fresh child process each: the export (rows/s, peak RSS growth sampled every 20 ms) and the COPY.
DATABASE_URL names the server (default: the embedded PostgreSQL, as the app).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _db_url(name: str) -> str:
    from common import database_url

    return database_url(name)


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRss:
    def __init__(self) -> None:
        self.base = _rss_mb()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_mb())
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def _setup_django(db: str) -> None:
    os.environ["DATABASE_URL"] = _db_url(db)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["CELERY_BROKER_URL"] = ""
    os.environ["REDIS_URL"] = ""
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def create_database(db: str, records: int) -> dict:
    import psycopg

    with psycopg.connect(_db_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    env = dict(os.environ, DATABASE_URL=_db_url(db), CELERY_BROKER_URL="", REDIS_URL="")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, "--child", "load", "--db", db, "--records", str(records)],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return {"load_seconds": round(time.perf_counter() - started, 1)}


def measure_export(db: str, out_dir: str) -> dict:
    _setup_django(db)
    from centers.models import User
    from registry.exports.csvfile import write_flat_csv
    from registry.exports.options import ExportOptions
    from registry.exports.rows import RowBuilder
    from registry.exports.stream import export_records, iter_bundles
    from registry.services.dictionary import current_dictionary_version

    user = User.objects.get(username="bench-dm")
    options = ExportOptions()
    builder = RowBuilder(current_dictionary_version(), options)
    records = export_records(user, locked_only=True)
    path = Path(out_dir) / "export.csv"
    with PeakRss() as rss:
        started = time.perf_counter()
        with path.open("w", encoding="utf-8", newline="", buffering=1 << 20) as out:
            counts = write_flat_csv(out, iter_bundles(records), builder, options)
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "rows": counts.rows,
        "records": counts.records,
        "rows_per_s": round(counts.rows / seconds),
        "columns": len(builder.columns),
        "bytes": path.stat().st_size,
        "rss_base_mb": round(rss.base, 1),
        "rss_growth_mb": round(rss.peak - rss.base, 1),
        "signatures_valid": sum(1 for v in counts.signatures.values() if v == "valid"),
    }


def measure_bundle(db: str, out_dir: str) -> dict:
    """The whole zip as the web page builds it (CSV, dictionary, R script, manifest), and
    separately the SPSS/Stata files (built in memory by pyreadstat)."""
    _setup_django(db)
    from centers.models import User
    from registry.exports.options import ExportOptions
    from registry.exports.statfiles import STATFILE_MAX_ROWS
    from registry.models import Record

    user = User.objects.get(username="bench-dm")
    result = {}
    for label, formats in (
        ("zip_csv_dictionary_r", ("csv", "dictionary", "r")),
        ("zip_with_sav_dta", ("csv", "spss", "stata")),
    ):
        result[label] = _bundle(user, Path(out_dir) / label, ExportOptions(formats=formats))
    # At the cap: as many records as fit under STATFILE_MAX_ROWS (about 2.05 rows a record).
    ids = tuple(
        Record.objects.filter(is_locked=True)
        .order_by("record_id")
        .values_list("record_id", flat=True)[: int(STATFILE_MAX_ROWS / 2.1)]
    )
    options = ExportOptions(formats=("csv", "spss", "stata"), records=ids)
    result["zip_with_sav_dta_at_cap"] = {
        "records": len(ids),
        **_bundle(user, Path(out_dir) / "at_cap", options),
    }
    return result


def _bundle(user, target: Path, options) -> dict:
    import shutil

    from registry.exports.build import build_export
    from registry.exports.statfiles import StatFileTooLarge

    shutil.rmtree(target, ignore_errors=True)
    refused = ""
    with PeakRss() as rss:
        started = time.perf_counter()
        try:
            result = build_export(user=user, options=options, directory=target)
        except StatFileTooLarge as exc:
            refused, result = str(exc), None
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "rss_growth_mb": round(rss.peak - rss.base, 1),
        **({"rows": result.manifest["rows"]} if result else {"refused": refused}),
    }


def measure_copy(db: str, out_dir: str) -> dict:
    _setup_django(db)
    from django.db import connection

    from registry.exports.options import ExportOptions
    from registry.exports.rows import RowBuilder
    from registry.services.dictionary import current_dictionary_version

    builder = RowBuilder(current_dictionary_version(), ExportOptions())
    sql = copy_sql(builder)
    path = Path(out_dir) / "copy.csv"
    connection.ensure_connection()
    raw = connection.connection
    with PeakRss() as rss:
        started = time.perf_counter()
        with path.open("wb") as out, raw.cursor() as cur:
            with cur.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
                for block in copy:
                    out.write(block)
        seconds = time.perf_counter() - started
    lines = sum(1 for _ in path.open("rb")) - 1
    return {
        "seconds": round(seconds, 2),
        "rows": lines,
        "rows_per_s": round(lines / seconds),
        "bytes": path.stat().st_size,
        "rss_growth_mb": round(rss.peak - rss.base, 1),
    }


def copy_sql(builder) -> str:
    """The same rows in SQL: non-repeating forms pivoted per record (one JSONB extraction per
    column), plus one row per repeating instance; ordered like the export."""
    repeating = sorted(builder.repeating)
    rep = ", ".join(f"'{f}'" for f in repeating)
    base_cols, rep_cols = [], []
    for c in builder.columns[4:]:
        form = c.form
        if c.kind == "value":
            expr = f"i.data->>'{c.name}'"
        elif c.kind == "checkbox":
            expr = f"CASE WHEN i.data->'{c.field.name}' ? '{c.code}' THEN '1' ELSE '0' END"
        else:
            expr = "i.status::text"
        if form in builder.repeating:
            base_cols.append("NULL")
            rep_cols.append(f"CASE WHEN i.instrument = '{form}' THEN {expr} END")
        else:
            base_cols.append(f"max({expr}) FILTER (WHERE i.instrument = '{form}')")
            rep_cols.append("NULL")
    scope = (
        "FROM registry_record r JOIN centers_center c ON c.id = r.center_id "
        "JOIN registry_instrumentdata i ON i.record_id = r.id AND i.deleted_at IS NULL "
        "WHERE r.is_locked AND r.deleted_at IS NULL"
    )
    return (
        f"SELECT r.record_id COLLATE \"C\" AS rid, '' AS form, NULL::int AS inst, "
        f"lower(c.code), {', '.join(base_cols)} {scope} AND i.instrument NOT IN ({rep}) "
        f"GROUP BY r.id, r.record_id, c.code "
        f'UNION ALL SELECT r.record_id COLLATE "C", i.instrument, i.instance, lower(c.code), '
        f"{', '.join(rep_cols)} {scope} AND i.instrument IN ({rep}) ORDER BY 1, 2, 3"
    )


def child(kind: str, db: str, out_dir: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--db", db, "--out", out_dir],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--keep", action="store_true", help="reuse an existing bench database")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=["export", "copy", "load", "bundle"])
    parser.add_argument("--bundle", action="store_true", help="also time the whole zip")
    parser.add_argument("--db")
    parser.add_argument("--out", default="/tmp/export_bench")
    args = parser.parse_args()
    if args.child == "load":
        from bench.export_bench_data import load

        _setup_django(args.db)
        load(args.records)
        return
    if args.child:
        fn = {"export": measure_export, "copy": measure_copy, "bundle": measure_bundle}[args.child]
        print(json.dumps(fn(args.db, args.out)))
        return
    db = f"{os.environ.get('BENCH_DB_PREFIX', 'bench')}_export_{args.records}"
    Path(args.out).mkdir(parents=True, exist_ok=True)
    load = {} if args.keep else create_database(db, args.records)
    exports, copies = [], []
    for _ in range(args.repeat):  # alternated, each in a fresh process; the best of each
        copies.append(child("copy", db, args.out))
        exports.append(child("export", db, args.out))
    export = min(exports, key=lambda r: r["seconds"])
    copy = min(copies, key=lambda r: r["seconds"])
    report = {
        "records": args.records,
        **load,
        "export": export,
        "copy": copy,
        "export_seconds_all": [r["seconds"] for r in exports],
        "copy_seconds_all": [r["seconds"] for r in copies],
        "export_rss_growth_mb_max": max(r["rss_growth_mb"] for r in exports),
        "export_over_copy": round(export["seconds"] / copy["seconds"], 2),
    }
    if args.bundle:
        report["bundle"] = child("bundle", db, args.out)
    from bench.common import write_result

    write_result(f"export_{args.records}", report)


if __name__ == "__main__":
    main()
