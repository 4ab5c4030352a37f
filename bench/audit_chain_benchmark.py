"""The price of the audit hash chain's serialisation: form saves per second straight against
PostgreSQL (the one-statement save of registry.services.fast_save, its audit triggers on), with
1 to 16 connections each saving its own record, on the real schema and on a throw-away copy whose
chain trigger does not take the chain's lock. Each audit event's hash covers the previous one, so
one writer at a time extends the chain and holds it until commit (the commit's WAL flush
included): this measures the ceiling that puts on saves, and what a chain sealed after commit
would lift. The copy is an experiment only; nothing in the registry runs without the lock.

    python bench/audit_chain_benchmark.py [--seconds 4] [--connections 1,2,4,8,16] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import uuid

from common import database_url, write_result

LOCK_LINE = "PERFORM pg_advisory_xact_lock(727201);"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--connections", default="1,2,4,8,16")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the two schemas")
    args = parser.parse_args()
    counts = [int(n) for n in args.connections.split(",")]
    import psycopg

    prefix = os.environ.get("BENCH_DB_PREFIX", "bench")
    chained = f"{prefix}_chain_{uuid.uuid4().hex[:8]}"
    unlocked = f"{chained}_nolock"
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{chained}"')
        try:
            rows, save_sql = _build(chained, max(counts))
            admin.execute(f'CREATE DATABASE "{unlocked}" TEMPLATE "{chained}"')
            _drop_chain_lock(unlocked)
            results: dict[str, dict[int, list]] = {"chain": {}, "no_lock": {}}
            for _ in range(args.rounds):
                for n in counts:
                    for label, name in (("chain", chained), ("no_lock", unlocked)):
                        measured = _saves(name, rows[:n], save_sql, args.seconds)
                        results[label].setdefault(n, []).append(measured)
                        print(
                            f"{label:8} {n:2} connections: {measured['saves_per_s']:7.0f} "
                            f"saves/s, PostgreSQL CPU {measured['cpu_ms_per_save']:.3f} ms a save"
                        )
        finally:
            for name in (unlocked, chained):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    write_result(
        "audit_chain",
        {
            "seconds": args.seconds,
            "rounds": args.rounds,
            "results": results,
            "chain_over_no_lock": {
                n: round(
                    max(r["saves_per_s"] for r in results["chain"][n])
                    / max(r["saves_per_s"] for r in results["no_lock"][n]),
                    3,
                )
                for n in counts
            },
        },
    )


def _build(name: str, records: int) -> tuple[list[tuple[int, int, dict]], str]:
    """The schema by the registry's own migrations, one centre, `records` records each with a
    pathology form; returns (row id, version, data) for each and the save statement."""
    os.environ["DATABASE_URL"] = database_url(name)
    os.environ.setdefault("DEBUG", "false")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from centers.models import Center, Membership, Role, User
    from registry.models import InstrumentData
    from registry.services.dictionary import import_default_dictionary
    from registry.services.fast_save import _SAVE
    from registry.services.records import create_record, save_instrument

    call_command("migrate", verbosity=0)
    version = import_default_dictionary()
    mil = Center.objects.create(code="MIL", name="Milano", city="Milano")
    user = User.objects.create_user("bench", first_name="B", last_name="N")
    Membership.objects.create(user=user, center=mil, role=Role.SITE_COORDINATOR)
    data = {"date_dx": "2010-03-04", "site_of_origin": "3", "tumour_size_mm": "20"}
    for _ in range(records):
        record = create_record(user=user, center=mil)
        save_instrument(
            user=user,
            record=record,
            instrument="diagnosis_pathology",
            instance=1,
            data=data,
            status=0,
            expected_version=None,
            dictionary_version=version,
        )
    rows = [
        (row.pk, row.version, row.data)
        for row in InstrumentData.objects.filter(instrument="diagnosis_pathology").order_by("pk")
    ]
    connections.close_all()
    return rows, _SAVE


def _drop_chain_lock(name: str) -> None:
    import psycopg

    with psycopg.connect(database_url(name), autocommit=True) as conn:
        (definition,) = conn.execute(
            "SELECT pg_get_functiondef('registry_audit_before_insert'::regproc)"
        ).fetchone()
        assert LOCK_LINE in definition, "the chain trigger no longer takes the lock this removes"
        conn.execute(definition.replace(LOCK_LINE, "-- no lock: experiment"))


def _saves(name: str, rows: list, save_sql: str, seconds: float) -> dict:
    """Each connection saves its own row in a loop (autocommit: one statement, one transaction)
    for `seconds`; saves per second and the backends' CPU per save (/proc, same host)."""
    import psycopg

    ticks = os.sysconf("SC_CLK_TCK")
    done = [0] * len(rows)
    cpu = [0.0] * len(rows)
    ready = threading.Barrier(len(rows) + 1)
    stop = [0.0]

    def backend_cpu(pid: int) -> float:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    def client(i: int) -> None:
        row_id, version, data = rows[i]
        with psycopg.connect(database_url(name), autocommit=True, prepare_threshold=0) as conn:
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            (version,) = conn.execute(
                "SELECT version FROM registry_instrumentdata WHERE id = %s", [row_id]
            ).fetchone()
            ready.wait()
            started, n = backend_cpu(pid), 0
            while time.monotonic() < stop[0]:
                changed = json.dumps(dict(data, tumour_size_mm=str(20 + n % 100)))
                params = ["1", "Bench", "", changed, 0, False, 1, 1, "2026-01-01T00:00:00Z"]
                (version,) = conn.execute(save_sql, [*params, row_id, version]).fetchone()
                n += 1
            done[i], cpu[i] = n, backend_cpu(pid) - started

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(rows))]
    for thread in threads:
        thread.start()
    stop[0] = time.monotonic() + seconds + 0.5  # set before the clients start their loops
    ready.wait()
    for thread in threads:
        thread.join()
    saves = sum(done)
    return {
        "connections": len(rows),
        "saves_per_s": round(saves / seconds, 1),
        "cpu_ms_per_save": round(1000 * sum(cpu) / max(saves, 1), 3),
    }


if __name__ == "__main__":
    main()
