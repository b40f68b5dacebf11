"""Reads: the suggestions of a platform, shaped as the API answers them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from django.db import connections, router
from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Trim

from ibl_catalog.suggestions.base import Item, Member, SuggestionKind
from ibl_core.api.paginator import SlicedRows
from ibl_core.models import Platform
from ibl_core.sql.compiled import CompiledQuery, Marker
from ibl_core.sql.params import AnyOf
from ibl_core.tenancy.scope import full_name_sql


def sort_columns(kind: SuggestionKind) -> dict[str, str]:
    """The list's ``sort`` values (without ``-``) and the column each orders by."""
    identifiers = {
        identifier.name: f"{kind.item_field}__{identifier.field}" for identifier in kind.identifiers
    }
    return {
        "id": "id",
        "created": "created",
        "modified": "modified",
        "username": "user__username",
        **identifiers,
        kind.item_name: f"{kind.item_field}__{kind.name_field}",
        "accepted": "accepted",
        "visible": "visible",
    }


def full_name() -> Trim:
    """The suggestion's user's full name (through the join)."""
    return full_name_sql("user__")


def suggestions_of_platform(
    kind: SuggestionKind, platform: Platform, user_ids: QuerySet | None = None
) -> QuerySet:
    """The platform's suggestions, limited to ``user_ids`` when given (department scope)."""
    suggestions = kind.model._default_manager.filter(platform=platform)
    if user_ids is not None:
        suggestions = suggestions.filter(user_id__in=user_ids)
    return suggestions


#: The suggestion object's fields that are the suggestion's own columns.
OWN_FIELDS = ("id", "user_id", "accepted", "visible", "created", "modified", "metadata")


def joined_fields(kind: SuggestionKind, platform: Platform | None) -> dict[str, Any]:
    """The suggestion object's other fields, as expressions over the suggestion.

    ``platform_key`` is the known platform's, not a join: with that join SQLite sorts
    the whole platform for every page instead of reading the (platform, id) index.
    Rows of several platforms (``platform`` is ``None``) join it.
    """
    platform_key: Any = (
        F("platform__key") if platform is None else Value(platform.key, output_field=CharField())
    )
    item = {
        identifier.name: F(f"{kind.item_field}__{identifier.field}")
        for identifier in kind.identifiers
    }
    item[kind.item_name] = F(f"{kind.item_field}__{kind.name_field}")
    if kind.platform_key_name:  # an item is on the platform of its suggestions
        item[kind.platform_key_name] = platform_key
    return {
        "username": F("user__username"),
        "name": full_name(),
        "platform_key": platform_key,
        **item,
    }


def written_row(
    kind: SuggestionKind,
    platform: Platform,
    row: Mapping[str, Any],
    member: Member,
    item: Item,
) -> dict[str, Any]:
    """The row :func:`suggestion_rows` would read for a suggestion the writer has just
    returned (``row``: its own columns), built in Python from what the write already
    holds: the Python mirror of :func:`joined_fields`, field for field (a test compares
    the two on both databases)."""
    joined = {
        "username": member.username,
        "name": member.name,
        "platform_key": platform.key,
        **item.keys,
        kind.item_name: item.name,
    }
    if kind.platform_key_name:
        joined[kind.platform_key_name] = platform.key
    return {**{name: row[name] for name in OWN_FIELDS}, **joined}


def object_expressions(kind: SuggestionKind, platform: Platform | None) -> dict[str, Any]:
    """Every field of the suggestion object, by name, as an expression."""
    return {**{name: F(name) for name in OWN_FIELDS}, **joined_fields(kind, platform)}


def suggestion_rows(
    kind: SuggestionKind, suggestions: QuerySet, platform: Platform | None
) -> QuerySet:
    """``values()`` rows with exactly the fields of the suggestion object, in one query
    (see :func:`joined_fields`)."""
    return suggestions.values(*OWN_FIELDS, **joined_fields(kind, platform))


def rows_in_order(
    kind: SuggestionKind, ids: Sequence[int], platform: Platform | None
) -> list[dict[str, Any]]:
    """The suggestion objects of ``ids``, in that order, in one query (``platform``:
    the platform of them all, when they share one).

    A suggestion deleted since its id was read is left out. With a platform, on SQLite
    and PostgreSQL, the query is compiled once per kind (:func:`rows_of_ids_query`): the
    ids travel as one parameter, so its SQL is the same for any number of them.
    """
    if platform is not None:
        alias = router.db_for_read(kind.model) or "default"
        vendor = connections[alias].vendor
        if vendor in ("sqlite", "postgresql"):
            listed = list(ids)
            if not listed:
                return []  # nothing to read: no query (as the ORM's empty IN)
            value = listed if vendor == "postgresql" else json.dumps(listed)
            rows = rows_of_ids_query(kind, vendor).dicts(
                [value, platform.pk, platform.key], using=alias
            )
            by_id = {row["id"]: row for row in rows}
            return [by_id[pk] for pk in listed if pk in by_id]
    suggestions = kind.model._default_manager.filter(pk__in=list(ids))
    if platform is not None:
        suggestions = suggestions.filter(platform=platform)
    by_id = {row["id"]: row for row in suggestion_rows(kind, suggestions, platform)}
    return [by_id[pk] for pk in ids if pk in by_id]


