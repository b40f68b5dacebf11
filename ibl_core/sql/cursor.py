"""Cursors for hand-written statements."""

from __future__ import annotations

from typing import Any

from django.db import InterfaceError, OperationalError, connections


def bound_cursor(using: str = "default") -> Any:
    """A cursor of connection ``using`` whose parameters travel apart from the SQL.

    Django's psycopg 3 cursors bind client-side by default (the ``server_side_binding``
    option): each parameter is quoted into the statement's text, so a statement
    carrying a 4 MB JSON parameter (a bulk's events) holds it in memory two or three
    more times. This cursor sends it as it is. It is Django's cursor wrapper around
    psycopg's server-binding cursor: logged, counted and wrapped like any other query.
    Elsewhere (SQLite, psycopg2) it is the usual cursor.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return connection.cursor()
    try:
        from psycopg import Cursor
    except ImportError:  # pragma: no cover - psycopg2
        return connection.cursor()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw: Any = Cursor(connection.connection)
    if connection.queries_logged:  # DEBUG, or a test counting queries
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def fetch_one(sql: str, params: list[Any], using: str = "default") -> tuple[Any, ...] | None:
    """The first row of one read-only statement (:func:`fetch_all`'s way), or ``None``."""
    row = _run(sql, params, using, lambda cursor: cursor.fetchone())
    return tuple(row) if row is not None else None


def fetch_all(sql: str, params: list[Any], using: str = "default") -> list[tuple[Any, ...]]:
    """The rows of one read-only statement: a hot path's query (the API key, a list
    page, a public path's stamp).

    Cheaper than a plain cursor on PostgreSQL, by a round trip and the planning:

    * the read is the connection's health check. A persistent connection
      (``CONN_MAX_AGE``) with ``CONN_HEALTH_CHECKS`` is pinged (``SELECT 1``) before the
      request's first query; here the statement itself is sent and, if the connection
      turns out to be dead, it is closed and the statement sent once more on a new one,
      which is what the ping would have led to. Only outside a transaction, where
      nothing else can be lost with the connection;
    * it runs on :func:`bound_cursor`, whose statements psycopg prepares on the server
      after a few runs (``prepare_threshold`` in the database's ``OPTIONS``): a hot
      statement is then parsed and planned once per connection, not on every request.
    """
    return _run(sql, params, using, lambda cursor: cursor.fetchall())


def _run(sql: str, params: list[Any], using: str, fetch: Any) -> Any:
    connection: Any = connections[using]  # health_check_done: not in django-stubs
    checked_by_this_read = (
        connection.connection is not None
        and not connection.in_atomic_block
        and not connection.health_check_done
    )
    if checked_by_this_read:
        connection.health_check_done = True
    try:
        with bound_cursor(using) as cursor:
            cursor.execute(sql, params)
            return fetch(cursor)
    except (InterfaceError, OperationalError):
        if not checked_by_this_read or connection.is_usable():
            raise  # not a dead connection: a real error of the statement
        connection.close()
        with bound_cursor(using) as cursor:
            cursor.execute(sql, params)
            return fetch(cursor)
