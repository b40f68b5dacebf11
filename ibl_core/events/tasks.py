"""Background work on Django's tasks API, one code path whatever runs the tasks.

Django 6 ships the API as ``django.tasks``; on Django 5.2 the ``django-tasks`` backport
provides the same names. Which backend runs the tasks (the database queue of
``django-tasks-db`` with its ``db_worker`` command, RQ on Redis, ...) is the host
project's ``TASKS`` setting alone: nothing here depends on it.

Work is enqueued with :func:`enqueue_on_commit`, so a write that rolls back sends
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction

try:  # Django >= 6.0
    from django.tasks import default_task_backend, task, task_backends
except ImportError:  # Django 5.2: the backport
    from django_tasks import (  # type: ignore[assignment,no-redef,unused-ignore]
        default_task_backend,
        task,
        task_backends,
    )

__all__ = [
    "default_task_backend",
    "enqueue_on_commit",
    "register_sweeper",
    "sweep",
    "task",
    "task_backends",
]


def enqueue_on_commit(work: Any, *args: Any, using: str | None = None, **kwargs: Any) -> None:
    """Enqueue the task ``work`` with these arguments once the current transaction
    commits (at once outside a transaction); never when it rolls back. A queue that
    fails then is logged, not raised: the write it follows has committed."""
    transaction.on_commit(lambda: work.enqueue(*args, **kwargs), using=using, robust=True)


#: What :func:`sweep` runs: name -> a function of "now" that hands the queue the work
#: that never reached it, and answers what it did in a few words.
_SWEEPERS: dict[str, Callable[[datetime], str]] = {}


def register_sweeper(name: str, sweeper: Callable[[datetime], str]) -> None:
    """Add ``sweeper`` to :func:`sweep` (each app registers its own in ``ready()``)."""
    _SWEEPERS[name] = sweeper


def sweep(now: datetime | None = None) -> list[str]:
    """Run every sweeper: work whose enqueue failed after its commit (the queue was
    down) is handed to the queue again. Safe to run at any time, and several at once:
    each piece of work is claimed before it runs, so none runs twice. What each did."""
    from django.utils import timezone

    moment = now or timezone.now()
    return [sweeper(moment) for _, sweeper in sorted(_SWEEPERS.items())]
