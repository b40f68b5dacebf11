"""The events of suggestions: each one's ``data`` is the object as the API answers it.

Services call these inside their transaction (``ibl_core.events.outbox`` records them there).
Only the objects are built here, from rows the write already returned: no query per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.db import connections
from django.db.models import Case, CharField, Value, When

from ibl_catalog.suggestions import selectors
from ibl_catalog.suggestions.base import SuggestionKind
from ibl_catalog.suggestions.serializers import (
    build_group_serializers,
    build_serializers,
    iter_represented,
    represent_rows,
)
from ibl_core.api.representation import json_object
from ibl_core.events.outbox import PendingEvent, record_events, record_selected_events
from ibl_core.models import Platform
from ibl_core.sql import in_list


def suggestion_events(
    kind: SuggestionKind,
    platform: Platform | int,
    typed_objects: Iterable[tuple[str, Mapping[str, Any]]],
) -> None:
    """Record ``(type, suggestion object)`` pairs (``suggestion.*``), each shaped and
    encoded as it comes: a 10,000-row bulk never holds its 10,000 objects at once."""
    types: list[str] = []

    def objects() -> Iterator[Mapping[str, Any]]:
        for event_type, obj in typed_objects:
            types.append(event_type)
            yield obj

    shaped = iter_represented(build_serializers(kind).output, objects())
    record_events(
        platform,
        (PendingEvent(types[index], data["id"], data) for index, data in enumerate(shaped)),
    )


def written_events(
    kind: SuggestionKind, platform: Platform, ids: Sequence[int], inserted_at: Any
) -> None:
    """Record ``suggestion.created`` (rows inserted at ``inserted_at``) or
    ``suggestion.updated`` for the suggestions ``ids`` a write has just written, in
    (user, item) order, each with the suggestion object as ``data``.

    The database builds the objects and writes the events in one statement
    (:func:`ibl_core.events.outbox.record_selected_events`); where it cannot write an object
    exactly as the API does (:func:`ibl_core.api.representation.json_object`), the rows
    are read and shaped here, as the list shapes them.
    """
    if not ids:
        return
    suggestions = kind.model._default_manager.filter(in_list("pk", ids), platform=platform)
    ordered = suggestions.order_by("user_id", f"{kind.item_field}_id")
    data = json_object(
        build_serializers(kind).output,
        selectors.object_expressions(kind, platform),
        connections[suggestions.db].vendor,
    )
    if data is None:
        rows = selectors.suggestion_rows(kind, ordered, platform)
        suggestion_events(kind, platform, ((written_type(row, inserted_at), row) for row in rows))
        return
    record_selected_events(
        platform,
        ordered,
        type=Case(
            When(created=inserted_at, then=Value("suggestion.created")),
            default=Value("suggestion.updated"),
            output_field=CharField(),
        ),
        object_id="id",
        data=data,
    )


def written_type(row: Mapping[str, Any], inserted_at: Any) -> str:
    """``suggestion.created`` for a row the write inserted (created at the write's
    time, ``inserted_at``), else ``suggestion.updated``."""
    return "suggestion.created" if row["created"] == inserted_at else "suggestion.updated"


def answer_type(answer: Mapping[str, Any]) -> str:
    """The event of a learner's answer: accepted, dismissed (hidden), else updated
    (``accepted=false`` or ``visible=true`` alone)."""
    if answer.get("accepted") is True:
        return "suggestion.accepted"
    if answer.get("visible") is False:
        return "suggestion.dismissed"
    return "suggestion.updated"


def group_suggestion_event(
    kind: SuggestionKind, platform: Platform, event_type: str, row: Mapping[str, Any]
) -> None:
    """Record one ``group_suggestion.*`` event of a group suggestion object."""
    (data,) = represent_rows(build_group_serializers(kind).output, [row])
    record_events(platform, [PendingEvent(event_type, data["id"], data)])
