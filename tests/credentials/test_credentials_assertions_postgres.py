"""Concurrent issuing on PostgreSQL: one active assertion per item, never a 500."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from ibl_credentials.models import Assertion
from tests.support.assertion_helpers import bulk_url, credential_url
from tests.support.credentials_factories import AssertionFactory, CredentialFactory
from tests.support.factories import MembershipFactory, PlatformFactory, UserFactory, issue_key
from tests.support.race_helpers import RACES, run_together

pytestmark = RACES
THREADS = 8


def setup():
    platform = PlatformFactory(key="race")
    admin = UserFactory(username="race-admin")
    MembershipFactory(user=admin, platform=platform, is_admin=True)
    learners = UserFactory.create_batch(20)
    for learner in learners:
        MembershipFactory(user=learner, platform=platform)
    credential = CredentialFactory(issuer__platform=platform, entity_id="race-cred")
    key = issue_key(admin, platform)

    def client():
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Api-Token {key}")
        return c

    return credential, learners, client


@pytest.mark.parametrize("expired", [False, True], ids=["new", "replacing-expired"])
def test_concurrent_issues_of_one_credential_to_one_user(expired):
    credential, learners, client = setup()
    if expired:
        old = AssertionFactory(
            credential=credential,
            recipient=learners[0],
            expires=timezone.now() - dt.timedelta(days=1),
        )
    url = credential_url("race-cred", "race-admin", "race")
    body = {"recipient": {"identity": learners[0].username}}
    responses = run_together(
        [lambda: client().post(url, body, format="json") for _ in range(THREADS)]
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (THREADS - 1) + [201]
    assert len({r.json()["entityId"] for r in responses}) == 1
    active = Assertion.objects.filter(revoked=False, superseded=False)
    assert active.count() == 1
    assert active.get().entity_id == responses[0].json()["entityId"]
    if expired:
        old.refresh_from_db()
        assert old.superseded


def test_concurrent_overlapping_bulks():
    _, learners, client = setup()

    def bulk(offset):
        body = {"users": [u.username for u in learners[offset % 6 : offset % 6 + 15]]}
        url = bulk_url("race-cred", "race-admin", "race")
        return lambda: client().post(url, body, format="json")

    responses = run_together([bulk(offset) for offset in range(THREADS)])
    assert [r.status_code for r in responses] == [200] * THREADS
    issued = [name for r in responses for name in r.json()["issued"]]
    assert len(issued) == len(set(issued)) == 20  # each learner issued exactly once
    for r in responses:
        assert set(r.json()["reasons"].values()) <= {"already_issued"}
    assert Assertion.objects.filter(revoked=False, superseded=False).count() == 20


def test_concurrent_single_and_bulk_issues():
    _, learners, client = setup()
    single = credential_url("race-cred", "race-admin", "race")
    bulk = bulk_url("race-cred", "race-admin", "race")
    names = [u.username for u in learners]
    requests = [
        (lambda: client().post(bulk, {"users": names}, format="json"))
        if n % 2
        else (lambda: client().post(single, {"recipient": {"identity": names[0]}}, format="json"))
        for n in range(THREADS)
    ]
    responses = run_together(requests)
    assert all(r.status_code in (200, 201) for r in responses)
    assert Assertion.objects.filter(revoked=False, superseded=False).count() == 20


@pytest.mark.parametrize("path", ["single", "bulk"])
def test_an_issue_racing_the_credentials_delete_is_404_not_500(path):
    """The delete holds the credential's row; the issue waits for it, then finds no
    credential: 404, and no assertion of a deleted credential."""
    import threading

    from django.db import close_old_connections, transaction

    from ibl_credentials.models import Credential

    credential, learners, client = setup()
    deleting, answered = threading.Event(), {}

    def delete_slowly():
        with transaction.atomic():
            Credential.objects.select_for_update().get(pk=credential.pk).delete()
            deleting.set()
            threading.Event().wait(1.0)  # the issue arrives while the delete holds the row
        close_old_connections()

    def issue():
        deleting.wait(5)
        if path == "single":
            url, body = (
                credential_url("race-cred", "race-admin", "race"),
                {"recipient": {"identity": learners[0].username}},
            )
        else:
            url, body = (
                bulk_url("race-cred", "race-admin", "race"),
                {"users": [learner.username for learner in learners]},
            )
        answered["response"] = client().post(url, body, format="json")
        close_old_connections()

    threads = [threading.Thread(target=delete_slowly), threading.Thread(target=issue)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answered["response"].status_code == 404
    assert answered["response"].json() == {"detail": "Credential not found."}
    assert not Assertion.objects.exists()
