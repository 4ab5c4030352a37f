"""Prepared statements for the few constant statements every request runs.

Django binds parameters on the client and leaves psycopg's automatic preparation off (so that
connection poolers in transaction mode keep working), so PostgreSQL parses and plans every
statement afresh. For the record read behind every form page and save, planning was about two
thirds of PostgreSQL's CPU for the statement (0.36 ms against 0.12 ms prepared; BENCHMARKS.md,
run K). ``prepared_cursor`` hands out Django's own cursor wrapper (health check, error
translation, query logging and execute wrappers all unchanged) around a psycopg cursor that
binds on the server and asks for the statement to be prepared on its connection.

Only statements whose text never changes and whose values are all parameters belong here. A
pooler in front of PostgreSQL must keep prepared statements per client connection (PgBouncer
1.21 and later: ``max_prepared_statements``); see README, "Deployment".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.postgresql.base import ServerBindingCursor
from psycopg import ClientCursor

__all__ = ["prepared_cursor"]


class _PreparingCursor:
    """A server-binding psycopg cursor whose execute always asks for a prepared statement."""

    def __init__(self, cursor: ServerBindingCursor) -> None:
        self._cursor = cursor
        self._last: tuple[str, Any] = ("", None)

    def execute(self, query: str, params: Any = None) -> ServerBindingCursor:
        self._last = (query, params)
        return self._cursor.execute(query, params, prepare=True)

    @property
    def _query(self) -> SimpleNamespace:
        """The statement with its values, as Django's query log reads it from a client-side
        cursor (connection.queries, CaptureQueriesContext); composed only when logged."""
        query, params = self._last
        text = ClientCursor(self._cursor.connection).mogrify(query, params)
        return SimpleNamespace(query=text.encode())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


@contextmanager
def prepared_cursor(using: str = DEFAULT_DB_ALIAS) -> Iterator[Any]:
    """Django's cursor wrapper for `using`, whose statements are prepared on the connection."""
    connection = connections[using]
    with connection.cursor() as cursor:
        client_side = cursor.cursor
        cursor.cursor = _PreparingCursor(ServerBindingCursor(connection.connection))
        client_side.close()
        yield cursor
