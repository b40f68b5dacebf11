"""SQL parameters whose number does not grow with the data.

``field__in=[...]`` sends one SQL parameter per value, so a lookup of 10,000 ids
must be split into many queries on SQLite (999 parameters per statement). Passing
the whole list as ONE parameter (a JSON array on SQLite, an array on PostgreSQL)
keeps it a single query of any length: :func:`in_list`, :func:`values_select`.

Rows go the same way: :func:`json_rows` is the ``WITH s AS (...)`` clause that reads
rows from one JSON parameter, for statements that insert or update thousands of rows
in one round trip.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from django.db import connections
from django.db.models import BooleanField, F, Q
from django.db.models.expressions import Expression, RawSQL


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


#: The column types :func:`json_rows` reads, and PostgreSQL's cast of each.
_POSTGRES_CASTS = {"text": "", "bigint": "::bigint", "int": "::int", "bool": "::boolean"}


def json_rows(
    vendor: str, types: Sequence[str], *, ordinal: bool = False, jsonb: bool = False
) -> str:
    """``WITH s AS (SELECT c0, c1, ... [, n])``: rows read from ONE JSON parameter.

    The parameter (``%s``) is a JSON array of arrays, one per row, with one value per
    type of ``types`` (``text``, ``bigint``, ``int``, ``bool`` or ``json``, the last
    kept as JSON). ``n`` is the row's position when ``ordinal`` is true. ``jsonb``
    (PostgreSQL) reads the parameter as ``jsonb``, for values bound as jsonb and written
    to jsonb columns without a conversion.

    Binding one string costs the driver nothing, where binding arrays made psycopg
    quote every element in Python, and both databases parse JSON in C. SQLite
    materializes the rows: inlined, its planner (without statistics) loops over the
    table and scans the rows for each one; materialized, it loops over the rows and
    looks each one up by index.
    """
    if vendor == "postgresql":
        columns = ", ".join(
            (f"v->{position}" if kind == "json" else f"(v->>{position}){_POSTGRES_CASTS[kind]}")
            + f" AS c{position}"
            for position, kind in enumerate(types)
        )
        position = ", n" if ordinal else ""
        kind = "jsonb" if jsonb else "json"
        return (
            f"WITH s AS (SELECT {columns}{position} "
            f"FROM {kind}_array_elements(%s::{kind}) WITH ORDINALITY AS e(v, n))"
        )
    columns = ", ".join(
        f"json_extract(value, '$[{position}]') AS c{position}" for position in range(len(types))
    )
    position = ", CAST(key AS INTEGER) AS n" if ordinal else ""
    return f"WITH s AS MATERIALIZED (SELECT {columns}{position} FROM json_each(%s))"
