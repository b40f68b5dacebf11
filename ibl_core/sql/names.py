"""Quoted table and column names of models, for hand-written statements."""

from __future__ import annotations

from typing import Any

from django.db.models import Model


def quoted_table(connection: Any, model: type[Model]) -> str:
    """The table of ``model``, quoted for ``connection``'s database."""
    return connection.ops.quote_name(model._meta.db_table)


def quoted_column(connection: Any, model: type[Model], field: str) -> str:
    """The column of ``model``'s field ``field``, quoted for ``connection``'s database."""
    return connection.ops.quote_name(model._meta.get_field(field).column)  # type: ignore[union-attr]
