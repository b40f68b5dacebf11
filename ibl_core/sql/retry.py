"""Writes that the database aborted as a deadlock or serialization failure, run again.

:func:`retrying_transaction` runs a write again when the database aborted it as a
deadlock or serialization failure (or SQLite found its file busy), instead of
answering 500.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, transaction

from ibl_core.conf import ibl_settings

T = TypeVar("T")
logger = logging.getLogger("ibl.db")


#: SQLSTATEs of a transaction the database gave up on and that succeeds when re-run.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock


def is_retryable(error: BaseException) -> bool:
    """Whether ``error`` is a deadlock, a serialization failure or a busy SQLite file."""
    if getattr(error, "retryable", False):
        return True
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return isinstance(cause, sqlite3.OperationalError) and "locked" in str(cause)


def retrying_transaction(
    work: Callable[[], T], *, using: str = "default", attempts: int | None = None
) -> T:
    """Run ``work`` in a transaction; re-run it when the database aborts it as retryable.

    A deadlock or serialization failure rolls the transaction back (inside an outer
    transaction, such as ``ATOMIC_REQUESTS``, back to a savepoint, which also releases
    the locks taken since), so running it again from the start is safe. The wait
    between attempts grows and is jittered, so the transactions that collided do not
    collide again in step.
    """
    attempts = attempts or int(ibl_settings.WRITE_RETRY_ATTEMPTS)
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic(using=using):
                return work()
        except OperationalError as error:
            if attempt == attempts or not is_retryable(error):
                raise
            logger.warning(
                "Retrying a write after %s (attempt %d)",
                type(error.__cause__ or error).__name__,
                attempt,
            )
            time.sleep(random.uniform(0, 0.05 * 2**attempt))
    raise AssertionError("unreachable")
