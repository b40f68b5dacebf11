"""Races between real connections: requests started at the same instant, each in its
own thread and database connection, and the marks such tests carry."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from django.db import connection, connections

#: ``pytestmark`` of a test module of races: real transactions, and skipped on SQLite,
#: whose in-process threads take turns on one file (the races show on PostgreSQL).
RACES = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="SQLite in-process threads serialize on one file and cannot show the race; "
        "run make test-postgres",
    ),
]


def run_together(requests: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run the callables at the same instant, each in its own thread and connection."""
    barrier = threading.Barrier(len(requests))
    results: list[Any] = [None] * len(requests)

    def worker(index: int, request: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = request()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results
