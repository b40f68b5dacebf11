"""The outbox: every event is recorded here, in the transaction of the change it records.

Services call :func:`record_events` (or :func:`record_event` for one) inside their
transaction. The rows are written by one ``INSERT ... SELECT`` from a single JSON
parameter per ``BULK_BATCH_SIZE`` events (the rows per statement of every bulk write),
so a bulk request's events cost a statement per batch, as its rows do, and its memory
holds one batch of them encoded at a time. Once the transaction commits, the
platform's webhooks are told (:func:`ibl_core.events.webhooks.delivery.events_committed`); a
rolled-back write leaves no event and sends nothing.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, router, transaction
from django.db.models import CharField, DateTimeField, IntegerField, QuerySet, Value, When
from django.db.models.functions import Cast
from django.utils import timezone

from ibl_core.conf import ibl_settings
from ibl_core.models import Event, Platform
from ibl_core.sql import bound_cursor, json_rows, quoted_table

Jsonb: Any
try:  # psycopg 3 (the "postgres" extra); with psycopg2 the payloads travel as text
    from psycopg.types.json import Jsonb
except ImportError:  # pragma: no cover
    Jsonb = None

logger = logging.getLogger(__name__)

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

    One statement per ``BULK_BATCH_SIZE`` events, the rows per statement of every bulk
    write. ``events`` may be a generator: each event is encoded as it comes, and only
    one batch is held encoded at a time, so a 10,000-row bulk never holds all its
    events' objects or their JSON at once. Delivery starts when the transaction
    commits (at once when none is open).
    """
    platform_id = platform if isinstance(platform, int) else platform.pk
    alias = router.db_for_write(Event)
    connection = connections[alias]
    as_bytes = connection.vendor == "postgresql" and Jsonb is not None
    size = int(ibl_settings.BULK_BATCH_SIZE)
    types: set[str] = set()  # what was recorded, for the listeners that want some types

    def noted(events: Iterable[PendingEvent]) -> Iterator[PendingEvent]:
        for event in events:
            types.add(event.type)
            yield event

    pending = noted(events)
    ids: list[int] = []
    while (rows := _encoded(itertools.islice(pending, size), as_bytes=as_bytes)) is not None:
        ids += _insert(connection, alias, platform_id, rows)
    _dispatch_on_commit(alias, platform_id, ids, frozenset(types))
    return ids


def record_selected_events(
    platform: Platform | int,
    rows: QuerySet,
    *,
    type: Any,
    object_id: Any,
    data: Any,
) -> list[int]:
    """Record one event per row of ``rows``, in their order, built by the database:
    ``type``, ``object_id`` and ``data`` are expressions over a row (``data``: the
    object as JSON, see :mod:`ibl_core.api.representation`). One ``INSERT ... SELECT``,
    whatever the number of rows: nothing is read back into Python but the ids.

    ``type`` gives the event types as constants (``Value``, ``Case``/``When`` of
    them), each checked against :data:`EVENT_TYPES` as :func:`record_events` checks
    its events. ``rows`` must be on the database of the events.
    """
    types = frozenset(_constant_types(type))
    for name in types:
        _check(PendingEvent(name, None, None))
    platform_id = platform if isinstance(platform, int) else platform.pk
    alias = router.db_for_write(Event)
    if rows.db != alias:
        raise ValueError(f"Events are written to {alias!r}, the rows are on {rows.db!r}.")
    connection = connections[alias]
    selected = rows.values_list(
        Value(platform_id, output_field=IntegerField()),
        type,
        Cast(object_id, CharField()),
        data,
        Value(timezone.now(), output_field=DateTimeField()),
    )
    sql, params = selected.query.get_compiler(using=alias).as_sql()
    table = quoted_table(connection, Event)
    columns = "(platform_id, type, object_id, payload, created)"
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} {columns} {sql} RETURNING id", params)
        ids = sorted(row[0] for row in cursor.fetchall())
    _dispatch_on_commit(alias, platform_id, ids, types)
    return ids


