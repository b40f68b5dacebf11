"""The outbox: every event is recorded here, in the transaction of the change it records.

Services call :func:`record_events` (or :func:`record_event` for one) inside their
transaction. The rows are written by one ``INSERT ... SELECT`` from a single JSON
parameter, whatever their number, so a bulk request's query count does not grow with
its rows. Once the transaction commits, the platform's webhooks are told
(:func:`ibl_core.webhooks.delivery.events_committed`); a rolled-back write leaves no
event and sends nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, router, transaction
from django.utils import timezone

from .models import Event, Platform

#: Every event type, in the order of the contract (docs/events.md).
EVENT_TYPES = (
    "suggestion.created",
    "suggestion.updated",
    "suggestion.deleted",
    "suggestion.accepted",
    "suggestion.dismissed",
    "group_suggestion.created",
    "group_suggestion.deleted",
    "assertion.issued",
    "assertion.revoked",
    "assertion.accepted",
    "assertion.rejected",
    "credential.created",
    "credential.deleted",
)


_KNOWN_TYPES = frozenset(EVENT_TYPES)
_ENCODER = DjangoJSONEncoder(separators=(",", ":"))


class PendingEvent(NamedTuple):
    """An event to record: its type, the id of its object, the object as the API
    answers it (JSON-serializable; datetimes are written in ISO 8601)."""

    type: str
    object_id: Any
    data: Any


def record_event(platform: Platform | int, type: str, object_id: Any, data: Any) -> None:
    """Record one event (see :func:`record_events`)."""
    record_events(platform, [PendingEvent(type, object_id, data)])


def record_events(platform: Platform | int, events: Iterable[PendingEvent]) -> list[int]:
    """Record ``events`` of ``platform`` in the current transaction; their ids.

    One statement for any number of events. ``events`` may be a generator: each event
    is encoded as it comes, so a bulk write's objects need not all be held at once.
    Delivery starts when the transaction commits (at once when none is open).
    """
    encode = _ENCODER.encode
    parts = []
    for event in events:
        if event.type not in _KNOWN_TYPES:
            raise ValueError(f"Unknown event type: {event.type!r}")
        parts.append(encode((event.type, str(event.object_id), event.data)))
    if not parts:
        return []
    rows = "[" + ",".join(parts) + "]"
    del parts
    platform_id = platform if isinstance(platform, int) else platform.pk
    alias = router.db_for_write(Event)
    connection = connections[alias]
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    table = connection.ops.quote_name(Event._meta.db_table)
    columns = "(platform_id, type, object_id, payload, created)"
    if connection.vendor == "postgresql":
        source = (
            "SELECT %s, e.v->>0, e.v->>1, e.v->2, %s "
            "FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS e(v, n) ORDER BY e.n"
        )
    else:
        source = (
            "SELECT %s, json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
            "json_extract(value, '$[2]'), %s FROM json_each(%s) ORDER BY key"
        )
    sql = f"INSERT INTO {table} {columns} {source} RETURNING id"
    with connection.cursor() as cursor:
        cursor.execute(sql, [platform_id, created, rows])
        ids = sorted(row[0] for row in cursor.fetchall())
    # robust: the write has committed, so a queue that fails to answer must not turn
    # the request into an error (the failure is logged; the events stay recorded).
    transaction.on_commit(lambda: _committed(platform_id, ids), using=alias, robust=True)
    return ids


def _committed(platform_id: int, event_ids: list[int]) -> None:
    from .webhooks.delivery import events_committed

    events_committed(platform_id, event_ids)
