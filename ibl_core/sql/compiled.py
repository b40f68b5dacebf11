"""ORM queries compiled once, then run on the cursor with each request's values.

Building a queryset and compiling it costs several times what the database takes to
answer a small read (``docs/performance.md``, "Lists against raw SQL"): a list page
spent most of its time there, in five queries whose shape never changes. A
:class:`CompiledQuery` keeps the SQL the ORM writes for one shape, per database
alias, and runs it with the request's values in place of markers, through the
database's own converters, so every value comes back exactly as the ORM gives it.

The ORM still writes every statement (names, joins, quoting, the vendor's dialect);
only the building and compiling is done once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.db import connections, router
from django.db.models import Model, QuerySet

from ibl_core.sql.cursor import fetch_all

M = TypeVar("M", bound=Model)


class Marker:
    """The value that stands for parameter ``index`` while a query is compiled: a
    string, for integer columns an integer no id can be, for timestamps a moment no
    row holds (each run's datetime is then adapted as the ORM adapts it)."""

    def __init__(self, index: int) -> None:
        self.text = f"\x01marker{index}\x01"
        self.number = -(2**62) - index
        self.moment = datetime(1, 1, 1, 0, 0, 0, index + 1, tzinfo=UTC)


class CompiledQuery:
    """``build(*markers)`` returns the queryset of one shape (a ``values_list``, no
    slice) with :class:`Marker` values (``.text`` or ``.number``) where each run's
    values go; :meth:`rows` runs it with those values, and optionally a ``LIMIT`` and
    ``OFFSET``, and returns the rows as the ORM would (lists, converted; ``raw``: as
    the driver reads them, e.g. SQLite's text dates, for a cache key), through
    :func:`ibl_core.sql.cursor.fetch_all` (its own health check, prepared).

    ``model`` names the table's model, for the database router.
    """

    def __init__(self, model: type[Model], build: Callable[..., QuerySet], arity: int) -> None:
        self.model = model
        self.build = build
        self.markers = [Marker(i) for i in range(arity)]
        self.compiled: dict[str, tuple[str, list[Any], list[Any]]] = {}
        #: The columns' names, as a ``values()`` queryset names them (once compiled).
        self.names: list[str] = []

    def compile(self, alias: str) -> tuple[str, list[Any], list[Any]]:
        found = self.compiled.get(alias)
        if found is None:
            queryset = self.build(*self.markers)
            compiler = queryset.query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            query = queryset.query
            self.names = [*query.extra_select, *query.values_select, *query.annotation_select]
            adapt = connections[alias].ops.adapt_datetimefield_value
            slots: dict[Any, tuple[str, int]] = {}
            for i, marker in enumerate(self.markers):
                slots[marker.text] = slots[marker.number] = ("value", i)
                slots[adapt(marker.moment)] = ("moment", i)
            # A parameter is a marker's slot, or the constant it is (tagged apart).
            places = [
                slots[p] if isinstance(p, str | int | datetime) and p in slots else ("const", p)
                for p in params
            ]
            converters = [
                (position, functions, expression)
                for position, (functions, expression) in compiler.get_converters(
                    [column[0] for column in compiler.select]
                ).items()
            ]
            found = self.compiled[alias] = (sql, places, converters)
        return found

    def rows(
        self,
        values: Sequence[Any],
        *,
        limit: int | None = None,
        offset: int = 0,
        using: str | None = None,
        raw: bool = False,
    ) -> list[list[Any]]:
        alias = using or router.db_for_read(self.model) or "default"
        sql, places, converters = self.compile(alias)
        connection = connections[alias]
        adapt = connection.ops.adapt_datetimefield_value
        params = [
            x if kind == "const" else values[x] if kind == "value" else adapt(values[x])
            for kind, x in places
        ]
        if limit is not None:
            sql = f"{sql} LIMIT {int(limit)} OFFSET {int(offset)}"
        rows = [list(row) for row in fetch_all(sql, params, alias)]
        if raw:
            return rows
        for row in rows:
            for position, functions, expression in converters:
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
        return rows

    def dicts(self, values: Sequence[Any], **options: Any) -> list[dict[str, Any]]:
        """:meth:`rows` as dicts, as a ``values()`` queryset answers them."""
        rows = self.rows(values, **options)
        return [dict(zip(self.names, row, strict=True)) for row in rows]


def instance(model: type[M], alias: str, values: Sequence[Any]) -> M:
    """A model instance from the values of all its concrete fields, in their order
    (``Model.from_db``: as a queryset builds it)."""
    names = [field.attname for field in model._meta.concrete_fields]
    return model.from_db(alias, names, list(values))
