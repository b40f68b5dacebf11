"""Reads: the suggestions of a platform, shaped as the API answers them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import CharField, F, QuerySet, Value
from django.db.models.functions import Trim

from ibl_core.models import Platform

from . import search
from .base import SuggestionKind


def sort_columns(kind: SuggestionKind) -> dict[str, str]:
    """The list's ``sort`` values (without ``-``) and the column each orders by."""
    return {
        "id": "id",
        "created": "created",
        "modified": "modified",
        "username": "user__username",
        kind.key_name: f"{kind.item_field}__{kind.key_field}",
        kind.item_name: f"{kind.item_field}__{kind.name_field}",
        "accepted": "accepted",
        "visible": "visible",
    }


def full_name() -> Trim:
    """The suggestion's user's full name (``search.full_name`` through the join)."""
    return search.full_name("user__")


def suggestions_of_platform(
    kind: SuggestionKind, platform: Platform, user_ids: QuerySet | None = None
) -> QuerySet:
    """The platform's suggestions, limited to ``user_ids`` when given (department scope)."""
    suggestions = kind.model._default_manager.filter(platform=platform)
    if user_ids is not None:
        suggestions = suggestions.filter(user_id__in=user_ids)
    return suggestions


def suggestion_rows(kind: SuggestionKind, suggestions: QuerySet, platform: Platform) -> QuerySet:
    """``values()`` rows with exactly the fields of the suggestion object, in one query.

    ``platform_key`` is the known platform's, not a join: with that join SQLite sorts
    the whole platform for every page instead of reading the (platform, id) index.
    """
    return suggestions.values(
        "id",
        "user_id",
        "accepted",
        "visible",
        "created",
        "modified",
        "metadata",
        username=F("user__username"),
        name=full_name(),
        platform_key=Value(platform.key, output_field=CharField()),
        **{
            kind.key_name: F(f"{kind.item_field}__{kind.key_field}"),
            kind.item_name: F(f"{kind.item_field}__{kind.name_field}"),
        },
    )


def rows_in_order(
    kind: SuggestionKind, ids: Sequence[int], platform: Platform
) -> list[dict[str, Any]]:
    """The suggestion objects of ``ids``, in that order, in one query.

    A suggestion deleted since its id was read is left out.
    """
    suggestions = kind.model._default_manager.filter(platform=platform, pk__in=list(ids))
    by_id = {row["id"]: row for row in suggestion_rows(kind, suggestions, platform)}
    return [by_id[pk] for pk in ids if pk in by_id]
