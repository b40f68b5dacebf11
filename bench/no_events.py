"""A bench-only app: the same code with its events turned off (``BENCH_EVENTS=off``).

Part ``events`` times writes on two servers that differ in this alone. At start-up,
every function a write calls only for its events becomes a no-op wherever it was
imported: the outbox (``record_events``, ``record_event``) and the suggestion event
builders, which shape each row's ``data`` before the outbox writes it. The bench checks
afterwards that this server recorded no event and the other one recorded every event.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any

from django.apps import AppConfig
from django.conf import settings


def record_nothing(*args: Any, **kwargs: Any) -> list[int]:
    """Stands in for the event functions: records nothing (``record_events`` returns
    the ids it recorded: none)."""
    return []


#: (module, name) of each function replaced.
EVENT_FUNCTIONS = (
    ("ibl_core.events", "record_events"),
    ("ibl_core.events", "record_event"),
    ("ibl_catalog.suggestions.events", "suggestion_events"),
    ("ibl_catalog.suggestions.events", "group_suggestion_event"),
)


def turn_events_off() -> int:
    """Replace the event functions by :func:`record_nothing` in every loaded module
    that holds them (``from ... import record_events`` copies the name); how many
    names were replaced."""
    originals = {id(getattr(import_module(module), name)) for module, name in EVENT_FUNCTIONS}
    replaced = 0
    for module in list(sys.modules.values()):
        for name, value in list(getattr(module, "__dict__", {}).items()):
            if callable(value) and id(value) in originals:
                setattr(module, name, record_nothing)
                replaced += 1
    return replaced


class NoEventsConfig(AppConfig):
    name = "bench"
    label = "bench_no_events"
    verbose_name = "Bench: events off"

    def ready(self) -> None:
        # The URLconf imports every view, hence every service that records events.
        import_module(settings.ROOT_URLCONF)
        if turn_events_off() < len(EVENT_FUNCTIONS):
            raise RuntimeError("bench.no_events: the event functions were not all found")
