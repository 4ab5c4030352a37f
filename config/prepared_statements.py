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

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import CursorWrapper
from django.utils.asyncio import async_unsafe
from psycopg import ClientCursor

__all__ = ["model_from_row", "prepared_cursor", "select_list"]


class _PreparingCursor:
    """A server-binding psycopg cursor whose execute always asks for a prepared statement. One
    is kept per connection and reused: building a psycopg cursor (and the client-side one
    ``connection.cursor()`` would build first) was about a twentieth of a form save's Python."""

    def __init__(self, cursor: ServerBindingCursor) -> None:
        self._cursor = cursor
        self._last: tuple[str, Any] = ("", None)

    def execute(self, query: str, params: Any = None) -> ServerBindingCursor:
        self._last = (query, params)
        return self._cursor.execute(query, params, prepare=True)

    def close(self) -> None:
        """Kept open for the connection's next statement (Django's wrapper closes its cursor on
        leaving the ``with``); a later execute discards this one's results."""

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
    with _wrapped_cursor(connections[using]) as cursor:
        yield cursor


@async_unsafe
def _wrapped_cursor(connection: BaseDatabaseWrapper) -> CursorWrapper:
    """What ``connection.cursor()`` returns (health check, connection, thread check, query log,
    error translation), around this connection's preparing cursor instead of a new client one."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = connection.connection
        kept = getattr(connection, "_preparing_cursor", None)
        if kept is None or kept._cursor.connection is not raw or kept._cursor.closed:
            kept = _PreparingCursor(ServerBindingCursor(raw))
            connection._preparing_cursor = kept
        connection.validate_thread_sharing()
        if connection.queries_logged:
            return connection.make_debug_cursor(kept)
        return connection.make_cursor(kept)


def select_list(model: type[models.Model], alias: str) -> str:
    """``alias."column", ...`` for the model's concrete fields, in model_from_row's order."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields)


def model_from_row(
    model: type[models.Model], values: Sequence[Any], using: str = DEFAULT_DB_ALIAS
) -> models.Model:
    """An instance of ``model`` from the values select_list names, each passed through its
    field's converters (a JSONField decodes its text) as the ORM does for a queryset."""
    connection = connections[using]
    values = list(values)
    for at, converters in _converters(model, using):
        for convert in converters:
            values[at] = convert(values[at], None, connection)
    return model.from_db(using, _attnames(model), values)


@functools.cache
def _attnames(model: type[models.Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


@functools.cache
def _converters(model: type[models.Model], using: str) -> list[tuple[int, list]]:
    connection = connections[using]
    found = []
    for at, field in enumerate(model._meta.concrete_fields):
        if converters := field.get_db_converters(connection):
            found.append((at, converters))
    return found
