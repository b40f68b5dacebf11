"""The list's ``query``: matching users and items first, then their suggestions.

Searching through the joins (``user.username LIKE ... OR program.name LIKE ...`` on
every suggestion row) reads the whole platform for each request: at a million
suggestions that is seconds. The users and the items are far fewer than their
suggestions, so the search looks them up first (one query each, which a trigram
index serves on PostgreSQL) and then filters the platform's suggestions by
``user_id IN (...) OR <item>_id IN (...)``, which the foreign-key indexes serve.
The page query and its count then need no join at all.

The semantics are those of the join: Django's ``icontains`` over the same columns
and the same full-name expression (``%`` and ``_`` are literal; SQLite folds ASCII
case only, PostgreSQL folds with ``UPPER``).

On PostgreSQL, migration ``0004`` creates GIN trigram indexes on exactly the
expressions that ``icontains`` compares (``UPPER(column::text)``), see
:class:`TrigramIndexes`.
"""

from __future__ import annotations

import functools
import operator
import sqlite3
import warnings
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.migrations.operations.base import Operation
from django.db.models import Expression, F, Model, Q, QuerySet, TextField
from django.db.models.functions import Cast, Upper
from django.db.models.sql import Query

from ibl_catalog.suggestions.base import SuggestionKind
from ibl_core.tenancy.scope import full_name_sql

#: Above this many matching users (or items) the suggestions are filtered by a
#: subquery instead of a list of ids. A list measured faster on both databases even at
#: ten thousand ids (the planner knows exactly what it has; a subquery's row estimate
#: from a LIKE is a guess), but it travels in the statement, so it is bounded.
ID_LIST_LIMIT = 10_000


