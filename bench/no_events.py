"""A bench-only app: the same code with its events turned off (``BENCH_EVENTS``).

Part ``events`` times writes on servers that differ in this alone. At start-up, the
functions a write calls only for its events become no-ops wherever they were
imported: with ``BENCH_EVENTS=off``, the outbox (``record_events``, ``record_event``,
``record_selected_events``) and the suggestion event builders, which shape each row's
``data`` before the outbox writes it; with ``BENCH_EVENTS=outbox-off``, the outbox
alone (the data is still built, then dropped; a bulk's data is built by the database
in the outbox's statement, so there it goes with the outbox). The bench checks
afterwards that such a server recorded no event and the bench server recorded every
event.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from importlib import import_module
from types import ModuleType
from typing import Any

from django.apps import AppConfig
from django.conf import settings


def record_nothing(*args: Any, **kwargs: Any) -> list[int]:
    """Stands in for the event functions: records nothing (``record_events`` returns
    the ids it recorded: none)."""
    return []


#: (module, name) of the functions replaced: the outbox, and the suggestion event
#: builders that shape the events' data and hand it to the outbox.
OUTBOX = (
    ("ibl_core.events.outbox", "record_events"),
    ("ibl_core.events.outbox", "record_event"),
    ("ibl_core.events.outbox", "record_selected_events"),
)
BUILDERS = (
    ("ibl_catalog.suggestions.events", "suggestion_events"),
    ("ibl_catalog.suggestions.events", "written_events"),
    ("ibl_catalog.suggestions.events", "group_suggestion_event"),
)
#: ``BENCH_EVENTS`` -> the functions it replaces.
SWITCHES = {"off": OUTBOX + BUILDERS, "outbox-off": OUTBOX}


def turn_events_off(
    modules: Iterable[ModuleType], functions: tuple[tuple[str, str], ...] = OUTBOX + BUILDERS
) -> int:
    """Replace ``functions`` by :func:`record_nothing` in each of ``modules`` that
    holds them (``from ... import record_events`` copies the name); how many names
    were replaced."""
    originals = [getattr(import_module(module), name) for module, name in functions]
    replaced = 0
    for module in list(modules):
        for name, value in list(getattr(module, "__dict__", {}).items()):
            if any(value is original for original in originals):
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
        functions = SWITCHES[os.environ["BENCH_EVENTS"]]
        if turn_events_off(list(sys.modules.values()), functions) < len(functions):
            raise RuntimeError("bench.no_events: the event functions were not all found")
