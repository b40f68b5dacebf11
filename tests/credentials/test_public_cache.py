"""Never a stale "valid" from the public verification paths' cache.

Every public path keeps its whole answer in the artifact cache under a stamp read from
the database on each request (``ibl_credentials.openbadges.artifacts``). These tests
read every path, from two cache clients, before and right after each kind of change
that can turn a credential invalid: a revoke through the API, the admin's action, a
bulk revoke (the service the admin action and assignment removal share), a revoked
assertion deleted (its tombstone answers), and a key rotation (nothing may change).

The two clients are two cache aliases: on one Redis (two hosts sharing a cache), and
two separate in-process caches (two processes without a shared cache). The Redis one
is skipped, with its reason, when no Redis answers on 127.0.0.1:6379.
"""

from __future__ import annotations

import io
import json
import socket
import uuid
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import Client

from ibl_credentials.assertions.services import revoke_many
from ibl_credentials.models import Assertion, SignedCredential
from ibl_credentials.openbadges import baking, ob3
from tests.support.assertion_helpers import revoke
from tests.support.credentials_factories import AssertionFactory, CredentialFactory, IssuerFactory
from tests.support.openbadges_helpers import status_bit, verify_data_integrity, verify_jwt

pytestmark = pytest.mark.django_db
BASE = "http://testserver"
REDIS = ("127.0.0.1", 6379)
HTML = {"HTTP_ACCEPT": "text/html"}
REVOKED_IMAGE = {"detail": "This assertion is revoked."}


def redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(params=["locmem", "redis"])
def two_caches(request, settings) -> list[str]:
    """Two cache aliases for the artifacts: ``public_a`` and ``public_b``."""
    if request.param == "redis":
        if not redis_answers():
            pytest.skip("no Redis answers on 127.0.0.1:6379: the shared-cache case is not run")
        prefix = f"h-public-test-{uuid.uuid4().hex}"  # nothing of anyone else's is read
        location = f"redis://{REDIS[0]}:{REDIS[1]}/0"
        aliases = {
            alias: {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": location,
                "KEY_PREFIX": prefix,
            }
            for alias in ("public_a", "public_b")
        }
    else:
        aliases = {
            alias: {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": f"{alias}-{uuid.uuid4().hex}",
            }
            for alias in ("public_a", "public_b")
        }
    settings.CACHES = {**settings.CACHES, **aliases}
    # Short-lived: the keys of a Redis run expire on their own.
    settings.IBL_DATA_MANAGER = {**settings.IBL_DATA_MANAGER, "ARTIFACT_CACHE_SECONDS": 120}
    return list(aliases)


def use_cache(settings, alias: str) -> None:
    settings.IBL_DATA_MANAGER = {**settings.IBL_DATA_MANAGER, "ARTIFACT_CACHE": alias}


@pytest.fixture
def held(world):
    issuer = IssuerFactory(platform=world.p1, entity_id="cache-issuer", name="Cache Academy")
    credential = CredentialFactory(issuer=issuer, entity_id="cache-cred", name="Cached badge")
    return AssertionFactory(
        credential=credential, recipient=world.users["learner_p1"], entity_id="cache-held"
    )


def read_all(entity_id: str) -> dict[str, Any]:
    """Every public path of ``entity_id``: (status, body) each, and its status bit as
    each form of its status list says it."""
    client = Client()
    answers: dict[str, Any] = {}
    paths = {
        "ob2": (f"/ob/v2/assertions/{entity_id}", {}),
        "png": (f"/ob/v2/assertions/{entity_id}/image", {}),
        "svg": (f"/ob/v2/assertions/{entity_id}/image?format=svg", {}),
        "ldp": (f"/ob/v3/credentials/{entity_id}?format=json", {}),
        "jwt": (f"/ob/v3/credentials/{entity_id}?format=jwt", {}),
        "page": (f"/badges/{entity_id}", HTML),
    }
    for name, (path, headers) in paths.items():
        response = client.get(path, **headers)
        answers[name] = (response.status_code, response.content)
    signed = SignedCredential.objects.select_related("entry__status_list").get(
        entry__assertion_entity_id=entity_id
    )
    index = signed.status_index
    status_path = f"/ob/v3/status/{signed.entry.status_list.entity_id}"
    listed = client.get(f"{status_path}?format=json")
    verify_data_integrity(listed.json())
    answers["list-ldp"] = status_bit(listed.json()["credentialSubject"]["encodedList"], index)
    token = verify_jwt(client.get(f"{status_path}?format=jwt").content.decode())
    answers["list-jwt"] = status_bit(token["credentialSubject"]["encodedList"], index)
    return answers


