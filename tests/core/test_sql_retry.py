"""``ibl_core.sql.retrying_transaction``: a write the database aborted is run again."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import OperationalError
from django.test import override_settings

from ibl_catalog.models import Program
from ibl_core.sql import retrying_transaction
from tests.support.factories import PlatformFactory

pytestmark = pytest.mark.django_db(transaction=True)


class Deadlock(Exception):
    sqlstate = "40P01"


def aborted(cause: BaseException) -> OperationalError:
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


def test_a_deadlock_is_retried_and_the_first_attempt_leaves_nothing():
    platform = PlatformFactory()
    attempts = []

    def work():
        attempts.append(1)
        Program.objects.create(platform=platform, program_key=f"p{len(attempts)}", name="P")
        if len(attempts) < 3:
            raise aborted(Deadlock("deadlock detected"))
        return "done"

    assert retrying_transaction(work) == "done"
    assert len(attempts) == 3
    assert list(Program.objects.values_list("program_key", flat=True)) == ["p3"]


@override_settings(IBL_DATA_MANAGER={"WRITE_RETRY_ATTEMPTS": 2})
def test_retries_are_bounded_then_the_error_goes_to_the_caller():
    attempts = []

    def work():
        attempts.append(1)
        raise aborted(sqlite3.OperationalError("database is locked"))

    with pytest.raises(OperationalError):
        retrying_transaction(work)
    assert len(attempts) == 2


def test_other_errors_are_not_retried():
    attempts = []

    def work():
        attempts.append(1)
        raise aborted(sqlite3.OperationalError("no such table: x"))

    with pytest.raises(OperationalError):
        retrying_transaction(work)
    assert len(attempts) == 1
