"""Concurrent issuer creation on PostgreSQL: real parallel transactions, no 500.

Each request runs in its own thread with its own database connection, released
together by a barrier. The serializer's "is this entityId free?" check runs in every
request before any of them inserts, so the unique index decides the race: one 201,
the others the same 400 as an id already taken.
"""

from __future__ import annotations

from ibl_credentials.models import Issuer
from tests.support.factories import MembershipFactory, PlatformFactory, UserFactory, issue_key
from tests.support.race_helpers import RACES, run_together

pytestmark = RACES
THREADS = 8
TAKEN = "An issuer with this entityId already exists."


def platform_admin(key: str):
    """A platform and an API client factory for its admin (one client per thread)."""
    from rest_framework.test import APIClient

    platform = PlatformFactory(key=key)
    admin = UserFactory()
    MembershipFactory(user=admin, platform=platform, is_admin=True)
    raw_key = issue_key(admin, platform)
    url = f"/api/credentials/orgs/{key}/users/{admin.pk}/issuers/"

    def post(body: dict):
        def request():
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Api-Token {raw_key}")
            return client.post(url, body, format="json")

        return request

    return platform, post


def test_concurrent_creates_with_one_entity_id():
    platform, post = platform_admin("race")
    responses = run_together(
        [post({"name": f"Issuer {i}", "entityId": "same-id"}) for i in range(THREADS)]
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [400] * (THREADS - 1)
    [created] = [r.json() for r in responses if r.status_code == 201]
    assert created["result"]["entityId"] == "same-id"
    for refused in (r.json() for r in responses if r.status_code == 400):
        assert refused["status"]["success"] is False
        assert refused["result"] == {"entityId": [TAKEN]}
    issuer = Issuer.objects.get()
    assert (issuer.entity_id, issuer.platform_id) == ("same-id", platform.pk)
    assert issuer.name == created["result"]["name"]


def test_concurrent_creates_with_one_entity_id_on_two_platforms():
    # entityId is unique across platforms: admins of two tenants race for it too.
    _, post_one = platform_admin("race-one")
    _, post_two = platform_admin("race-two")
    body = {"name": "Acme", "entityId": "shared-id"}
    responses = run_together([(post_one if i % 2 else post_two)(body) for i in range(THREADS)])
    assert sorted(r.status_code for r in responses) == [201] + [400] * (THREADS - 1)
    assert Issuer.objects.filter(entity_id="shared-id").count() == 1


def test_concurrent_creates_with_generated_ids_all_succeed():
    _, post = platform_admin("busy")
    responses = run_together([post({"name": f"Issuer {i}"}) for i in range(THREADS)])
    assert [r.status_code for r in responses] == [201] * THREADS
    ids = {r.json()["result"]["entityId"] for r in responses}
    assert len(ids) == THREADS == Issuer.objects.count()