def assert_valid(answers: dict[str, Any]) -> None:
    for name in ("ob2", "png", "svg", "ldp", "jwt", "page"):
        assert answers[name][0] == 200, name
    assert b">Valid<" in answers["page"][1]
    assert (answers["list-ldp"], answers["list-jwt"]) == (0, 0)


def assert_revoked(answers: dict[str, Any], entity_id: str, reason: str) -> None:
    assert answers["ob2"][0] == 410
    assert json.loads(answers["ob2"][1]) == {
        "@context": "https://w3id.org/openbadges/v2",
        "id": f"{BASE}/ob/v2/assertions/{entity_id}",
        "type": "Assertion",
        "revoked": True,
        "revocationReason": reason,
    }
    for image in ("png", "svg"):
        assert (answers[image][0], json.loads(answers[image][1])) == (410, REVOKED_IMAGE)
    assert answers["page"][0] == 410
    assert reason.encode() in answers["page"][1] and b">Valid<" not in answers["page"][1]
    assert (answers["list-ldp"], answers["list-jwt"]) == (1, 1)


def warm_both(settings, aliases: list[str], entity_id: str) -> None:
    for alias in aliases:
        use_cache(settings, alias)
        assert_valid(read_all(entity_id))
        assert_valid(read_all(entity_id))  # now from the cache


def revoked_everywhere(settings, aliases: list[str], entity_id: str, reason: str) -> None:
    for alias in aliases:
        use_cache(settings, alias)
        assert_revoked(read_all(entity_id), entity_id, reason)


def test_an_api_revoke_shows_at_once_through_both_caches(settings, two_caches, world, held):
    use_cache(settings, two_caches[0])
    warm_both(settings, two_caches, "cache-held")
    use_cache(settings, two_caches[0])
    revoke(world, "cache-held", "Copied")
    revoked_everywhere(settings, two_caches, "cache-held", "Copied")


def test_the_admin_revoke_action_shows_at_once(settings, two_caches, client, world, held):
    warm_both(settings, two_caches, "cache-held")
    client.force_login(world.users["dm_admin"])
    response = client.post(
        "/admin/ibl_credentials/assertion/",
        {"action": "revoke", "_selected_action": [held.pk], "reason": "Fraud"},
        follow=True,
    )
    assert "Revoked 1 assertion(s)." in response.content.decode()
    revoked_everywhere(settings, two_caches, "cache-held", "Fraud")


def test_a_bulk_revoke_shows_at_once_for_each_assertion(settings, two_caches, world, held):
    other = AssertionFactory(
        credential=held.credential,
        recipient=world.users["department_admin"],
        entity_id="cache-other",
    )
    for entity_id in ("cache-held", "cache-other"):
        warm_both(settings, two_caches, entity_id)
    assert revoke_many(Assertion.objects.filter(pk__in=[held.pk, other.pk]), "Bulk") == 2
    for entity_id in ("cache-held", "cache-other"):
        revoked_everywhere(settings, two_caches, entity_id, "Bulk")


def test_a_deleted_revoked_assertion_answers_by_its_tombstone(settings, two_caches, world, held):
    warm_both(settings, two_caches, "cache-held")
    index = SignedCredential.objects.get(assertion=held).status_index
    revoke(world, "cache-held", "Copied")
    deleted = world.client("platform_admin_p1").delete(
        "/api/credentials/orgs/p1/users/platform_admin_p1/cache-cred"
    )
    assert deleted.status_code == 200
    assert not Assertion.objects.filter(entity_id="cache-held").exists()
    for alias in two_caches:
        use_cache(settings, alias)
        client = Client()
        hosted = client.get("/ob/v2/assertions/cache-held")
        assert hosted.status_code == 410 and hosted.json()["revocationReason"] == "Copied"
        for path in ("/ob/v2/assertions/cache-held/image", "/ob/v3/credentials/cache-held"):
            gone = client.get(path)
            assert (gone.status_code, gone.json()) == (410, REVOKED_IMAGE), path
        page = client.get("/badges/cache-held", **HTML)
        assert page.status_code == 410 and b"Copied" in page.content
        listed = client.get("/ob/v3/status/cache-issuer?format=json").json()
        assert status_bit(listed["credentialSubject"]["encodedList"], index) == 1


