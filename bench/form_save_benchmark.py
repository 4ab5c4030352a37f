"""Form-save throughput and latency with 16 concurrent clients against gunicorn on PostgreSQL
(validation, JSON update, audit triggers), measured in the same run as the machine's ceiling for a
database-backed Django request (/healthz/ reads one row), with and without persistent
connections. Also the record status dashboard's latency with 10,000 records.

    python bench/form_save_benchmark.py [--seconds 10] [--clients 16] [--records 10000]

`--without-field-audit` prices a guarantee: the same run with the field-level audit trigger on
instrument data disabled in the benchmark's own database (never in the app), written to
form_save_without_field_audit.json.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from urllib.parse import urlencode

from common import django_setup, write_result

SETUP = """
from centers.models import Center, Membership, Role, User
from registry.services.dictionary import import_default_dictionary
from registry.services.records import create_record
import_default_dictionary()
mil = Center.objects.create(code="MIL", name="Milano", city="Milano")
u = User.objects.create_user("bench", password="bench-password-123", first_name="B", last_name="N",
                             language="{language}")
Membership.objects.create(user=u, center=mil, role=Role.SITE_COORDINATOR)
print(",".join(create_record(user=u, center=mil).record_id for _ in range({clients})))
"""

BULK = """
INSERT INTO registry_recordcounter (center_id, last_number)
  SELECT id, 0 FROM centers_center WHERE code = 'MIL' ON CONFLICT DO NOTHING;
INSERT INTO registry_record (record_id, center_id, sequence, is_locked, synthetic, created_at,
                             updated_at)
  SELECT 'MIL-' || lpad(n::text, 6, '0'), c.id, n, false, true, now(), now()
  FROM centers_center c, generate_series(100, 99 + {records}) n WHERE c.code = 'MIL';
INSERT INTO registry_instrumentdata (record_id, instrument, instance, data, status,
  ever_completed, version, dictionary_version_id, updated_at, is_locked)
  SELECT r.id, f.form, 1, '{{"note": "bench"}}'::jsonb, (r.sequence % 3), false, 1,
         (SELECT max(id) FROM registry_dictionaryversion), now(), false
  FROM registry_record r
  CROSS JOIN (VALUES ('enrolment'), ('diagnosis_pathology'), ('stage'), ('primary_surgery'),
                     ('follow_up')) f(form)
  WHERE r.sequence >= 100;
