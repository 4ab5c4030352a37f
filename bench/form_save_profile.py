"""Where one form save's time goes, in-process: the statements it runs (with their SQL) and the
Python time per save, through Django's test client against a fresh database. Complements
form_save_benchmark.py (throughput under load); use with py-spy for a flame graph:

    python bench/form_save_profile.py [--saves 300] [--sql] [--cprofile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
import uuid

from common import database_url

SETUP_PASSWORD = "bench-password-123"  # noqa: S105 - a throw-away benchmark user


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--sql", action="store_true", help="print one save's statements")
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args()
    import psycopg

    prefix = os.environ.get("BENCH_DB_PREFIX", "bench")
    name = f"{prefix}_profile_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = database_url(name)
    try:
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(args) -> None:
    os.environ.setdefault("DJANGO_TEST_FAST_HASHER", "1")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    from centers.models import Center, Membership, Role, User
    from registry.services.dictionary import import_default_dictionary
    from registry.services.records import create_record

    import_default_dictionary()
    mil = Center.objects.create(code="MIL", name="Milano", city="Milano")
    user = User.objects.create_user("bench", password=SETUP_PASSWORD, first_name="B")
    Membership.objects.create(user=user, center=mil, role=Role.SITE_COORDINATOR)
    record = create_record(user=user, center=mil)
    client = Client()
    client.force_login(user)
    url = f"/records/{record.record_id}/diagnosis_pathology/1/"
    client.get(url)
    state = {"version": 0, "n": 0}

    def save() -> None:
        state["n"] += 1
        n = state["n"]
        response = client.post(
            url,
            {
                "__version": state["version"],
                "__status": "0",
                "action": "stay",
                "date_dx": "04/03/2010",
                "site_of_origin": "3",
                "tumour_size_mm": str(20 + n % 100),
                "fnclcc_grade": "3",
                "mitotic_count": str(n % 50),
                "kit_cd117": "2",
                "path_review_confirmed": "1",
                "path_review_date": "01/04/2010",
            },
        )
        assert response.status_code == 302, response.status_code
        client.cookies.pop("messages", None)
        state["version"] += 1

    for _ in range(20):
        save()
    with CaptureQueriesContext(connection) as queries:
        save()
    print(f"statements per save: {len(queries)}")
    if args.sql:
        for q in queries:
            print(f"  {q['time']}s  {q['sql'][:300]}")
    profiler = cProfile.Profile() if args.cprofile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    for _ in range(args.saves):
        save()
    if profiler:
        profiler.disable()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    # CPU time of this process (Django's side) is steadier than the wall clock on a shared machine.
    print(
        f"{args.saves} saves: {elapsed * 1000 / args.saves:.2f} ms per save (one client), "
        f"{cpu * 1000 / args.saves:.2f} ms CPU"
    )
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.saves):
        client.get("/healthz/")
    healthz, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"/healthz/: {healthz * 1000 / args.saves:.2f} ms per request, "
        f"{cpu * 1000 / args.saves:.2f} ms CPU"
    )
    if profiler:
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats(os.environ.get("SORT", "cumulative")).print_stats(40)


if __name__ == "__main__":
    main()
