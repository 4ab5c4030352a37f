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
from urllib.parse import urlencode

from common import database_url

SETUP_PASSWORD = "bench-password-123"  # noqa: S105 - a throw-away benchmark user


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--sql", action="store_true", help="print one save's statements")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument(
        "--steps", action="store_true", help="time each step of a save alone (and its guarantee)"
    )
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
        if os.environ.get("KEEP_DB"):  # to explore the statements by hand afterwards
            print(f"kept database {name}")
        else:
            with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(args) -> None:
    os.environ.setdefault("DJANGO_TEST_FAST_HASHER", "1")
    os.environ.setdefault("DEBUG", "false")  # as production; CaptureQueriesContext still works
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
    # e.g. LANGUAGE=it: the pages and the dictionary in Italian, as the centres read them
    client = Client(headers={"accept-language": os.environ.get("LANGUAGE", "en")})
    client.force_login(user)
    url = f"/records/{record.record_id}/diagnosis_pathology/1/"
    client.get(url)
    state = {"version": 0, "n": 0}

    def save() -> None:
        state["n"] += 1
        n = state["n"]
        # Urlencoded, as a browser posts this form (and as form_save_benchmark.py does).
        response = client.post(
            url,
            urlencode(
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
                }
            ),
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 302, response.status_code
        client.cookies.pop("messages", None)
        state["version"] += 1

    for _ in range(20):
        save()
    if args.steps:
        steps(args.saves, client, save, user, record, url)
        return
    with CaptureQueriesContext(connection) as queries:
        save()
    print(f"statements per save: {len(queries)}")
    if args.sql:
        for q in queries:
            print(f"  {q['time']}s  {q['sql'][:300]}")
    profiler = cProfile.Profile() if args.cprofile else None
    backend = _backend_cpu_reader(connection)
    backend_cpu = backend()
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    for _ in range(args.saves):
        save()
    if profiler:
        profiler.disable()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    backend_cpu = backend() - backend_cpu
    # CPU time of this process (Django's side) is steadier than the wall clock on a shared machine.
    print(
        f"{args.saves} saves: {elapsed * 1000 / args.saves:.2f} ms per save (one client), "
        f"{cpu * 1000 / args.saves:.2f} ms CPU, PostgreSQL backend "
        f"{backend_cpu * 1000 / args.saves:.2f} ms CPU"
    )
    backend_cpu = backend()
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.saves):
        client.get("/healthz/")
    healthz, cpu = time.perf_counter() - started, time.process_time() - cpu
    backend_cpu = backend() - backend_cpu
    print(
        f"/healthz/: {healthz * 1000 / args.saves:.2f} ms per request, "
        f"{cpu * 1000 / args.saves:.2f} ms CPU, PostgreSQL backend "
        f"{backend_cpu * 1000 / args.saves:.2f} ms CPU"
    )
    if profiler:
        stats = pstats.Stats(profiler, stream=sys.stdout)
        if os.environ.get("PROFILE_OUT"):  # for pstats' callers/callees or snakeviz
            stats.dump_stats(os.environ["PROFILE_OUT"])
        # e.g. SORT=tottime, FILTER='registry|centers' (a regular expression on the path)
        stats.sort_stats(os.environ.get("SORT", "cumulative"))
        stats.print_stats(os.environ.get("FILTER", ""), int(os.environ.get("LINES", "40")))


