"""How long another centre's form save waits while a coordinator previews, then imports, a file
of new records in the web Data Import Tool.

The preview runs the whole import in one transaction that is rolled back (so it shows exactly
what the import would do); its audit events stay out of the audit chain (migration 0013), so no
other save waits for it. The import writes in short batches, each holding the chain's lock only
until it commits (registry.services.data_import). Before run L both held the chain's lock for
their whole run, so a save from any other centre waited for all of it.

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
from functools import partial

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
    write_result("import_tool_wait", {"runs": results})


def _run(name: str, sizes: list[int]) -> list[dict]:
    os.environ["DATABASE_URL"] = database_url(name)
    os.environ.setdefault("DEBUG", "false")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from centers.models import Center, Membership, Role, User
    from registry.models import InstrumentData
    from registry.services.data_import import (
        ImportOptions,
        data_import_apply,
        data_import_preview,
    )
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
    save_instrument(
        user=rome,
        record=record,
        instrument="enrolment",
        instance=1,
        data={"sex": "1"},
        status=0,
        expected_version=None,
        dictionary_version=version,
    )

    def save_in_rome(stop: threading.Event, waits: list[float]) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            row = InstrumentData.objects.get(record=record, instrument="enrolment")
            started = time.perf_counter()
            save_instrument(
                user=rome,
                record=record,
                instrument="enrolment",
                instance=1,
                data={"sex": str(1 + n % 2)},
                status=0,
                expected_version=row.version,
                dictionary_version=version,
            )
            waits.append(time.perf_counter() - started)
            time.sleep(0.05)
        connections.close_all()

    def _while_rome_saves(step):
        waits: list[float] = []
        stop = threading.Event()
        saver = threading.Thread(target=save_in_rome, args=(stop, waits))
        saver.start()
        time.sleep(0.5)
        started = time.perf_counter()
        outcome = step()
        took = time.perf_counter() - started
        time.sleep(0.3)
        stop.set()
        saver.join()
        return {"took_s": round(took, 2), "waits": waits}, outcome

    alone: list[float] = []  # the same save with nothing else running
    stop = threading.Event()
    saver = threading.Thread(target=save_in_rome, args=(stop, alone))
    saver.start()
    time.sleep(1.5)
    stop.set()
    saver.join()
    print({"save_alone_median_ms": round(1000 * statistics.median(alone), 1)}, flush=True)
    results = []
    first = 1
    for size in sizes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["record_id", "sex", "year_of_birth"])
        for i in range(first, first + size):
            writer.writerow([f"MIL-{i:04d}", "2", str(1940 + i % 50)])
        first += size
        options = ImportOptions(date_format="YMD")
        csv_text = out.getvalue()
        previewed, preview = _while_rome_saves(
            partial(data_import_preview, user=people["MIL"], csv_text=csv_text, options=options)
        )
        assert preview.ok, preview.problems[:3]
        imported, applied = _while_rome_saves(
            partial(
                data_import_apply,
                user=people["MIL"],
                csv_text=csv_text,
                options=options,
                expected_digest=preview.digest,
                expected_state=preview.state,
            )
        )
        assert applied.new == size, applied
        result = {
            "records": size,
            "save_alone_median_ms": round(1000 * statistics.median(alone), 1),
        }
        for step, timed in (("preview", previewed), ("import", imported)):
            result |= {
                f"{step}_s": timed["took_s"],
                f"{step}_other_centre_saves": len(timed["waits"]),
                f"{step}_other_centre_save_median_ms": round(
                    1000 * statistics.median(timed["waits"]), 1
                ),
                f"{step}_other_centre_save_max_ms": round(1000 * max(timed["waits"]), 1),
            }
        print(result, flush=True)
        results.append(result)
    return results


if __name__ == "__main__":
    main()