def test_a_key_rotation_changes_no_answer_and_old_ones_still_verify(
    settings, two_caches, world, held
):
    warm_both(settings, two_caches, "cache-held")
    before = read_all("cache-held")
    call_command("ibl_ob_rotate_key", "cache-issuer", stdout=io.StringIO())
    for alias in two_caches:
        use_cache(settings, alias)
        after = read_all("cache-held")
        assert after == before
        verify_jwt(after["jwt"][1].decode())
    # The same bytes as built now without any cache.
    settings.IBL_DATA_MANAGER = {**settings.IBL_DATA_MANAGER, "ARTIFACT_CACHE_SECONDS": 0}
    assert read_all("cache-held") == before


def test_a_second_read_builds_nothing(settings, two_caches, world, held):
    use_cache(settings, two_caches[0])
    read_all("cache-held")
    with (
        mock.patch.object(baking, "baked", wraps=baking.baked) as baked,
        mock.patch.object(ob3, "signed_credential", wraps=ob3.signed_credential) as signed,
    ):
        read_all("cache-held")
    assert (baked.call_count, signed.call_count) == (0, 0)


PUBLIC_200 = [
    ("/ob/v2/assertions/cache-held", {}),
    ("/ob/v2/assertions/cache-held/image", {}),
    ("/ob/v2/assertions/cache-held/image?format=svg", {}),
    ("/ob/v3/credentials/cache-held?format=json", {}),
    ("/ob/v3/credentials/cache-held?format=jwt", {}),
    ("/ob/v3/status/cache-issuer?format=json", {}),
    ("/ob/v3/status/cache-issuer?format=jwt", {}),
    ("/badges/cache-held", HTML),
]


@pytest.mark.parametrize(("max_age", "expected"), [(None, "public, no-cache"), (30, None)])
def test_cache_control_and_conditional_gets_from_the_cache(settings, held, max_age, expected):
    if max_age is not None:
        settings.IBL_DATA_MANAGER = {**settings.IBL_DATA_MANAGER, "PUBLIC_MAX_AGE": max_age}
        expected = "public, max-age=30, must-revalidate"
    client = Client()
    for path, headers in PUBLIC_200:
        client.get(path, **headers)  # built and kept
        first = client.get(path, **headers)  # from the cache
        assert first.status_code == 200, path
        assert first["Cache-Control"] == expected, path
        again = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"], **headers)
        assert (again.status_code, again.content) == (304, b""), path
        assert again["Cache-Control"] == expected, path
        other = client.get(path, HTTP_IF_NONE_MATCH='"another"', **headers)
        assert (other.status_code, other.content) == (200, first.content), path


def test_public_max_age_must_be_whole_seconds():
    from ibl_core.conf import validate_settings

    assert validate_settings({"PUBLIC_MAX_AGE": -1}) == [
        "PUBLIC_MAX_AGE must be an integer >= 0 (seconds)."
    ]


def test_public_max_age_reaches_the_badge_pages_not_the_verifier(settings, world, held):
    settings.IBL_DATA_MANAGER = {**settings.IBL_DATA_MANAGER, "PUBLIC_MAX_AGE": 30}
    client = Client()
    expected = "public, max-age=30, must-revalidate"
    assert client.get("/badges/nobody", **HTML)["Cache-Control"] == expected
    revoke(world, "cache-held", "Copied")
    Assertion.objects.filter(pk=held.pk).delete()
    assert client.get("/badges/cache-held", **HTML)["Cache-Control"] == expected
    assert client.get("/verify/")["Cache-Control"] == "public, no-cache"