ANALYZE registry_record;
ANALYZE registry_instrumentdata;
"""


class CpuMeter:
    """CPU seconds used, per side, while a load runs: the gunicorn workers, the PostgreSQL
    backends serving the stack's database, and this process (the load generator). Read from /proc
    (everything runs on this host). CPU time per request barely moves with what the machine's
    other users do, unlike requests per second, so it says what a request costs each side."""

    def __init__(self, server_pid: int, owner_url: str) -> None:
        self.server_pid = server_pid
        self.owner_url = owner_url
        self.ticks = os.sysconf("SC_CLK_TCK")

    def _cpu(self, pid: int) -> float:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / self.ticks

    def _children(self) -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
                except OSError:
                    continue
                if ppid == self.server_pid:
                    found.append(int(entry))
        return found

    def _backends(self) -> list[int]:
        import psycopg

        with psycopg.connect(self.owner_url, autocommit=True) as conn:
            return [
                pid
                for (pid,) in conn.execute(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ]

    def read(self) -> dict:
        return {
            "django": {pid: self._cpu(pid) for pid in self._children()},
            "postgresql": {pid: self._cpu(pid) for pid in self._backends()},
            "load generator": {0: time.process_time()},
        }

    @staticmethod
    def used(before: dict, after: dict) -> dict:
        """Seconds per side; a process that started meanwhile counts whole."""
        return {
            side: sum(cpu - before[side].get(pid, 0.0) for pid, cpu in after[side].items())
            for side in after
        }


def cpu_per_request(used: list[dict], results: list) -> dict:
    requests = sum(r.requests for r in results)
    per_side = {
        side: round(sum(u[side] for u in used) * 1000 / max(requests, 1), 3) for side in used[0]
    }
    per_side["total"] = round(sum(per_side.values()), 3)
    return per_side


def login(client, username: str, password: str) -> None:
    client.request("GET", "/accounts/login/")
    token = client.cookies["csrftoken"]
    client.request(
        "POST",
        "/accounts/login/",
        urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token}),
    )
    assert "sessionid" in client.cookies, "log-in failed"


def merge(results: list) -> object:
    from bench.http_load import LoadResult

    return LoadResult(
        sum(r.requests for r in results),
        sum(r.errors for r in results),
        sum(r.seconds for r in results),
        [ms for r in results for ms in r.latencies_ms],
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=5, help="alternating windows per phase")
    parser.add_argument(
        "--language",
        default="",
        help="the coordinator's profile language, e.g. it (default: the browser's, English)",
    )
    parser.add_argument(
        "--cache-url",
        default=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/7"),
        help="CACHE_URL for the server: Redis, sessions read from it, as .env.example sets up "
        "production ('' for the per-process memory cache and sessions in the database)",
    )
    parser.add_argument(
        "--without-field-audit",
        action="store_true",
        help="disable registry_instrument_audit in the benchmark's database: its price",
    )
    args = parser.parse_args()
    django_setup()
    import psycopg

    from bench.http_load import Client, get_ok, run_load
    from tests.live import create_live_stack, drop_live_stack

    # DEBUG off as in production: with it on, Django also formats and keeps every statement.
    stack = create_live_stack(extra_env={"DEBUG": "false"})
    try:
        record_ids = (
            stack.shell(SETUP.format(clients=args.clients, language=args.language))
            .strip()
            .split(",")
        )
        if args.without_field_audit:
            with psycopg.connect(stack.owner_url, autocommit=True) as conn:
                conn.execute(
                    "ALTER TABLE registry_instrumentdata DISABLE TRIGGER registry_instrument_audit"
                )
        server_opts = {"workers": 4, "threads": 1}
        cache_env = {"CACHE_URL": args.cache_url} if args.cache_url else {}
        stack.start_server(**server_opts, env=cache_env)
        states: dict[int, dict] = {}

        def setup_client(client: Client, i: int):
            if i in states:  # a later round: the same person, session and form version
                client.cookies.update(states[i]["cookies"])
                states[i]["cookies"] = client.cookies
                return states[i]
            login(client, "bench", "bench-password-123")
            record = record_ids[i]
            status, _, body = client.request("GET", f"/records/{record}/diagnosis_pathology/1/")
            assert status == 200, status
            token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
            states[i] = {"record": record, "version": 0, "n": 0, "csrf": token.decode()}
            states[i]["cookies"] = client.cookies
            return states[i]

        def save(client: Client, state) -> bool:
            state["n"] += 1
            body = urlencode(
                {
                    "csrfmiddlewaretoken": state["csrf"],
                    "__version": state["version"],
                    "__status": "0",
                    "action": "stay",
                    "date_dx": "04/03/2010",
                    "site_of_origin": "3",
                    "tumour_size_mm": str(20 + state["n"] % 100),
                    "fnclcc_grade": "3",
                    "mitotic_count": str(state["n"] % 50),
                    "kit_cd117": "2",
                    "path_review_confirmed": "1",
                    "path_review_date": "01/04/2010",
                }
            )
            status, _, _ = client.request(
                "POST",
                f"/records/{state['record']}/diagnosis_pathology/1/",
                body,
                {"Referer": stack.url + "/"},
            )
            # A browser follows the redirect and the form page shows (consumes) the "Saved"
            # message; without that the message cookie would grow and spill into the session.
            client.cookies.pop("messages", None)
            if status in (200, 302):
                state["version"] += 1
                return status == 302
            return False

        # The limit and the saves alternate in short windows, so that a change in the load the
        # machine's other users put on it falls on both (a shared CPU moved one 10 s window's
        # /healthz/ by 3x between runs).
        window = args.seconds / args.rounds
        meter = CpuMeter(stack.processes[-1].pid, stack.owner_url)
        ceilings, save_runs = [], []
        ceiling_cpu, save_cpu = [], []
        for _ in range(args.rounds):
            before = meter.read()
            ceilings.append(
                run_load(
                    stack.url,
                    clients=args.clients,
                    seconds=window,
                    setup=lambda c, i: None,
                    step=get_ok("/healthz/"),
                )
            )
            ceiling_cpu.append(meter.used(before, meter.read()))
            for i in range(args.clients):  # log-ins and form pages are not saves
                client = Client(stack.url)
                setup_client(client, i)
                client.conn.close()
            before = meter.read()
            save_runs.append(
                run_load(
                    stack.url, clients=args.clients, seconds=window, setup=setup_client, step=save
                )
            )
            save_cpu.append(meter.used(before, meter.read()))
        ceiling, saves = merge(ceilings), merge(save_runs)
        cpu = {
            "healthz": cpu_per_request(ceiling_cpu, ceilings),
            "form_save": cpu_per_request(save_cpu, save_runs),
        }
        stack.stop()

        stack.start_server(**server_opts, env={"CONN_MAX_AGE": "0", **cache_env})
        no_pool = run_load(
            stack.url,
            clients=args.clients,
            seconds=args.seconds,
            setup=lambda c, i: None,
            step=get_ok("/healthz/"),
        )
        stack.stop()

        with psycopg.connect(stack.owner_url, autocommit=True) as conn:
            for statement in BULK.format(records=args.records).split(";"):
                if statement.strip():
                    conn.execute(statement)
        stack.start_server(**server_opts, env=cache_env)
        dashboard = run_load(
            stack.url,
            clients=4,
            seconds=args.seconds,
            setup=lambda c, i: login(c, "bench", "bench-password-123"),
            step=get_ok("/records/?page=5"),
        )
    finally:
        drop_live_stack(stack)

    s, c = saves.summary(), ceiling.summary()
    write_result(
        "form_save_without_field_audit" if args.without_field_audit else "form_save",
        {
            "field_audit": not args.without_field_audit,
            "clients": args.clients,
            "rounds": args.rounds,
            "language": args.language or "en",
            "seconds": args.seconds,
            "gunicorn": server_opts,
            "cache_url": bool(args.cache_url),
            "ceiling_healthz": c,
            "form_save": s,
            "healthz_without_persistent_connections": no_pool.summary(),
            "form_save_rps_over_ceiling": round(s["rps"] / c["rps"], 3),
            "cpu_ms_per_request": cpu,
            # On a machine whose cores are all busy, throughput goes as the inverse of the CPU a
            # request costs all sides together: this ratio is what the same test approaches there.
            "form_save_cpu_ratio": round(cpu["healthz"]["total"] / cpu["form_save"]["total"], 3),
            "form_save_p95_over_ceiling_p95": round(s["p95_ms"] / c["p95_ms"], 2),
            "dashboard_records": args.records + args.clients,
            "dashboard": dashboard.summary(),
        },
    )


if __name__ == "__main__":
    main()