def _backend_cpu_reader(connection):
    """The CPU seconds the PostgreSQL backend serving `connection` has used so far (from /proc:
    the server runs on this host in every benchmark here; 0 when it cannot be read)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    ticks = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / ticks

    return read


def _timed(label: str, fn, n: int, results: list) -> None:
    fn()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    results.append((label, wall * 1000 / n, cpu * 1000 / n))


def steps(n: int, client, save, user, record, url) -> None:
    """Each step of a save timed alone, n times, in this process: what a request pays for."""
    from django.contrib.auth import get_user
    from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
    from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
    from django.db import connection
    from django.http import QueryDict
    from django.test import RequestFactory

    from centers.access import access_for
    from registry.forms.instrument import InstrumentForm
    from registry.forms.submission import InstrumentSubmission
    from registry.services.dictionary_translations import dictionary_in, missing_codes_in
    from registry.services.fast_save import save_known_row
    from registry.services.records import get_record_for_user, live_rows
    from registry.views.common import dictionary_version
    from registry.views.instrument import _form_kwargs

    key = client.session.session_key
    request = RequestFactory().get("/")
    request.session = DbSessionStore(key)
    results: list = []
    _timed("whole save (test client, POST -> 302)", save, n, results)
    _timed("/healthz/ (test client)", lambda: client.get("/healthz/"), n, results)
    _timed("session read from PostgreSQL", lambda: DbSessionStore(key).load(), n, results)
    cache_store = CacheSessionStore()
    cache_store.update(DbSessionStore(key).load())
    cache_store.create()
    _timed(
        "session read from the cache",
        lambda: CacheSessionStore(cache_store.session_key).load(),
        n,
        results,
    )
    _timed("session (PostgreSQL) + user + memberships", lambda: get_user(request), n, results)
    _timed(
        "record (scoped) + dictionary key",
        lambda: get_record_for_user(user, record.record_id),
        n,
        results,
    )
    rec = get_record_for_user(user, record.record_id)
    _timed("the record's rows", lambda: live_rows(rec), n, results)
    version = dictionary_version(rec.current_dictionary_key)
    dictionary = dictionary_in(version)
    rows = live_rows(rec)
    row = next(r for r in rows if r.instrument == "diagnosis_pathology")
    access = access_for(user)

    def kwargs() -> dict:
        k = _form_kwargs(
            rec,
            version,
            "diagnosis_pathology",
            1,
            row,
            {},
            False,
            access,
            date_order="dmy",
            dictionary=dictionary,
        )
        k["missing_codes"] = missing_codes_in(version)
        return k

    post = QueryDict(mutable=True)
    post.update(
        {
            "__version": row.version,
            "__status": "0",
            "date_dx": "04/03/2010",
            "site_of_origin": "3",
            "tumour_size_mm": "33",
            "fnclcc_grade": "3",
            "mitotic_count": "7",
            "kit_cd117": "2",
            "path_review_confirmed": "1",
            "path_review_date": "01/04/2010",
        }
    )
    _timed(
        "form built (POST; only for errors now)",
        lambda: InstrumentForm(post, **kwargs()),
        n,
        results,
    )
    _timed(
        "form built and validated",
        lambda: InstrumentForm(post, **kwargs()).is_valid(),
        n,
        results,
    )
    _timed(
        "the same POST checked without the form (what a save runs)",
        lambda: InstrumentSubmission(post, **kwargs()).is_valid(),
        n,
        results,
    )
    form = InstrumentForm(post, **kwargs())
    assert form.is_valid(), form.errors
    data = dict(form.cleaned_instrument.data)

    def update() -> None:
        fresh = live_rows(rec)
        target = next(r for r in fresh if r.instrument == "diagnosis_pathology")
        data["tumour_size_mm"] = str(20 + target.version % 100)
        assert save_known_row(
            user=user, row=target, data=data, status=0, dictionary_version=version, reason=""
        )

    _timed("rows + one-statement UPDATE, audit triggers on", update, n, results)
    with connection.cursor() as cursor:  # the owner's session: triggers off, to price them
        cursor.execute("SET session_replication_role = replica")
    try:
        _timed("rows + one-statement UPDATE, triggers off", update, n, results)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
    width = max(len(r[0]) for r in results)
    print(f"{'step':<{width}}  wall ms  CPU ms (this process)")
    for label, wall, cpu in results:
        print(f"{label:<{width}}  {wall:7.2f}  {cpu:7.2f}")


if __name__ == "__main__":
    main()
