"""Set-based lookups whose cost does not grow with the number of values.

``field__in=[...]`` sends one SQL parameter per value, so a lookup of 10,000 ids
must be split into many queries on SQLite (999 parameters per statement). Passing
the whole list as ONE parameter (a JSON array on SQLite, an array on PostgreSQL)
keeps it a single query of any length.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from django.db import connections
from django.db.models import Q
from django.db.models.expressions import RawSQL


def in_list(
    field: str, values: Collection[Any], *, text: bool = False, using: str = "default"
) -> Q:
    """``Q(<field>__in=values)`` as one query parameter on SQLite and PostgreSQL."""
    vendor = connections[using].vendor
    if vendor == "sqlite":
        subquery = RawSQL("SELECT value FROM json_each(%s)", (json.dumps(list(values)),))
    elif vendor == "postgresql":
        cast = "text[]" if text else "bigint[]"
        subquery = RawSQL(f"SELECT unnest(%s::{cast})", (list(values),))
    else:  # other backends: the plain lookup (Django splits nothing; fine for modest lists)
        return Q(**{f"{field}__in": list(values)})
    return Q(**{f"{field}__in": subquery})
