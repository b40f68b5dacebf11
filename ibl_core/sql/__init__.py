"""Set-based lookups whose cost does not grow with the number of values.

``field__in=[...]`` sends one SQL parameter per value, so a lookup of 10,000 ids
must be split into many queries on SQLite (999 parameters per statement). Passing
the whole list as ONE parameter (a JSON array on SQLite, an array on PostgreSQL)
keeps it a single query of any length.

:func:`retrying_transaction` runs a write again when the database aborted it as a
deadlock or serialization failure, instead of answering 500.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from django.db import OperationalError, connections, transaction
from django.db.models import BooleanField, F, Q
from django.db.models.expressions import Expression, RawSQL

from ibl_core.conf import ibl_settings

T = TypeVar("T")
logger = logging.getLogger("ibl.db")


def values_select(
    values: Collection[Any],
    *,
    text: bool = False,
    db_type: str | None = None,
    using: str = "default",
) -> tuple[str, tuple[Any, ...]] | None:
    """``SELECT`` of one column, ``value``, with one row per value; ``None`` when the
    backend is neither SQLite nor PostgreSQL. For raw statements; ORM code uses
    :func:`in_list`."""
    vendor = connections[using].vendor
    if vendor == "sqlite":
        return "SELECT value FROM json_each(%s)", (json.dumps(list(values)),)
    if vendor == "postgresql":
        cast = f"{db_type or ('text' if text else 'bigint')}[]"
        return f"SELECT unnest(%s::{cast}) AS value", (list(values),)
    return None


class AnyOf(Expression):
    """``<field> = ANY(%s::<type>[])``: one array parameter, a condition on the row.

    On PostgreSQL this is what :func:`in_list` writes, not ``<field> IN (SELECT
    unnest(...))``: that one is a semi-join, whose plan follows the row estimates, and
    with stale statistics (10,000 members added a moment ago) the planner picked a
    nested loop that compared each of 10,000 rows with every value (11 s instead of
    40 ms). ``= ANY`` of an array is a filter PostgreSQL hashes (or an index condition),
    whatever the estimates.
    """

    conditional = True
    output_field = BooleanField()

    def __init__(self, field: Any, values: list[Any], db_type: str) -> None:
        super().__init__()
        self.lhs = F(field) if isinstance(field, str) else field
        self.values = values
        self.db_type = db_type

    def get_source_expressions(self) -> list[Any]:
        return [self.lhs]

    def set_source_expressions(self, exprs: Any) -> None:
        (self.lhs,) = exprs

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs_sql, lhs_params = compiler.compile(self.lhs)
        return f"{lhs_sql} = ANY(%s::{self.db_type}[])", (*lhs_params, self.values)


def in_list(
    field: str,
    values: Collection[Any],
    *,
    text: bool = False,
    db_type: str | None = None,
    using: str = "default",
) -> Q:
    """``Q(<field>__in=values)`` as one query parameter on SQLite and PostgreSQL.

    ``values`` are integers, or text with ``text=True``; ``db_type`` names another
    PostgreSQL element type (``"uuid"``: values as the field prepares them).
    """
    if connections[using].vendor == "postgresql":
        return Q(AnyOf(field, list(values), db_type or ("text" if text else "bigint")))
    select = values_select(values, text=text, db_type=db_type, using=using)
    if select is None:  # other backends: the plain lookup (fine for modest lists)
        return Q(**{f"{field}__in": list(values)})
    return Q(**{f"{field}__in": RawSQL(*select)})


#: SQLSTATEs of a transaction the database gave up on and that succeeds when re-run.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock


def is_retryable(error: BaseException) -> bool:
    """Whether ``error`` is a deadlock, a serialization failure or a busy SQLite file."""
    if getattr(error, "retryable", False):
        return True
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return isinstance(cause, sqlite3.OperationalError) and "locked" in str(cause)


def retrying_transaction(
    work: Callable[[], T], *, using: str = "default", attempts: int | None = None
) -> T:
    """Run ``work`` in a transaction; re-run it when the database aborts it as retryable.

    A deadlock or serialization failure rolls the transaction back (inside an outer
    transaction, such as ``ATOMIC_REQUESTS``, back to a savepoint, which also releases
    the locks taken since), so running it again from the start is safe. The wait
    between attempts grows and is jittered, so the transactions that collided do not
    collide again in step.
    """
    attempts = attempts or int(ibl_settings.WRITE_RETRY_ATTEMPTS)
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic(using=using):
                return work()
        except OperationalError as error:
            if attempt == attempts or not is_retryable(error):
                raise
            logger.warning(
                "Retrying a write after %s (attempt %d)",
                type(error.__cause__ or error).__name__,
                attempt,
            )
            time.sleep(random.uniform(0, 0.05 * 2**attempt))
    raise AssertionError("unreachable")


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
