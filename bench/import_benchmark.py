"""API record import of N new records (one request, as a REDCap client sends it), against
gunicorn on a fresh database, while a coordinator of another centre saves one form over and
over: how the import scales (10,000 against 2,000 records) and how long the other centre's
single save waits while it runs, against that save's latency with no import running, and how
long any statement waited for the audit chain's lock (sampled from pg_stat_activity every 10 ms:
the part of that wait the import's batches cause; the rest of a slow save is the machine).

    python bench/import_benchmark.py [--sizes 2000,10000] [--multipart]

--multipart sends `data` as a file in a multipart/form-data body (read from disk by the server,
past DATA_UPLOAD_MAX_MEMORY_SIZE), as a 100,000-record call must be sent.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlencode

from common import django_setup, write_result

SETUP = """
from centers.models import Center, Membership, Role, User
from centers.tokens import issue_api_token
from registry.services.dictionary import import_default_dictionary
from registry.services.records import create_record
import_default_dictionary()
mil = Center.objects.create(code="MIL", name="Milano", city="Milano")
bol = Center.objects.create(code="BOL", name="Bologna", city="Bologna")
importer = User.objects.create_user("importer", password="bench-password-123", first_name="I")
Membership.objects.create(user=importer, center=mil, role=Role.SITE_COORDINATOR)
other = User.objects.create_user("other", password="bench-password-123", first_name="O")
Membership.objects.create(user=other, center=bol, role=Role.SITE_COORDINATOR)
record = create_record(user=other, center=bol)
print(issue_api_token(user=importer) + "," + record.record_id)
"""


def rows(first: int, n: int) -> list[dict]:
    out = []
    for i in range(first, first + n):
        out.append(
            {
                "record_id": f"MIL-{i:04d}",
                "sex": str(1 + i % 2),
                "year_of_birth": str(1940 + i % 50),
                "date_dx": f"2012-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "tumour_size_mm": str(10 + i % 200),
                "site_of_origin": str(1 + i % 4),
            }
        )
    return out


def _worker_rss_mb(server_pid: int) -> dict[int, float]:
    """Resident memory of each gunicorn worker (the server's children), from /proc."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    out = {}
    for pid in children:
        try:
            pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (FileNotFoundError, ProcessLookupError):
            continue
        out[int(pid)] = pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    return out


class PeakWorkerRss(threading.Thread):
    """The largest growth of any one worker's RSS while running, sampled every 50 ms."""

    def __init__(self, server_pid: int) -> None:
        super().__init__(daemon=True)
        self.server_pid = server_pid
        self.start_rss = _worker_rss_mb(server_pid)
        self.peak_growth = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            for pid, rss in _worker_rss_mb(self.server_pid).items():
                growth = rss - self.start_rss.get(pid, rss)
                self.peak_growth = max(self.peak_growth, growth)


class AuditLockWaits(threading.Thread):
    """The longest wait of any statement for an advisory lock (the audit chain's, taken by the
    audit trigger until commit), from pg_stat_activity every 10 ms."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.waits: dict[tuple, float] = {}  # (pid, statement start) -> longest seen, ms
        self.done = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.done.wait(0.01):
                for pid, started, waited in conn.execute(
                    "SELECT pid, query_start, extract(epoch FROM clock_timestamp() - query_start)"
                    " FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
                ):
                    key = (pid, started)
                    self.waits[key] = max(self.waits.get(key, 0.0), float(waited) * 1000)

    def summary(self) -> dict:
        waits = sorted(self.waits.values())
        return {
            "audit_lock_waits_seen": len(waits),
            "audit_lock_wait_max_ms": round(waits[-1], 1) if waits else 0.0,
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--multipart", action="store_true", help="data as a file")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    django_setup()
    from bench.form_save_benchmark import login
    from bench.http_load import Client
    from tests.live import create_live_stack, drop_live_stack

    stack = create_live_stack(extra_env={"DEBUG": "false"})  # as production: no statement log
    results: dict = {}
    try:
        token, other_record = stack.shell(SETUP).strip().split(",")
        stack.start_server(workers=2, threads=2, timeout=3600)
        saver = Client(stack.url)
        login(saver, "other", "bench-password-123")
        form = f"/records/{other_record}/diagnosis_pathology/1/"
        _, _, body = saver.request("GET", form)
        csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
        version = [0]

        def save_once() -> float:
            data = {"csrfmiddlewaretoken": csrf, "__version": version[0], "__status": "0"}
            data |= {"action": "stay", "date_dx": "04/03/2010", "site_of_origin": "3"}
            data |= {"tumour_size_mm": str(20 + version[0] % 100), "fnclcc_grade": "3"}
            started = time.perf_counter()
            status, _, _ = saver.request(
                "POST", form, urlencode(data), {"Referer": stack.url + "/"}
            )
            elapsed = (time.perf_counter() - started) * 1000
            saver.cookies.pop("messages", None)
            assert status == 302, status
            version[0] += 1
            return elapsed

        idle = [save_once() for _ in range(20)]
        results["save_alone_ms"] = {"median": _median(idle), "max": round(max(idle), 1)}
        first = 1
        for n in sizes:
            fields = {"token": token, "content": "record", "format": "json"}
            data = json.dumps(rows(first, n))
            headers = {}
            if args.multipart:
                body, headers["Content-Type"] = _multipart(fields, data.encode())
            else:
                body = urlencode({**fields, "data": data}).encode()
            del data
            during: list[float] = []
            done = threading.Event()

            def keep_saving(during: list[float] = during, done: threading.Event = done) -> None:
                while not done.is_set():
                    during.append(save_once())
                    time.sleep(0.2)

            thread = threading.Thread(target=keep_saving)
            thread.start()
            memory = PeakWorkerRss(stack.processes[-1].pid)
            memory.start()
            lock_waits = AuditLockWaits(stack.owner_url)
            lock_waits.start()
            started = time.perf_counter()
            request = urllib.request.Request(
                stack.url + "/api/", data=body, headers=headers, method="POST"
            )
            with urllib.request.urlopen(request, timeout=3600) as response:  # noqa: S310
                answer = json.loads(response.read())
            seconds = time.perf_counter() - started
            done.set()
            memory.done.set()
            lock_waits.done.set()
            thread.join()
            memory.join()
            lock_waits.join()
            assert answer == {"count": n}, answer
            results[f"import_{n}"] = {
                "seconds": round(seconds, 2),
                "records_per_s": round(n / seconds, 1),
                "request_body_mb": round(len(body) / 2**20, 2),
                "worker_peak_rss_growth_mb": round(memory.peak_growth, 1),
                "other_centre_saves": len(during),
                "other_centre_save_median_ms": _median(during),
                "other_centre_save_max_ms": round(max(during), 1) if during else None,
                **lock_waits.summary(),
            }
            print(json.dumps({n: results[f"import_{n}"]}), flush=True)
            first += n
    finally:
        drop_live_stack(stack)
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        ratio = results[f"import_{large}"]["seconds"] / results[f"import_{small}"]["seconds"]
        results["scaling"] = {
            "sizes": [small, large],
            "time_ratio": round(ratio, 2),
            "linear_would_be": round(large / small, 2),
        }
    write_result("import", results)


def _multipart(fields: dict[str, str], data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="data"; filename="data.json"\r\n'
        "Content-Type: application/json\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[len(ordered) // 2], 1)


if __name__ == "__main__":
    main()
