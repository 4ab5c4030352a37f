"""How long another centre's form save waits while a coordinator previews a file in the web Data
Import Tool. The preview runs the whole import in one transaction that is rolled back (so it
shows exactly what the import would do), and every audit event it writes takes the audit
chain's lock until that transaction ends: a save from any other centre waits for it.

    python bench/import_tool_wait.py [--records 2000,10000]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import threading
import time
import uuid

from common import database_url, write_result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", default="2000,10000")
    args = parser.parse_args()
    import psycopg

    prefix = os.environ.get("BENCH_DB_PREFIX", "bench")
    name = f"{prefix}_tool_wait_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            results = _run(name, [int(n) for n in args.records.split(",")])
        finally:
            from django.db import connections

            connections.close_all()
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    write_result("import_tool_wait", {"previews": results})


def _run(name: str, sizes: list[int]) -> list[dict]:
    os.environ["DATABASE_URL"] = database_url(name)
    os.environ.setdefault("DEBUG", "false")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from centers.models import Center, Membership, Role, User
    from registry.services.data_import import ImportOptions, data_import_preview
    from registry.services.dictionary import import_default_dictionary
    from registry.services.records import create_record, save_instrument

    call_command("migrate", verbosity=0)
    version = import_default_dictionary()
    people = {}
    for code in ("MIL", "ROM"):
        center = Center.objects.create(code=code, name=code, city=code)
        people[code] = User.objects.create_user(code.lower(), first_name=code)
        Membership.objects.create(user=people[code], center=center, role=Role.SITE_COORDINATOR)
    rome = people["ROM"]
    record = create_record(user=rome, center=Center.objects.get(code="ROM"))
    row = save_instrument(
        user=rome,
        record=record,
        instrument="enrolment",
        instance=1,
        data={"sex": "1"},
        status=0,
        expected_version=None,
        dictionary_version=version,
    )
    results = []
    for size in sizes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["record_id", "sex", "year_of_birth"])
        for i in range(size):
            writer.writerow([f"MIL-{i + 1:04d}", "2", str(1940 + i % 50)])
        waits: list[float] = []
        stop = threading.Event()

        def save_in_rome(version_seen: int, stop: threading.Event, waits: list[float]) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                started = time.perf_counter()
                saved = save_instrument(
                    user=rome,
                    record=record,
                    instrument="enrolment",
                    instance=1,
                    data={"sex": str(1 + n % 2)},
                    status=0,
                    expected_version=version_seen,
                    dictionary_version=version,
                )
                waits.append(time.perf_counter() - started)
                version_seen = saved.version
                time.sleep(0.05)
            connections.close_all()

        row.refresh_from_db()
        saver = threading.Thread(target=save_in_rome, args=(row.version, stop, waits))
        saver.start()
        time.sleep(0.5)
        started = time.perf_counter()
        preview = data_import_preview(
            user=people["MIL"], csv_text=out.getvalue(), options=ImportOptions(date_format="YMD")
        )
        took = time.perf_counter() - started
        time.sleep(0.3)
        stop.set()
        saver.join()
        assert preview.ok, preview.problems[:3]
        result = {
            "records": size,
            "preview_s": round(took, 2),
            "other_centre_saves": len(waits),
            "other_centre_save_median_ms": round(1000 * statistics.median(waits), 1),
            "other_centre_save_max_ms": round(1000 * max(waits), 1),
        }
        print(result, flush=True)
        results.append(result)
    return results


if __name__ == "__main__":
    main()
