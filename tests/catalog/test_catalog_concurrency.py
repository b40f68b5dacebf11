"""Concurrent writes of one suggestion: one row, every answer 200 (catalog.md)."""

from __future__ import annotations

import threading
import time
from unittest import mock

import pytest
from django.db import connections

from ibl_catalog.models import ProgramSuggestion
from tests.support.catalog_helpers import BULK, MANAGE
from tests.support.factories import (
    MembershipFactory,
    PlatformFactory,
    ProgramFactory,
    UserFactory,
    issue_key,
)
from tests.support.race_helpers import RACES, run_together

pytestmark = RACES
THREADS = 8


def setup():
    from rest_framework.test import APIClient

    platform = PlatformFactory(key="race")
    admin = UserFactory()
    MembershipFactory(user=admin, platform=platform, is_admin=True)
    learners = UserFactory.create_batch(20)
    for learner in learners:
        MembershipFactory(user=learner, platform=platform)
    program = ProgramFactory(platform=platform)
    key = issue_key(admin, platform)

    def client():
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Api-Token {key}")
        return c

    return platform, learners, program, client


def test_concurrent_posts_of_one_suggestion():
    _, learners, program, client = setup()
    body = {"platform_key": "race", "program_key": program.program_key, "user_id": learners[0].pk,
            "accepted": True}  # fmt: skip
    responses = run_together(
        [lambda: client().post(MANAGE, body, format="json") for _ in range(THREADS)]
    )
    assert [r.status_code for r in responses] == [200] * THREADS
    assert ProgramSuggestion.objects.count() == 1
    assert len({r.json()["id"] for r in responses}) == 1


def test_concurrent_overlapping_bulk_requests():
    _, learners, program, client = setup()

    def rows(offset):
        return [{"program_key": program.program_key, "user_id": u.pk}
                for u in learners[offset : offset + 15]]  # fmt: skip

    def bulk(offset):
        body = {"platform_key": "race", "suggestion_data": rows(offset % 6)}
        return lambda: client().post(BULK, body, format="json")

    responses = run_together([bulk(offset) for offset in range(THREADS)])
    assert [r.status_code for r in responses] == [200] * THREADS
    assert all(r.json()["error_codes"] == [] for r in responses)
    assert ProgramSuggestion.objects.count() == 20


def many_learners(platform, count):
    users = UserFactory.create_batch(count)
    MembershipFactory._meta.model.objects.bulk_create(
        MembershipFactory.build(user=user, platform=platform) for user in users
    )
    return users


@pytest.mark.slow
@pytest.mark.parametrize("existing", [False, True], ids=["creating", "updating"])
def test_overlapping_bulks_with_opposite_field_mixes_never_deadlock(existing):
    """A sets accepted on even users and visible on odd ones; B, which starts one user
    later, sets accepted on odd users and visible on even ones. Sent together.

    Rows grouped by field set took their locks group by group: A evens then odds, B
    odds then evens, a deadlock (500) on PostgreSQL. One global order makes them wait.
    """
    platform, _, program, client = setup()
    learners = many_learners(platform, 600)
    if existing:
        ProgramSuggestion.objects.bulk_create(
            ProgramSuggestion(platform=platform, user=u, program=program) for u in learners
        )

    def body(even_field, odd_field, start):
        rows = [
            {"program_key": program.program_key, "user_id": user.pk,
             (even_field if index % 2 == 0 else odd_field): True}
            for index, user in enumerate(learners) if index >= start
        ]  # fmt: skip
        return {"platform_key": "race", "suggestion_data": rows}

    bodies = [body("accepted", "visible", 0), body("visible", "accepted", 1)] * 2
    for _ in range(3):
        responses = run_together(
            [lambda b=b: client().post(BULK, b, format="json") for b in bodies]
        )
        assert [r.status_code for r in responses] == [200] * 4
        assert [r.json()["successes"] for r in responses] == [600, 599, 600, 599]
    assert ProgramSuggestion.objects.count() == 600


def test_post_racing_delete_never_answers_500():
    platform, learners, program, client = setup()
    body = {"platform_key": "race", "program_key": program.program_key,
            "user_id": learners[0].pk, "accepted": True}  # fmt: skip

    def post():
        return client().post(MANAGE, body, format="json")

    def delete():
        suggestion = ProgramSuggestion.objects.filter(platform=platform).first()
        if suggestion is None:
            return None
        return client().delete(MANAGE, QUERY_STRING=f"suggestion_id={suggestion.pk}")

    def delete_or_skip():
        response = delete()
        return response if response is not None else "nothing to delete"

    for _ in range(10):
        responses = run_together([post, delete_or_skip, post, delete_or_skip])
        answered = [r for r in responses if r != "nothing to delete"]
        assert None not in answered  # a thread that raised (a 500) leaves None
        assert {r.status_code for r in answered} <= {200, 404}
        assert all(
            r.json()["accepted"] is True for r in answered if r.request["REQUEST_METHOD"] == "POST"
        )