def id_list_limit(connection: Any) -> int:
    """``ID_LIST_LIMIT``, within what one statement may bind on ``connection`` for two
    lists (SQLite's variable limit: 32766 by default, 999 before SQLite 3.32)."""
    if connection.vendor != "sqlite":
        return ID_LIST_LIMIT
    connection.ensure_connection()
    try:
        variables = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except AttributeError:  # Python < 3.11: only the documented minimum is known
        variables = 999
    return max(1, min(ID_LIST_LIMIT, (variables - 16) // 2))


def user_search_expressions() -> dict[str, Expression | F]:
    """What ``query`` searches on the user model, by index name suffix."""
    return {"username": F("username"), "email": F("email"), "full_name": full_name_sql()}


def item_search_expressions(kind: SuggestionKind) -> dict[str, Expression | F]:
    """What ``query`` searches on ``kind``'s item model, by index name suffix."""
    expressions: dict[str, Expression | F] = {
        identifier.name: F(identifier.field) for identifier in kind.identifiers
    }
    expressions["name"] = F(kind.name_field)
    return expressions


def matching(model: type[Model], expressions: dict[str, Expression | F], text: str) -> QuerySet:
    """The rows of ``model`` where any of ``expressions`` contains ``text`` (any case)."""
    aliases = {f"search_{name}": expression for name, expression in expressions.items()}
    # The base manager: the join this replaces did not apply a default manager's filter.
    return (
        model._base_manager.alias(**aliases)
        .filter(functools.reduce(operator.or_, (Q(**{f"{a}__icontains": text}) for a in aliases)))
        .order_by()
    )


def ids_or_subquery(rows: QuerySet) -> list[Any] | QuerySet:
    """The primary keys of ``rows``: a list (one query), or past ``id_list_limit`` the
    subquery itself (no query here; the database runs it inside the caller's)."""
    limit = id_list_limit(connections[rows.db])
    ids = list(rows.values_list("pk", flat=True)[: limit + 1])
    return rows.values("pk") if len(ids) > limit else ids


def search(kind: SuggestionKind, suggestions: QuerySet, text: str) -> QuerySet:
    """Case-insensitive substring over username, full name, email, item key and name.

    Two queries (users, items) run here; the result filters by their ids only, so
    the page and its count run without joins.
    """
    user_model = suggestions.model._meta.get_field("user").related_model
    conditions = []
    for column, found in (
        ("user_id", matching(user_model, user_search_expressions(), text)),
        (f"{kind.item_field}_id", matching(kind.item_model, item_search_expressions(kind), text)),
    ):
        ids = ids_or_subquery(found)
        if isinstance(ids, QuerySet) or ids:
            conditions.append(Q(**{f"{column}__in": ids}))
    if not conditions:
        return suggestions.none()  # nothing matches: no page or count query either
    return suggestions.filter(functools.reduce(operator.or_, conditions))


class TrigramIndexes(Operation):
    """PostgreSQL only: GIN trigram indexes serving ``query``'s ``icontains``.

    Each index is on ``UPPER(<expression>::text)``, the expression Django's
    ``icontains`` compares on PostgreSQL, so the planner uses it for ``LIKE '%x%'``.
    The user model is ``AUTH_USER_MODEL`` (its own table and columns); a searched
    field the model lacks is skipped. Elsewhere this operation does nothing.

    ``pg_trgm`` is created if missing (a trusted extension since PostgreSQL 13: the
    database owner may create it). When it cannot be, the indexes are skipped with a
    warning saying how to add them later: search works without them, only slower.
    """

    reversible = True
    reduces_to_sql = False

    def __init__(self, model: str, expressions: dict[str, str | list[str]], prefix: str) -> None:
        # ``model`` is "app_label.Model" or "AUTH_USER_MODEL"; ``expressions`` maps an
        # index name suffix to a field name or, for the full name, [first, last].
        self.model = model
        self.expressions = expressions
        self.prefix = prefix

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__name__, [self.model, self.expressions, self.prefix], {})

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass  # no model changes: the indexes are not part of any model's state

    def describe(self) -> str:
        return f"Trigram search indexes on {self.model} (PostgreSQL only)"

    def model_class(self, apps: Any) -> Any:
        label = settings.AUTH_USER_MODEL if self.model == "AUTH_USER_MODEL" else self.model
        return apps.get_model(label)

    def indexes(self, model: Any, schema_editor: Any) -> dict[str, str]:
        """``CREATE INDEX`` statement by index name, for the fields ``model`` has."""
        names = {field.name for field in model._meta.get_fields()}
        connection = schema_editor.connection
        query = Query(model, alias_cols=False)  # bare column names, as an index needs
        compiler = query.get_compiler(connection=connection)
        found = {}
        for suffix, fields in self.expressions.items():
            if isinstance(fields, str):
                if fields not in names:
                    continue
                expression: Any = F(fields)
            else:
                if not set(fields) <= names:
                    continue
                first, last = fields
                expression = full_name_sql(names=(first, last))
            searched = Upper(Cast(expression, TextField())).resolve_expression(query)
            sql, params = compiler.compile(searched)
            sql = sql % tuple(schema_editor.quote_value(param) for param in params)
            name = f"{self.prefix}_{suffix}_trgm"
            found[name] = (
                f"CREATE INDEX {schema_editor.quote_name(name)} ON "
                f"{schema_editor.quote_name(model._meta.db_table)} USING gin (({sql}) gin_trgm_ops)"
            )
        return found

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        indexes = self.indexes(self.model_class(to_state.apps), schema_editor)
        if not indexes or not trigram_extension(schema_editor):
            return
        for name, create in indexes.items():
            # Re-running after the extension was added later finds no half-made state.
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")
            schema_editor.execute(create)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in self.indexes(self.model_class(from_state.apps), schema_editor):
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def trigram_extension(schema_editor: Any) -> bool:
    """Whether ``pg_trgm`` is installed, creating it if it can be; warns when not."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone():
            return True
    try:
        with transaction.atomic(using=connection.alias):  # a savepoint: failure is local
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        warnings.warn(
            "ibl_catalog: the pg_trgm extension could not be created "
            f"({str(error).strip()}); the suggestion search works without its trigram "
            "indexes, but reads every user and program for each search. Have a "
            "superuser run `CREATE EXTENSION pg_trgm;` in this database, then "
            "`manage.py migrate ibl_catalog 0003` and `manage.py migrate` to add them.",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    return True