#: (kind label, vendor) -> the compiled query of a platform's suggestions of some ids.
_ROWS_OF_IDS: dict[tuple[str, str], CompiledQuery] = {}


def rows_of_ids_query(kind: SuggestionKind, vendor: str) -> CompiledQuery:
    """:func:`suggestion_rows` of a platform's suggestions whose ids are in a list given
    as ONE parameter (an array on PostgreSQL, a JSON array on SQLite, as
    ``ibl_core.sql.params.in_list`` writes it), compiled once per kind and vendor: the
    ids, the platform's id and its key are each request's values."""
    key = (kind.label, vendor)
    if key not in _ROWS_OF_IDS:

        def build(ids: Marker, platform_id: Marker, platform_key: Marker) -> QuerySet:
            of_ids = (
                Q(AnyOf("id", cast(list, ids.text), "bigint"))
                if vendor == "postgresql"
                else Q(id__in=RawSQL("SELECT value FROM json_each(%s)", (ids.text,)))
            )
            suggestions = kind.model._default_manager.filter(of_ids, platform_id=platform_id.number)
            expressions = joined_fields(kind, Platform(key=platform_key.text))
            return suggestions.order_by().values(*OWN_FIELDS, **expressions)

        _ROWS_OF_IDS[key] = CompiledQuery(kind.model, build, 3)
    return _ROWS_OF_IDS[key]


#: (kind label, order) -> the compiled page query of a platform's whole list.
_PAGE_QUERIES: dict[tuple[str, str], CompiledQuery] = {}


def platform_page_query(kind: SuggestionKind, order: str) -> CompiledQuery:
    """:func:`suggestion_rows` of a platform's suggestions in ``order`` (``"-id"`` or
    ``"id"``), compiled once: the platform's id and key are each request's values."""
    key = (kind.label, order)
    if key not in _PAGE_QUERIES:

        def build(platform_id: Marker, platform_key: Marker) -> QuerySet:
            suggestions = kind.model._default_manager.filter(platform_id=platform_id.number)
            expressions = {
                **joined_fields(kind, Platform(key=platform_key.text)),
            }
            return suggestions.order_by(order).values(*OWN_FIELDS, **expressions)

        _PAGE_QUERIES[key] = CompiledQuery(kind.model, build, 2)
    return _PAGE_QUERIES[key]


class PlatformPage(SlicedRows):
    """A platform's whole list in id order, read a page at a time with the compiled
    query (:func:`platform_page_query`): the rows ``suggestion_rows`` gives."""

    def __init__(self, kind: SuggestionKind, platform: Platform, order: str) -> None:
        self.query = platform_page_query(kind, order)
        self.platform = platform

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        start, stop = window.start or 0, window.stop
        return self.query.dicts(
            [self.platform.pk, self.platform.key], limit=stop - start, offset=start
        )


#: (kind label, sort) -> the compiled query of a platform's ids in that order.
_ID_QUERIES: dict[tuple[str, str], CompiledQuery] = {}


class SortedIds(SlicedRows):
    """A platform's suggestion ids in the order of a list ``sort`` value (its column,
    then id, in the same direction, as the filter set orders them), read a page at a
    time with a query compiled once per kind and sort."""

    def __init__(self, kind: SuggestionKind, platform: Platform, sort: str) -> None:
        key = (kind.label, sort)
        if key not in _ID_QUERIES:
            prefix = "-" if sort.startswith("-") else ""
            column = sort_columns(kind)[sort.lstrip("-")]

            def build(platform_id: Marker) -> QuerySet:
                return (
                    kind.model._default_manager.filter(platform_id=platform_id.number)
                    .order_by(f"{prefix}{column}", f"{prefix}id")
                    .values_list("pk")
                )

            _ID_QUERIES[key] = CompiledQuery(kind.model, build, 1)
        self.query = _ID_QUERIES[key]
        self.platform = platform

    def __getitem__(self, window: slice) -> list[int]:
        start, stop = window.start or 0, window.stop
        rows = self.query.rows([self.platform.pk], limit=stop - start, offset=start)
        return [row[0] for row in rows]