def misaligned_bulks(attempts: int, *, outer_atomic: bool = False) -> dict:
    """Two writes whose batches split differently, interleaved at the worst moment.

    A writes [k1 (exists), k2 (new)] as one batch; B writes [k0, k1] and [k2] as two
    (BULK_BATCH_SIZE=2). A is held just after its INSERT (it holds k2), while B would
    lock k1 and then wait to insert k2. A writer that ran insert, lock and update batch
    by batch deadlocked here; one that runs each phase over every batch first cannot.
    """
    import contextlib
    import logging

    from django.db import transaction
    from django.test import override_settings

    from ibl_catalog.declarations import PROGRAM_SUGGESTIONS
    from ibl_catalog.suggestions.writer import PendingWrite, _Statements, write_suggestions

    platform = PlatformFactory(key="batches")
    program = ProgramFactory(platform=platform)
    users = sorted(UserFactory.create_batch(3), key=lambda user: user.pk)
    for user in users:
        MembershipFactory(user=user, platform=platform)
    k0, k1, k2 = (user.pk for user in users)
    ProgramSuggestion.objects.create(platform=platform, user_id=k1, program=program)
    a_inserted, release_a = threading.Event(), threading.Event()
    real_insert = _Statements.insert_new

    def insert_new(self, *args, **kwargs):
        rows = real_insert(self, *args, **kwargs)
        if threading.current_thread().name == "A" and not a_inserted.is_set():
            a_inserted.set()
            release_a.wait(5)
        return rows

    errors: dict = {}
    retries: list = []

    class Retries(logging.Handler):
        def emit(self, record):
            retries.append(record.getMessage())

    def write(name, writes, wait):
        if wait:
            a_inserted.wait(5)
        try:
            outer = transaction.atomic() if outer_atomic else contextlib.nullcontext()
            with outer:
                write_suggestions(PROGRAM_SUGGESTIONS, platform, writes, suggested_by_id=None)
        except Exception as error:  # a deadlock that escaped
            errors[name] = error
        finally:
            connections.close_all()

    item = program.pk
    a_rows = [
        PendingWrite(k1, item, {"accepted": True}),
        PendingWrite(k2, item, {"visible": False}),
    ]
    b_rows = [PendingWrite(k0, item, {}), PendingWrite(k1, item, {"visible": False}),
              PendingWrite(k2, item, {"accepted": True})]  # fmt: skip
    handler = Retries()
    logging.getLogger("ibl.db").addHandler(handler)
    settings = {"BULK_BATCH_SIZE": 2, "WRITE_RETRY_ATTEMPTS": attempts}
    try:
        with (
            override_settings(IBL_DATA_MANAGER=settings),
            mock.patch.object(_Statements, "insert_new", insert_new),
        ):
            a = threading.Thread(target=write, name="A", args=("A", a_rows, False))
            b = threading.Thread(target=write, name="B", args=("B", b_rows, True))
            a.start()
            b.start()
            time.sleep(0.5)  # B runs as far as it can
            release_a.set()
            a.join(30)
            b.join(30)
    finally:
        logging.getLogger("ibl.db").removeHandler(handler)
    return {"errors": errors, "retries": retries, "rows": ProgramSuggestion.objects.count()}


def test_bulks_with_misaligned_batches_take_locks_in_one_order():
    outcome = misaligned_bulks(attempts=1)
    assert outcome == {"errors": {}, "retries": [], "rows": 3}


def test_a_retryable_failure_inside_an_outer_transaction_is_retried():
    """ATOMIC_REQUESTS: the retry rolls back to a savepoint, the outer block goes on."""
    from ibl_catalog.declarations import PROGRAM_SUGGESTIONS
    from ibl_catalog.suggestions.writer import (
        PendingWrite,
        WriteConflict,
        _Statements,
        write_suggestions,
    )

    platform, learners, program, _ = setup()
    real_insert = _Statements.insert_new
    calls = []

    def conflicting_once(self, *args, **kwargs):
        calls.append(1)
        rows = real_insert(self, *args, **kwargs)
        if len(calls) == 1:
            raise WriteConflict("rows kept changing")
        return rows

    from django.db import transaction

    with mock.patch.object(_Statements, "insert_new", conflicting_once), transaction.atomic():
        written = write_suggestions(
            PROGRAM_SUGGESTIONS, platform, [PendingWrite(learners[0].pk, program.pk, {})],
            suggested_by_id=None, returning=True,
        )  # fmt: skip
        assert ProgramSuggestion.objects.count() == 1  # the outer transaction goes on
    assert len(calls) == 2 and [row["user_id"] for row in written] == [learners[0].pk]
    assert ProgramSuggestion.objects.count() == 1
