"""Cursors for hand-written statements."""

from __future__ import annotations

from typing import Any

from django.db import connections


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
