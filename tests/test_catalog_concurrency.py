"""Concurrent writes of one suggestion: one row, every answer 200 (catalog.md)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from ibl_catalog.models import ProgramSuggestion
from tests.catalog_helpers import BULK, MANAGE
from tests.factories import (
    MembershipFactory,
    PlatformFactory,
    ProgramFactory,
    UserFactory,
    issue_key,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="SQLite in-process threads serialize on one file and cannot show the race; "
        "run make test-postgres",
    ),
]
THREADS = 8


def run_together(requests):
    """Run the callables at the same instant, each in its own thread and connection."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def worker(index, request):
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
