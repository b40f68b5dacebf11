"""The example project's settings plus the bench-only reference route (``bench.urls``).

``BENCH_EVENTS=off`` or ``outbox-off`` (the other servers of part ``events`` only)
adds ``bench.no_events``, which turns the recording of events into no-ops at start-up,
so the same code can be timed with and without its events. Not a production setting:
it exists in the bench's settings alone.
"""

import os

os.environ.setdefault(
    "DJANGO_SECRET_KEY", "bench-only-secret-key-never-used-in-production-0123456789"
)

from example_project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# The bench measures throughput from one API key: throttling would measure the limits.
# Part events delivers webhooks to a receiver on 127.0.0.1 (http, loopback).
IBL_DATA_MANAGER = {
    **IBL_DATA_MANAGER,  # noqa: F405
    "THROTTLE_RATES": dict.fromkeys(("reads", "writes", "bulk", "uploads")),
    "WEBHOOKS_ALLOW_PRIVATE": True,
}

if os.environ.get("BENCH_EVENTS", "on") in ("off", "outbox-off"):
    INSTALLED_APPS = [*INSTALLED_APPS, "bench.no_events.NoEventsConfig"]  # noqa: F405
