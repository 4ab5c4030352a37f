"""Connection URLs built from Django's parsed database settings, never by hand.

The embedded PostgreSQL listens on a socket directory that django-environ parses into
OPTIONS["host"], not HOST; a URL built from HOST and PORT alone would silently reach whatever
PostgreSQL listens on 127.0.0.1:5432 instead. Live test stacks, benchmarks and the drill build
their URLs here so that they always reach the server the settings name.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote, urlencode

import psycopg

__all__ = ["database_url", "allow_login"]

_PASSED_THROUGH = {"sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout"}


def database_url(settings_dict: dict[str, Any], *, user: str | None = None, name: str = "") -> str:
    """A libpq URL for a DATABASES entry, as `user` (default: its own) on database `name`
    (default: its own), with the socket directory, port and TLS options of the entry."""
    options = settings_dict.get("OPTIONS") or {}
    host = str(settings_dict.get("HOST") or options.get("host") or "")
    port = str(settings_dict.get("PORT") or options.get("port") or "")
    own_user = settings_dict.get("USER") or ""
    user = own_user if user is None else user
    password = settings_dict.get("PASSWORD") or "" if user == own_user else ""
    credentials = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    query: dict[str, str] = {
        key: str(value) for key, value in options.items() if key in _PASSED_THROUGH
    }
    if host.startswith("/"):  # a socket directory goes in the query; libpq has no URL host for it
        query["host"] = host
        netloc = ""
        if port:
            query["port"] = port
    else:
        netloc = host + (f":{port}" if port and host else "")
        if port and not host:
            query["port"] = port
    authority = f"{credentials}@{netloc}" if credentials else netloc
    url = f"postgres://{authority}/{quote(name or settings_dict['NAME'], safe='')}"
    return url + ("?" + urlencode(query) if query else "")


def allow_login(owner_url: str, role: str) -> None:
    """Let the application role log in. The migrations create it NOLOGIN where the migrating user
    may create roles (production gives it a password and LOGIN in docker/postgres-init.sh); test
    stacks and benchmarks log in as it without a password on a trust-auth server."""
    # Roles are cluster-wide: parallel test processes (pytest-xdist) alter the same one, and
    # PostgreSQL answers a simultaneous ALTER ROLE with "tuple concurrently updated" (XX000). A
    # transaction-level advisory lock puts processes on the same database in turn (advisory
    # locks are per database); one on another database that meets the error tries again, and
    # one that finds LOGIN set stops.
    for attempt in range(1, 6):
        try:
            with psycopg.connect(owner_url, autocommit=True) as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext('registry: allow_login'))")
                (can_login,) = conn.execute(
                    "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", [role]
                ).fetchone()
                if not can_login:
                    conn.execute(f'ALTER ROLE "{role}" LOGIN')  # role from settings, not input
            return
        except psycopg.errors.InternalError_ as exc:
            if exc.sqlstate != "XX000" or attempt == 5:
                raise
            time.sleep(0.05 * attempt)