def _constant_types(expression: Any) -> list[str]:
    """The text constants an expression of event types can give; ``ValueError`` when
    it gives none (a column, say: nothing to check)."""
    found: list[str] = []
    pending = [expression]
    while pending:
        node = pending.pop()
        if isinstance(node, Value) and isinstance(node.value, str):
            found.append(node.value)
        elif isinstance(node, When):  # its condition is not a type, its result is
            pending.append(node.result)
        elif hasattr(node, "get_source_expressions"):
            pending.extend(node.get_source_expressions())
    if not found:
        raise ValueError("The event types must be constants (Value, Case of Values).")
    return found


def _dispatch_on_commit(
    alias: str, platform_id: int, ids: list[int], types: frozenset[str]
) -> None:
    """Have the events ``ids`` (of ``types``) dispatched once the transaction commits
    (at once when none is open)."""
    if ids:
        # robust: the write has committed, so a queue that fails to answer must not
        # turn the request into an error (the failure is logged; the events stay
        # recorded, and the sweeper dispatches them: docs/events.md).
        transaction.on_commit(lambda: _committed(platform_id, ids, types), using=alias, robust=True)


def _insert(connection: Any, alias: str, platform_id: int, rows: str | bytearray) -> list[int]:
    """One ``INSERT ... SELECT`` of the encoded ``rows``; their ids, in order."""
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    table = quoted_table(connection, Event)
    columns = "(platform_id, type, object_id, payload, created)"
    sql = (
        f"{json_rows(connection.vendor, ('text', 'text', 'json'), ordinal=True, jsonb=True)} "
        f"INSERT INTO {table} {columns} SELECT %s, s.c0, s.c1, s.c2, %s FROM s ORDER BY s.n "
        "RETURNING id"
    )
    # psycopg 3: the bytes are sent as they are, not copied again
    payloads = Jsonb(rows, dumps=_as_is) if isinstance(rows, bytearray) else rows
    with bound_cursor(alias) as cursor:
        cursor.execute(sql, [payloads, platform_id, created])
        return sorted(row[0] for row in cursor.fetchall())


def _encoded(events: Iterable[PendingEvent], *, as_bytes: bool) -> str | bytearray | None:
    """``events`` as one JSON array of ``[type, object id, data]`` (None when there are
    none), each encoded as it comes. As UTF-8 bytes grown in place when ``as_bytes``:
    a 10,000-event bulk then holds its payloads once, not as 10,000 strings, their
    join and its encoding at the same time."""
    encode = _ENCODER.encode
    if as_bytes:
        buffer = bytearray(b"[")
        for event in events:
            _check(event)
            if len(buffer) > 1:
                buffer += b","
            buffer += encode((event.type, str(event.object_id), event.data)).encode()
        if len(buffer) == 1:
            return None
        buffer += b"]"
        return buffer
    parts = []
    for event in events:
        _check(event)
        parts.append(encode((event.type, str(event.object_id), event.data)))
    return "[" + ",".join(parts) + "]" if parts else None


def _check(event: PendingEvent) -> None:
    if event.type not in _KNOWN_TYPES:
        raise ValueError(f"Unknown event type: {event.type!r}")


def _as_is(data: Any) -> Any:
    return data


Listener = Callable[[int, list[int]], None]

#: Who else hears of committed events (besides the webhooks): name -> (a function of
#: (platform id, event ids), the event types it wants or None for all). An app registers
#: in its ``ready()``, so that it learns of every write the outbox records without the
#: services that write knowing of it.
_COMMIT_LISTENERS: dict[str, tuple[Listener, frozenset[str] | None]] = {}


def register_commit_listener(
    name: str, listener: Listener, *, types: Iterable[str] | None = None
) -> None:
    """Have ``listener(platform_id, event_ids)`` called once events are committed; with
    ``types``, only for a commit that recorded one of them (a write of anything else
    costs the listener nothing, not even a query)."""
    _COMMIT_LISTENERS[name] = (listener, None if types is None else frozenset(types))


def _committed(platform_id: int, event_ids: list[int], types: frozenset[str]) -> None:
    from ibl_core.events.webhooks.delivery import events_committed

    listeners = [("webhooks", (events_committed, None)), *sorted(_COMMIT_LISTENERS.items())]
    for name, (listener, wanted) in listeners:
        if wanted is not None and not wanted & types:
            continue
        try:  # one listener that fails (its queue is down) does not silence the others
            listener(platform_id, event_ids)
        except Exception:
            logger.exception("The %s listener failed on committed events.", name)
