"""The fault drill (`make drill`): a live stack (fresh database, gunicorn, a Celery worker, beat
and a redis-server of its own), the demo data, then one fault at a time, each followed by the
recovery a process supervisor gives (a killed worker is restarted). Locks and unlocks go over
HTTP as the users make them. Per fault: changes accepted (no 5xx), dataset versions lost,
duplicate snapshots, and seconds from the last accepted change until the PI dashboard shows its
version. Figures go to stdout and bench/results/drill.json; RELIABILITY.md records them.

    python bench/drill.py                      # production timings (sweep 15 s, resend 30 s)
    python bench/drill.py --fast               # sweep 1 s, resend 3 s, export stale 5 s
"""

from __future__ import annotations

import argparse
import re
import threading
import time
from dataclasses import dataclass, field

from common import django_setup, write_result

PASSWORD = "demo-password"
SEED = "from registry.services.demo import seed_demo; print(seed_demo())"
SEND_TWICE = """
from config.celery import app
from registry.outbox import current_dataset_version
for _ in range(2):
    app.send_task("analytics.recompute_statistics", args=[current_dataset_version()])
"""

# The web request's backend, waiting to insert its lock's outbox row (not the worker's read).
INSERT_WAITING = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO \"registry_lockoutbox\"%'"
)


@dataclass
class Row:
    fault: str
    attempted: int = 0
    accepted: int = 0
    server_errors: int = 0
    versions_lost: int = 0
    duplicate_snapshots: int = 0
    seconds_to_dashboard: float | None = None
    notes: list[str] = field(default_factory=list)


