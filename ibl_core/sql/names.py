"""Quoted table and column names of models, for hand-written statements."""

from __future__ import annotations

from typing import Any

from django.db.models import Model


def quoted_table(connection: Any, model: type[Model]) -> str:
    """The table of ``model``, quoted for ``connection``'s database."""
    return connection.ops.quote_name(model._meta.db_table)


def quoted_column(connection: Any, model: type[Model], field: str) -> str:
    """The column of ``model``'s field ``field`` (its name, or its attname such as
    ``item_id``), quoted for ``connection``'s database."""
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    column = (by_attname.get(field) or model._meta.get_field(field)).column  # type: ignore[union-attr]
    return connection.ops.quote_name(column)
