"""Authorization: Api-Token <key> (contract README, "Authentication")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from ibl_core.models import APIKey, hash_api_key
from tests.support.factories import MembershipFactory, PlatformFactory, UserFactory, issue_key

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.support.probe_urls")]
URL = "/probe/manage/?platform_key=p1"


@pytest.fixture
def admin_key(db):
    platform = PlatformFactory(key="p1")
    user = UserFactory(username="boss")
    MembershipFactory(user=user, platform=platform, is_admin=True)
    return issue_key(user, platform)


def get(header: str | None):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client.get(URL)


def test_valid_key_authenticates_as_its_user(admin_key):
    response = get(f"Api-Token {admin_key}")
    assert response.status_code == 200
    assert response.json() == {"platform": "p1", "user": "boss"}


def test_api_key_keyword_is_a_synonym(admin_key):
    assert get(f"Api-Key {admin_key}").status_code == 200


def test_key_is_stored_only_as_a_hash(admin_key):
    stored = APIKey.objects.get()
    assert len(admin_key) == 64 and all(c in "0123456789abcdef" for c in admin_key)
    assert stored.hashed_key == hash_api_key(admin_key)
    assert admin_key not in {stored.hashed_key, stored.prefix, stored.name}
    assert admin_key.startswith(stored.prefix)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Api-Token",
        "Api-Token ",
        "Api-Token abc",
        "Api-Token " + "g" * 64,
        "Api-Token " + "A" * 64,
        "Api-Token " + "a" * 65,
        "Api-Token " + "a" * 64 + " extra",
        "Api-Token " + "a" * 10_000,
        "Api-Token " + "é" * 64,
        "Api-Token \x00\x01",
        "Bearer " + "a" * 64,
        "Basic Zm9vOmJhcg==",
        "garbage",
        "x" * 10_240,
    ],
)
def test_missing_or_malformed_credentials_are_401_with_challenge(admin_key, header):
    response = get(header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Token"
    assert "detail" in response.json()


def test_non_latin1_header_bytes_are_401():
    # A raw WSGI header made of UTF-8 bytes decoded as latin-1, as servers pass them.
    client = APIClient()
    response = client.get(URL, HTTP_AUTHORIZATION="Api-Token ключ".encode().decode("latin-1"))
    assert response.status_code == 401


def test_unknown_key_is_401(admin_key):
    other = "0" * 64
    assert get(f"Api-Token {other}").status_code == 401


def test_key_with_known_prefix_but_wrong_secret_is_401(admin_key):
    forged = admin_key[: APIKey.PREFIX_LENGTH] + ("0" if admin_key[-1] != "0" else "1") * 52
    response = get(f"Api-Token {forged}")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API key."}


def test_revoked_key_is_401(admin_key):
    APIKey.objects.update(revoked=True)
    response = get(f"Api-Token {admin_key}")
    assert response.status_code == 401
    assert response.json() == {"detail": "API key revoked."}


def test_expired_key_is_401_and_unexpired_key_works(admin_key):
    APIKey.objects.update(expires=timezone.now() + timedelta(minutes=5))
    assert get(f"Api-Token {admin_key}").status_code == 200
    APIKey.objects.update(expires=timezone.now() - timedelta(seconds=1))
    response = get(f"Api-Token {admin_key}")
    assert response.status_code == 401
    assert response.json() == {"detail": "API key expired."}


def test_key_of_inactive_user_is_401(admin_key):
    APIKey.objects.get().user.__class__.objects.update(is_active=False)
    assert get(f"Api-Token {admin_key}").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(admin_key, django_assert_num_queries):
    assert APIKey.objects.get().last_used is None
    assert get(f"Api-Token {admin_key}").status_code == 200
    first = APIKey.objects.get().last_used
    assert first is not None
    assert get(f"Api-Token {admin_key}").status_code == 200
    assert APIKey.objects.get().last_used == first  # second use within the minute: no write

    APIKey.objects.update(last_used=timezone.now() - timedelta(seconds=61))
    assert get(f"Api-Token {admin_key}").status_code == 200
    assert APIKey.objects.get().last_used > first


def test_recent_use_costs_no_update_query(admin_key, django_assert_num_queries):
    APIKey.objects.update(last_used=timezone.now())
    # the key with its user, platform and membership in one statement: no UPDATE of
    # last_used, and neither the platform nor the membership read again
    with django_assert_num_queries(1):
        assert get(f"Api-Token {admin_key}").status_code == 200


def test_key_acts_only_on_its_own_platform(admin_key):
    other = PlatformFactory(key="p2")
    user = APIKey.objects.get().user
    MembershipFactory(user=user, platform=other, is_admin=True)  # admin on p2 as well
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Token {admin_key}")
    assert client.get("/probe/manage/?platform_key=p2").status_code == 403
    own_key_for_p2 = issue_key(user, other)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Token {own_key_for_p2}")
    assert client.get("/probe/manage/?platform_key=p2").status_code == 200


def test_dm_admin_key_acts_on_every_platform(db):
    PlatformFactory(key="p1")
    p2 = PlatformFactory(key="p2")
    dm = UserFactory(is_superuser=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Token {issue_key(dm, p2)}")
    assert client.get("/probe/manage/?platform_key=p1").status_code == 200


def test_session_authentication_works(db):
    platform = PlatformFactory(key="p1")
    user = UserFactory()
    MembershipFactory(user=user, platform=platform, is_admin=True)
    client = APIClient()
    client.force_login(user)
    assert client.get(URL).status_code == 200


# Scheme matching (RFC 7235: auth-schemes are case-insensitive) -----------------------


@pytest.mark.parametrize("keyword", ["api-token", "API-TOKEN", "aPi-ToKeN", "api-key", "API-KEY"])
def test_keyword_matches_whatever_its_case(admin_key, keyword):
    response = get(f"{keyword} {admin_key}")
    assert response.status_code == 200
    assert response.json() == {"platform": "p1", "user": "boss"}


def test_keyword_in_any_case_still_refuses_a_bad_key(admin_key):
    response = get("api-token " + "0" * 64)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API key."}


def test_configured_keywords_match_whatever_their_case(admin_key, settings):
    settings.IBL_DATA_MANAGER = {"API_KEY_KEYWORDS": ["DM-Key"]}
    assert get(f"dm-KEY {admin_key}").status_code == 200
    assert get(f"Api-Token {admin_key}").status_code == 401


EXPECTED = "Use 'Authorization: Api-Token <key>'."
MANAGE_URL = "/api/catalog/suggestions/program/manage/?platform_key=p1"
ISSUERS_URL = "/api/credentials/orgs/p1/users/boss/issuers/"


@pytest.mark.urls("example_project.urls")
@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Bearer {key}", f"Unsupported authorization scheme 'Bearer'. {EXPECTED}"),
        ("Token {key}", f"Unsupported authorization scheme 'Token'. {EXPECTED}"),
        ("Basic Zm9vOmJhcg==", f"Unsupported authorization scheme 'Basic'. {EXPECTED}"),
        ("bearer", f"Unsupported authorization scheme 'bearer'. {EXPECTED}"),
        ("{key}", f"Unsupported authorization scheme. {EXPECTED}"),  # the key alone
        ("x" * 100, f"Unsupported authorization scheme. {EXPECTED}"),  # never echoed long
        ("Bear<er> x", f"Unsupported authorization scheme. {EXPECTED}"),  # nor a non-token
        (None, "Authentication credentials were not provided."),
    ],
)
def test_a_foreign_scheme_is_told_which_scheme_is_expected(admin_key, header, detail):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header.format(key=admin_key))
    catalog = client.get(MANAGE_URL)
    assert catalog.status_code == 401
    assert catalog["WWW-Authenticate"] == "Api-Token"
    assert catalog.json() == {"detail": detail}
    credentials = client.get(ISSUERS_URL)  # the enveloped endpoints say the same
    assert credentials.status_code == 401
    assert credentials["WWW-Authenticate"] == "Api-Token"
    assert credentials.json() == {
        "status": {"success": False, "description": detail},
        "result": {"detail": detail},
    }


@pytest.mark.urls("example_project.urls")
@pytest.mark.parametrize("header", [None, "Bearer some-jwt"])
def test_a_session_user_is_authenticated_whatever_the_header(admin_key, header):
    """A browser with a session sends no Authorization header (or one meant for
    another service): session authentication still applies."""
    client = APIClient()
    client.force_login(APIKey.objects.get().user)
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get(MANAGE_URL).status_code == 200
    assert client.get(ISSUERS_URL).status_code == 200