class Drill:
    def __init__(self, args: argparse.Namespace) -> None:
        import requests

        from tests.live import create_live_stack, start_redis_server

        self.requests = requests
        self.args = args
        self.redis, self.broker = start_redis_server()
        self.port = int(self.broker.rsplit(":", 1)[1].split("/")[0])
        env = {"OUTBOX_SWEEP_SECONDS": str(args.sweep), "EXPORT_STALE_SECONDS": str(args.stale)}
        env["OUTBOX_RESEND_AFTER_SECONDS"] = str(args.resend_after)
        env["EXPORT_HEARTBEAT_SECONDS"] = str(min(10, max(1, args.stale // 5)))
        self.stack = create_live_stack(broker_url=self.broker, extra_env=env)
        self.stack.env["EXPORT_ROOT"] = f"/tmp/{self.stack.name}-exports"
        self.sessions: dict[str, object] = {}
        self.worker = None

    # --- the stack -------------------------------------------------------------------------

    def start(self) -> None:
        from tests.live import start_beat

        self.worker = self.stack.start_worker()
        self.stack.shell(SEED)
        self.stack.start_server(workers=2, threads=4)
        start_beat(self.stack, f"/tmp/{self.stack.name}-beat")
        self.wait_for_dashboard(self.newest_version(), timeout=300)

    def stop(self) -> None:
        from tests.live import drop_live_stack

        drop_live_stack(self.stack)
        self.redis.terminate()
        self.redis.wait(10)

    def restart_redis(self) -> None:
        """A Redis without persistence restarted: same port, nothing queued."""
        from tests.live import start_redis_server

        self.redis.terminate()
        self.redis.wait(10)
        self.redis, _ = start_redis_server(self.port)

    def kill_worker_hard(self) -> None:
        from tests.live import kill_hard

        kill_hard(self.worker)

    def stop_worker(self) -> None:
        self.worker.terminate()
        self.worker.wait(30)

    def restart_worker(self) -> None:
        self.worker = self.stack.start_worker()

    # --- the database ----------------------------------------------------------------------

    def sql(self, query: str, *params):
        import psycopg

        with psycopg.connect(self.stack.owner_url, autocommit=True) as conn:
            return conn.execute(query, params or None).fetchall()

    def newest_version(self) -> int:
        return self.sql("SELECT coalesce(max(dataset_version), 0) FROM registry_lockoutbox")[0][0]

    def duplicate_snapshots(self) -> int:
        return self.sql(
            "SELECT count(*) - count(DISTINCT dataset_version) FROM analytics_statisticssnapshot"
        )[0][0]

    def versions_lost(self) -> int:
        """Versions newer than the newest snapshot: no statistics include them."""
        return self.sql(
            "SELECT count(*) FROM registry_lockoutbox WHERE dataset_version > "
            "(SELECT coalesce(max(dataset_version), 0) FROM analytics_statisticssnapshot)"
        )[0][0]

    def wait_blocked(self, table: str, timeout: float = 120) -> None:
        from tests.live import backends_waiting_on

        deadline = time.monotonic() + timeout
        while not backends_waiting_on(self.stack.owner_url, table):
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing waited on {table}")
            time.sleep(0.05)

    # --- HTTP ------------------------------------------------------------------------------

    def session(self, username: str):
        if username not in self.sessions:
            s = self.requests.Session()
            s.get(f"{self.stack.url}/accounts/login/", timeout=30)
            s.post(
                f"{self.stack.url}/accounts/login/",
                data={
                    "username": username,
                    "password": PASSWORD,
                    "csrfmiddlewaretoken": s.cookies["csrftoken"],
                },
                timeout=30,
            )
            self.sessions[username] = s
        return self.sessions[username]

    def post(self, username: str, path: str, data: dict, row: Row) -> int:
        s = self.session(username)
        row.attempted += 1
        try:
            response = s.post(
                f"{self.stack.url}{path}",
                data={**data, "csrfmiddlewaretoken": s.cookies["csrftoken"]},
                timeout=60,
                allow_redirects=False,
            )
        except self.requests.RequestException as exc:
            row.server_errors += 1
            row.notes.append(f"{path}: {type(exc).__name__}")
            return 0
        if response.status_code >= 500:
            row.server_errors += 1
        elif response.status_code == 302:
            row.accepted += 1
        return response.status_code

    def unlock_one(self, row: Row) -> tuple[str, str]:
        """One dataset version: the data manager unlocks the last locked record."""
        ((record_id, centre),) = self.sql(
            "SELECT r.record_id, c.code FROM registry_record r JOIN centers_center c "
            "ON c.id = r.center_id WHERE r.is_locked ORDER BY r.record_id DESC LIMIT 1"
        )
        self.post("datamanager", f"/records/{record_id}/unlock/", {"reason": "drill"}, row)
        return record_id, centre

    def unlock_and_relock(self, row: Row) -> float:
        """Two dataset versions, as the users make them; returns when the last was accepted."""
        record_id, centre = self.unlock_one(row)
        meaning = "I reviewed this record and approve it as complete and accurate."
        data = {"password": PASSWORD, "meaning": meaning}
        self.post(f"investigator-{centre.lower()}", f"/records/{record_id}/lock/", data, row)
        return time.monotonic()

    def dashboard_version(self) -> int:
        html = self.session("pi").get(f"{self.stack.url}/analytics/", timeout=30).text
        found = re.search(r"As of dataset version (\d+)", html)
        return int(found.group(1)) if found else 0

    def wait_for_dashboard(self, version: int, timeout: float | None = None) -> float | None:
        started = time.monotonic()
        deadline = started + (timeout or self.args.timeout)
        while time.monotonic() < deadline:
            if self.dashboard_version() >= version:
                return time.monotonic() - started
            time.sleep(0.5)
        return None

    def finish(self, row: Row, accepted_at: float) -> Row:
        target = self.newest_version()
        waited = self.wait_for_dashboard(target)
        if waited is not None:
            row.seconds_to_dashboard = round(time.monotonic() - accepted_at, 1)
        row.versions_lost = self.versions_lost()
        row.duplicate_snapshots = self.duplicate_snapshots()
        return row

    # --- the faults ------------------------------------------------------------------------

    def redis_down_at_lock_time(self) -> Row:
        row = Row("Redis down at lock time")
        self.redis.terminate()
        self.redis.wait(10)
        accepted_at = self.unlock_and_relock(row)
        self.restart_redis()
        return self.finish(row, accepted_at)

    def redis_restarted_empty(self) -> Row:
        row = Row("Redis restarted empty (queue lost)")
        self.stop_worker()
        accepted_at = self.unlock_and_relock(row)  # queued in Redis, no worker to take it
        self.restart_redis()
        self.restart_worker()
        return self.finish(row, accepted_at)

    def worker_killed_mid_recompute(self) -> Row:
        import psycopg

        row = Row("worker kill -9 mid-recompute")
        self.stop_worker()
        self.unlock_one(row)  # one message only: no later one may rescue the killed one
        accepted_at = time.monotonic()
        with psycopg.connect(self.stack.owner_url) as blocker:
            # The recompute reads under a share lock on the outbox: a conflicting lock held here
            # stops it mid-way, so that the kill lands inside it.
            blocker.execute("LOCK TABLE registry_lockoutbox IN EXCLUSIVE MODE")
            self.restart_worker()
            self.wait_blocked("registry_lockoutbox")
            self.kill_worker_hard()
            blocker.rollback()
        self.restart_worker()
        return self.finish(row, accepted_at)

    def worker_killed_mid_export(self) -> Row:
        import psycopg

        row = Row("worker kill -9 mid-export")
        self.stop_worker()
        form = {"which": "all", "dates": "shift", "raw_or_label": "raw", "header": "raw"}
        self.post("datamanager", "/exports/", {**form, "formats": ["csv"]}, row)
        with psycopg.connect(self.stack.owner_url) as blocker:
            blocker.execute("LOCK TABLE registry_record IN ACCESS EXCLUSIVE MODE")
            self.restart_worker()
            self.wait_blocked("registry_record")
            self.kill_worker_hard()
            blocker.rollback()
        killed_at = time.monotonic()
        self.restart_worker()
        page = self.session("datamanager")
        deadline = killed_at + self.args.stale + 120
        failed_after = None
        while time.monotonic() < deadline:
            html = page.get(f"{self.stack.url}/exports/", timeout=30).text
            retry = re.search(r'action="(/exports/[0-9a-f]{32}/retry/)"', html)
            if retry:
                failed_after = time.monotonic() - killed_at
                break
            time.sleep(1)
        if failed_after is None:
            row.notes.append(f"still not failed {self.args.stale + 120} s after the kill")
            row.versions_lost = 1
            return row
        row.notes.append(f"failed with Retry {failed_after:.0f} s after the kill")
        self.post("datamanager", retry.group(1), {}, row)
        retried_at = time.monotonic()
        while time.monotonic() < retried_at + 120:
            html = page.get(f"{self.stack.url}/exports/", timeout=30).text
            if "/download/" in html:
                row.notes.append(f"retry built in {time.monotonic() - retried_at:.0f} s")
                break
            time.sleep(1)
        else:
            row.notes.append("retry not built within 120 s")
        row.duplicate_snapshots = self.duplicate_snapshots()
        return row

    def connection_terminated_mid_request(self) -> Row:
        import psycopg

        row = Row("app's PostgreSQL connection terminated mid-request")
        record_id, centre = self.unlock_one(row)
        meaning = "I reviewed this record and approve it as complete and accurate."
        data = {"password": PASSWORD, "meaning": meaning}
        user = f"investigator-{centre.lower()}"
        self.session(user)
        with psycopg.connect(self.stack.owner_url) as blocker:
            # The lock's INSERT into the outbox waits here; its backend is then terminated.
            blocker.execute("LOCK TABLE registry_lockoutbox IN EXCLUSIVE MODE")
            result: list[int] = []
            request = threading.Thread(
                target=lambda: result.append(
                    self.post(user, f"/records/{record_id}/lock/", data, row)
                )
            )
            request.start()
            deadline = time.monotonic() + 60
            while not self.sql(INSERT_WAITING):
                if time.monotonic() > deadline:
                    raise RuntimeError("the lock request never reached the outbox")
                time.sleep(0.05)
            self.sql(f"SELECT pg_terminate_backend(pid) FROM ({INSERT_WAITING}) AS waiting")
            blocker.rollback()
            request.join(60)
        row.notes.append(f"the interrupted lock answered {result[0] if result else '-'}")
        # Then every connection of the app (idle in the servers' pools, the worker's) is
        # terminated between requests, and the users go on.
        self.sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND usename = 'registry_app'"
        )
        return self.finish(row, self.unlock_and_relock(row))

    def delivered_twice(self) -> Row:
        row = Row("the same task delivered twice")
        accepted_at = self.unlock_and_relock(row)
        self.stack.shell(SEND_TWICE)
        return self.finish(row, accepted_at)

    def two_workers_racing(self) -> Row:
        row = Row("two workers racing one version")
        self.stop_worker()
        accepted_at = self.unlock_and_relock(row)
        self.stack.shell(SEND_TWICE)
        second = self.stack.start_worker()
        self.restart_worker()
        try:
            return self.finish(row, accepted_at)
        finally:
            second.terminate()
            second.wait(30)


FAULTS = [
    "redis_down_at_lock_time",
    "redis_restarted_empty",
    "worker_killed_mid_recompute",
    "worker_killed_mid_export",
    "connection_terminated_mid_request",
    "delivered_twice",
    "two_workers_racing",
]


def table(rows: list[Row]) -> str:
    lines = [
        "| fault | changes accepted | 5xx | versions lost | duplicate snapshots | "
        "s until dashboard shows latest | notes |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        seconds = "never" if r.seconds_to_dashboard is None else f"{r.seconds_to_dashboard:.1f}"
        if r.fault.startswith("worker kill -9 mid-export"):
            seconds = "n/a"
        lines.append(
            f"| {r.fault} | {r.accepted}/{r.attempted} | {r.server_errors} | {r.versions_lost} "
            f"| {r.duplicate_snapshots} | {seconds} | {'; '.join(r.notes)} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fast", action="store_true", help="sweep 1 s, resend 3 s, stale 5 s")
    parser.add_argument("--sweep", type=int, default=15, help="OUTBOX_SWEEP_SECONDS")
    parser.add_argument("--resend-after", type=int, default=30, help="OUTBOX_RESEND_AFTER_SECONDS")
    parser.add_argument("--stale", type=int, default=300, help="EXPORT_STALE_SECONDS")
    parser.add_argument("--timeout", type=float, default=300, help="give up waiting after (s)")
    parser.add_argument("--only", help="comma-separated fault names")
    args = parser.parse_args()
    if args.fast:
        args.sweep, args.resend_after, args.stale = 1, 3, 5
    django_setup()
    drill = Drill(args)
    rows: list[Row] = []
    try:
        drill.start()
        for name in args.only.split(",") if args.only else FAULTS:
            print(f"--- {name}", flush=True)
            rows.append(getattr(drill, name)())
            print(table(rows[-1:]), flush=True)
    finally:
        drill.stop()
    settings = f"sweep {args.sweep} s, resend after {args.resend_after} s, stale {args.stale} s"
    print(f"\nFault drill ({settings})\n\n{table(rows)}")
    write_result(
        "drill-fast" if args.fast else "drill",
        {"settings": settings, "rows": [r.__dict__ for r in rows]},
    )
    bad = [r for r in rows if r.server_errors or r.versions_lost or r.duplicate_snapshots]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
