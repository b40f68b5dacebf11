"""Open Badges: 2.0 hosted documents and baked images, 3.0 signed credentials, status
lists; verified with code we did not write (tests/support/openbadges_helpers.py)."""

from __future__ import annotations

import hashlib
import io
import json
import re
from unittest import mock

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.fernet import InvalidToken
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from jwcrypto.common import JWException
from openbadges_bakery import unbake
from rest_framework.test import APIClient

from ibl_credentials.assertions.services import revoke_assertion
from ibl_credentials.models import Assertion, Credential, IssuerKey, SignedCredential
from ibl_credentials.openbadges import signing
from tests.support.assertion_helpers import detail_url
from tests.support.credentials_factories import AssertionFactory, CredentialFactory, IssuerFactory
from tests.support.openbadges_helpers import (
    b64url,
    b64url_decode,
    status_bit,
    verify_data_integrity,
    verify_jwt,
)

pytestmark = pytest.mark.django_db
BASE = "http://testserver"
OB2 = "https://w3id.org/openbadges/v2"


@pytest.fixture
def held(world):
    issuer = IssuerFactory(
        platform=world.p1, entity_id="issuer-ob", name="Open Academy",
        url="https://academy.example.org", email="badges@example.org",
    )  # fmt: skip
    credential = CredentialFactory(
        issuer=issuer, entity_id="cred-ob", name="Python badge", description="Knows Python",
        criteria_narrative="Pass every unit.", tags=["python", "demo"],
    )  # fmt: skip
    return AssertionFactory(
        credential=credential, recipient=world.users["learner_p1"], entity_id="held-ob",
        narrative="Did it all.",
        evidence=[{"url": "https://example.org/work", "narrative": "Work"}],
    )  # fmt: skip


def anonymous() -> APIClient:
    return APIClient()


def get(url: str, **extra):
    return anonymous().get(url, **extra)


# Open Badges 2.0, hosted ----------------------------------------------------------------


def test_hosted_assertion_has_every_required_field(held, world):
    response = get("/ob/v2/assertions/held-ob")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/ld+json; charset=utf-8"
    body = response.json()
    salt = Assertion.objects.get(pk=held.pk).recipient_salt
    email = world.users["learner_p1"].email.lower()
    assert email and len(salt) == 32
    assert body == {
        "@context": OB2,
        "type": "Assertion",
        "id": f"{BASE}/ob/v2/assertions/held-ob",
        "recipient": {
            "type": "email",
            "hashed": True,
            "salt": salt,
            "identity": "sha256$" + hashlib.sha256((email + salt).encode()).hexdigest(),
        },
        "badge": f"{BASE}/ob/v2/badges/cred-ob",
        "verification": {"type": "hosted"},
        "issuedOn": held.issued_on.isoformat().replace("+00:00", "Z"),
        "image": f"{BASE}/ob/v2/assertions/held-ob/image?format=png",
        "evidence": [{"type": "Evidence", "id": "https://example.org/work", "narrative": "Work"}],
        "narrative": "Did it all.",
    }


def test_every_assertion_has_its_own_salt():
    first, second = AssertionFactory(), AssertionFactory()
    assert first.recipient_salt != second.recipient_salt


def test_assertions_issued_in_bulk_get_their_own_salt(world, held):
    """Bulk issue inserts with SQL: the database makes each row's salt."""
    response = world.client("platform_admin_p1").post(
        "/api/credentials/orgs/p1/users/platform_admin_p1/cred-ob/assertions/bulk/",
        {"users": ["learner_p2", "department_admin", "platform_admin_p1"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    salts = list(Assertion.objects.exclude(pk=held.pk).values_list("recipient_salt", flat=True))
    assert len(salts) >= 2 and len(set(salts)) == len(salts)
    assert all(re.fullmatch(r"[0-9a-f]{32}", salt) for salt in salts)


def test_the_admin_never_shows_a_private_key(world, held, client):
    from django.contrib.auth import get_user_model

    key = signing.active_key(held.credential.issuer)
    admin_user = get_user_model().objects.create_superuser("ob-admin", "a@example.org", "pw")
    client.force_login(admin_user)
    for url in (
        "/admin/ibl_credentials/issuerkey/",
        f"/admin/ibl_credentials/issuerkey/{key.pk}/change/",
        f"/admin/ibl_credentials/issuer/{held.credential.issuer.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert key.private_key_encrypted not in response.content.decode()
        assert "private_key" not in response.content.decode()
    assert key.did in client.get("/admin/ibl_credentials/issuerkey/").content.decode()


def test_badge_class_and_issuer_profile(held):
    badge = get("/ob/v2/badges/cred-ob")
    assert badge.status_code == 200 and badge["Content-Type"].startswith("application/ld+json")
    assert badge.json() == {
        "@context": OB2,
        "type": "BadgeClass",
        "id": f"{BASE}/ob/v2/badges/cred-ob",
        "name": "Python badge",
        "description": "Knows Python",
        "image": f"{BASE}/ob/v2/badges/cred-ob/image",
        "criteria": {"narrative": "Pass every unit."},
        "issuer": f"{BASE}/ob/v2/issuers/issuer-ob",
        "tags": ["python", "demo"],
        "alignment": [],
    }
    issuer = get("/ob/v2/issuers/issuer-ob")
    assert issuer.status_code == 200
    assert issuer.json() == {
        "@context": OB2,
        "type": "Issuer",
        "id": f"{BASE}/ob/v2/issuers/issuer-ob",
        "name": "Open Academy",
        "url": "https://academy.example.org",
        "email": "badges@example.org",
    }


def test_a_credential_without_image_gets_a_generated_badge(held):
    response = get("/ob/v2/badges/cred-ob/image")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_a_credential_with_an_image_url_names_it():
    credential = CredentialFactory(icon_image="https://img.example.org/b.png")
    body = get(f"/ob/v2/badges/{credential.entity_id}").json()
    assert body["image"] == "https://img.example.org/b.png"


@pytest.mark.parametrize(
    "url",
    [
        "/ob/v2/assertions/nope",
        "/ob/v2/assertions/nope/image",
        "/ob/v2/badges/nope",
        "/ob/v2/badges/nope/image",
        "/ob/v2/issuers/nope",
        "/ob/v3/credentials/nope",
        "/ob/v3/credentials/nope?format=jwt",
        "/ob/v3/status/nope",
    ],
)
def test_unknown_ids_are_404(url):
    response = get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."} or "detail" in response.json()


def test_revoked_assertion_answers_410(world, held):
    response = world.client("platform_admin_p1").put(
        detail_url(held.entity_id, "platform_admin_p1"),
        {"revoked": True, "revocationReason": "Cheated"},
        format="json",
    )
    assert response.status_code == 200, response.content
    gone = get("/ob/v2/assertions/held-ob")
    assert gone.status_code == 410
    assert gone["Content-Type"].startswith("application/ld+json")
    assert gone.json() == {
        "@context": OB2,
        "id": f"{BASE}/ob/v2/assertions/held-ob",
        "type": "Assertion",
        "revoked": True,
        "revocationReason": "Cheated",
    }
    assert get("/ob/v2/assertions/held-ob/image").status_code == 410
    # The 3.0 credential is still served: revocation shows in the status list.
    assert get("/ob/v3/credentials/held-ob").status_code == 200


def test_conditional_get_answers_304(held):
    first = get("/ob/v2/assertions/held-ob")
    assert first["ETag"] and first["Last-Modified"]
    again = get("/ob/v2/assertions/held-ob", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    since = get("/ob/v2/assertions/held-ob", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304
    # Every write sets ``modified`` (``save()`` does): the public answers are keyed by it.
    Assertion.objects.filter(pk=held.pk).update(narrative="Changed.", modified=timezone.now())
    changed = get("/ob/v2/assertions/held-ob", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed.json()["narrative"] == "Changed."


def test_public_base_url_setting_wins_over_the_request(held):
    with override_settings(IBL_DATA_MANAGER={"OPEN_BADGES_BASE_URL": "https://badges.example"}):
        body = get("/ob/v2/assertions/held-ob").json()
    assert body["id"] == "https://badges.example/ob/v2/assertions/held-ob"
    assert body["badge"] == "https://badges.example/ob/v2/badges/cred-ob"


def test_json_api_urls_follow_the_public_base_url(world, held):
    with override_settings(IBL_DATA_MANAGER={"OPEN_BADGES_BASE_URL": "https://badges.example"}):
        body = world.client("learner_p1").get(detail_url(held.entity_id)).json()
    assert body["verifyUrl"] == "https://badges.example/ob/v2/assertions/held-ob"
    assert body["imageUrl"] == "https://badges.example/ob/v2/assertions/held-ob/image?format=png"


def test_json_api_assertion_has_verify_and_image_urls(world, held):
    response = world.client("learner_p1").get(detail_url(held.entity_id))
    assert response.status_code == 200
    body = response.json()
    assert body["verifyUrl"] == f"{BASE}/ob/v2/assertions/held-ob"
    assert body["imageUrl"] == f"{BASE}/ob/v2/assertions/held-ob/image?format=png"
    assert get(body["verifyUrl"].removeprefix(BASE)).status_code == 200


# Baking -------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "media_type"), [("png", "image/png"), ("svg", "image/svg+xml")])
def test_baked_image_unbakes_to_the_hosted_assertion(held, fmt, media_type):
    response = get(f"/ob/v2/assertions/held-ob/image?format={fmt}")
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == media_type
    unbaked = unbake(io.BytesIO(response.content))
    hosted = get("/ob/v2/assertions/held-ob").json()
    if fmt == "png":  # the iTXt chunk holds the assertion itself
        assert json.loads(unbaked) == hosted
        assert b"iTXtopenbadges\x00" in response.content
    else:  # the verify attribute holds the hosted URL
        assert unbaked == hosted["id"]
        assert f'verify="{hosted["id"]}"' in response.content.decode()


def test_default_image_format_is_png(held):
    response = get("/ob/v2/assertions/held-ob/image")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


# Keys ---------------------------------------------------------------------------------


def test_an_issuer_gets_an_ed25519_did_key_at_creation(world):
    response = world.client("platform_admin_p1").post(
        "/api/credentials/orgs/p1/users/platform_admin_p1/issuers/",
        {"name": "New issuer"},
        format="json",
    )
    assert response.status_code == 201, response.content
    key = IssuerKey.objects.get(issuer__name="New issuer")
    assert re.fullmatch(r"did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+", key.did)
    assert key.retired is None
    # The private key is encrypted at rest, and never in an answer.
    raw = signing._private_key(key).private_bytes_raw()
    assert b64url(raw) not in key.private_key_encrypted
    assert raw.hex() not in key.private_key_encrypted
    assert key.private_key_encrypted not in response.content.decode()
    assert "private" not in response.content.decode().lower()
    assert key.private_key_encrypted not in repr(key) + str(key)


def test_private_keys_do_not_decrypt_with_another_secret(held):
    key = signing.active_key(held.credential.issuer)
    other = {"OPEN_BADGES_KEY_SECRET": "another-secret-of-at-least-32-characters!!"}
    with override_settings(IBL_DATA_MANAGER=other), pytest.raises(InvalidToken):
        signing._private_key(key)


def test_rotation_keeps_old_credentials_verifiable(held):
    old_token = get("/ob/v3/credentials/held-ob?format=jwt").content.decode()
    old_did = IssuerKey.objects.get(issuer=held.credential.issuer).did
    call_command("ibl_ob_rotate_key", "issuer-ob", stdout=io.StringIO())
    keys = IssuerKey.objects.filter(issuer=held.credential.issuer)
    assert keys.count() == 2
    assert keys.get(retired__isnull=False).did == old_did
    new_did = keys.get(retired__isnull=True).did
    assert new_did != old_did
    assert verify_jwt(old_token)["iss"] == old_did
    # A change to an old credential is signed again by the identity that signed it,
    # at the same status entry: its list (signed by that key) still matches its issuer.
    now = timezone.now()
    Assertion.objects.filter(pk=held.pk).update(narrative="Changed", modified=now)
    Credential.objects.filter(pk=held.credential_id).update(
        description="Knows more Python", modified=now
    )
    resigned = verify_jwt(get("/ob/v3/credentials/held-ob?format=jwt").content.decode())
    assert resigned["iss"] == old_did
    assert resigned["credentialSubject"]["achievement"]["description"] == "Knows more Python"
    assert resigned["credentialStatus"]["statusListCredential"] == f"{BASE}/ob/v3/status/issuer-ob"
    # A new credential is signed with the new key, in the new key's own list.
    fresh = AssertionFactory(credential=held.credential)
    token = get(f"/ob/v3/credentials/{fresh.entity_id}?format=jwt").content.decode()
    payload = verify_jwt(token)
    assert payload["iss"] == new_did
    list_url = payload["credentialStatus"]["statusListCredential"]
    assert list_url != f"{BASE}/ob/v3/status/issuer-ob"
    assert (
        verify_jwt(get(list_url.removeprefix(BASE) + "?format=jwt").content.decode())["iss"]
        == new_did
    )


def test_rotating_an_unknown_issuer_fails_clearly():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No issuer"):
        call_command("ibl_ob_rotate_key", "nope", stdout=io.StringIO())


# Open Badges 3.0 ----------------------------------------------------------------------


def test_credential_shape(held):
    response = get("/ob/v3/credentials/held-ob")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc+ld+json; charset=utf-8"
    vc = response.json()
    did = IssuerKey.objects.get(issuer=held.credential.issuer).did
    assert vc["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert vc["id"] == f"{BASE}/ob/v3/credentials/held-ob"
    assert vc["issuer"]["id"] == did and vc["issuer"]["type"] == ["Profile"]
    assert vc["validFrom"] == held.issued_on.isoformat().split(".")[0].split("+")[0] + "Z"
    subject = vc["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    identifier = subject["identifier"][0]
    assert (
        identifier["identityHash"]
        == get("/ob/v2/assertions/held-ob").json()["recipient"]["identity"]
    )
    assert subject["achievement"]["name"] == "Python badge"
    status = vc["credentialStatus"]
    index = int(status["statusListIndex"])
    assert status == {
        "id": f"{BASE}/ob/v3/status/issuer-ob#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": f"{BASE}/ob/v3/status/issuer-ob",
    }
    assert 0 <= index < 131_072


@pytest.mark.parametrize(
    ("query", "accept", "media_type"),
    [
        ("?format=jwt", None, "application/vc+jwt"),
        ("", "application/vc+jwt", "application/vc+jwt"),
        ("", "application/jwt", "application/jwt"),
    ],
)
def test_vc_jwt_verifies_with_an_independent_library(held, query, accept, media_type):
    extra = {"HTTP_ACCEPT": accept} if accept else {}
    response = get(f"/ob/v3/credentials/held-ob{query}", **extra)
    assert response.status_code == 200 and response["Content-Type"].startswith(media_type)
    token = response.content.decode()
    header = json.loads(b64url_decode(token.split(".")[0]))
    did = IssuerKey.objects.get(issuer=held.credential.issuer).did
    assert header == {"alg": "EdDSA", "kid": f"{did}#{did.removeprefix('did:key:')}", "typ": "JWT"}
    payload = verify_jwt(token)
    assert payload["iss"] == did and payload["jti"] == f"{BASE}/ob/v3/credentials/held-ob"
    assert payload["nbf"] == int(held.issued_on.timestamp())
    assert payload["credentialSubject"]["achievement"]["name"] == "Python badge"


def test_vc_jwt_with_one_payload_character_changed_fails(held):
    token = get("/ob/v3/credentials/held-ob?format=jwt").content.decode()
    header, payload, signature = token.split(".")
    text = b64url_decode(payload).decode()
    tampered_text = text.replace("Python badge", "Python badgf", 1)
    assert tampered_text != text
    tampered = ".".join([header, b64url(tampered_text.encode()), signature])
    with pytest.raises(JWException):
        verify_jwt(tampered)


def test_data_integrity_proof_verifies_from_scratch(held):
    vc = get("/ob/v3/credentials/held-ob").json()
    did = IssuerKey.objects.get(issuer=held.credential.issuer).did
    assert vc["proof"]["verificationMethod"] == f"{did}#{did.removeprefix('did:key:')}"
    verify_data_integrity(vc)


def test_data_integrity_proof_fails_on_a_tampered_subject(held):
    vc = get("/ob/v3/credentials/held-ob").json()
    vc["credentialSubject"]["achievement"]["name"] = "Python badgf"
    with pytest.raises(InvalidSignature):
        verify_data_integrity(vc)
    vc = get("/ob/v3/credentials/held-ob").json()
    vc["credentialSubject"]["identifier"][0]["salt"] += "0"
    with pytest.raises(InvalidSignature):
        verify_data_integrity(vc)


def test_signed_once_and_again_only_when_content_changes(held):
    with mock.patch.object(signing, "sign", wraps=signing.sign) as spy:
        first = get("/ob/v3/credentials/held-ob").json()
        get("/ob/v3/credentials/held-ob?format=jwt")
        assert spy.call_count == 1
        Assertion.objects.filter(pk=held.pk).update(
            narrative="irrelevant to 3.0", modified=timezone.now()
        )
        assert get("/ob/v3/credentials/held-ob").json() == first
        assert spy.call_count == 1
        Credential.objects.filter(pk=held.credential_id).update(
            name="Python badge II", modified=timezone.now()
        )
        changed = get("/ob/v3/credentials/held-ob").json()
        assert spy.call_count == 2
    assert changed["credentialSubject"]["achievement"]["name"] == "Python badge II"
    # Same status entry: the index is kept.
    assert changed["credentialStatus"] == first["credentialStatus"]
    verify_data_integrity(changed)


def test_status_indexes_are_random_and_distinct(world):
    credential = CredentialFactory()
    assertions = AssertionFactory.create_batch(5, credential=credential)
    for assertion in assertions:
        assert get(f"/ob/v3/credentials/{assertion.entity_id}").status_code == 200
    indexes = set(SignedCredential.objects.values_list("status_index", flat=True))
    assert len(indexes) == 5
    assert indexes != set(range(min(indexes), min(indexes) + 5))


# Revocation ---------------------------------------------------------------------------


def test_revocation_flips_the_status_bit_and_the_list_verifies(world, held):
    vc = get("/ob/v3/credentials/held-ob").json()
    index = int(vc["credentialStatus"]["statusListIndex"])
    before = get("/ob/v3/status/issuer-ob")
    assert before.status_code == 200
    assert before["Content-Type"] == "application/vc+ld+json; charset=utf-8"
    listed = before.json()
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert listed["credentialSubject"]["type"] == "BitstringStatusList"
    assert listed["credentialSubject"]["statusPurpose"] == "revocation"
    assert status_bit(listed["credentialSubject"]["encodedList"], index) == 0
    verify_data_integrity(listed)

    response = world.client("platform_admin_p1").put(
        detail_url(held.entity_id, "platform_admin_p1"),
        {"revoked": True, "revocationReason": "Cheated"},
        format="json",
    )
    assert response.status_code == 200
    after = get("/ob/v3/status/issuer-ob", HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    revoked_list = after.json()
    assert status_bit(revoked_list["credentialSubject"]["encodedList"], index) == 1
    assert status_bit(revoked_list["credentialSubject"]["encodedList"], (index + 1) % 131_072) == 0
    verify_data_integrity(revoked_list)
    token = get("/ob/v3/status/issuer-ob?format=jwt").content.decode()
    payload = verify_jwt(token)
    assert (
        payload["credentialSubject"]["encodedList"]
        == (revoked_list["credentialSubject"]["encodedList"])
    )
    tampered = dict(revoked_list, credentialSubject={
        **revoked_list["credentialSubject"],
        "encodedList": listed["credentialSubject"]["encodedList"],
    })  # fmt: skip
    with pytest.raises(InvalidSignature):
        verify_data_integrity(tampered)


def test_status_list_is_built_once_per_change(held):
    get("/ob/v3/credentials/held-ob")
    with mock.patch.object(signing, "sign", wraps=signing.sign) as spy:
        first = get("/ob/v3/status/issuer-ob")
        for _ in range(5):
            again = get("/ob/v3/status/issuer-ob", HTTP_IF_NONE_MATCH=first["ETag"])
            assert again.status_code == 304
        assert spy.call_count == 1
        revoke_assertion(held, "x")  # as every revoke: the flag and its record
        get("/ob/v3/status/issuer-ob")
        get("/ob/v3/status/issuer-ob")
        assert spy.call_count == 2


# Cost ---------------------------------------------------------------------------------

PUBLIC_READS = [
    ("/ob/v2/assertions/held-ob", 1),
    ("/ob/v2/badges/cred-ob", 1),
    ("/ob/v2/issuers/issuer-ob", 1),
    ("/ob/v3/credentials/held-ob", 1),
    ("/ob/v3/credentials/held-ob?format=jwt", 1),
    ("/ob/v3/status/issuer-ob", 1),
]


@pytest.mark.slow
def test_a_thousand_public_reads_cost_fixed_queries_and_no_signing(held, django_assert_num_queries):
    client = anonymous()
    for url, _ in PUBLIC_READS * 2:  # signed once, here (then kept as signed)
        assert client.get(url).status_code == 200
    with mock.patch.object(signing, "sign", wraps=signing.sign) as spy:
        for n in range(1000):
            url, queries = PUBLIC_READS[n % len(PUBLIC_READS)]
            with django_assert_num_queries(queries):
                assert client.get(url).status_code == 200
    assert spy.call_count == 0


def test_shipped_vc_context_is_the_published_one():
    """The digest the VC Data Model 2.0 Recommendation publishes for its context."""
    from tests.support.openbadges_helpers import CONTEXTS

    digest = hashlib.sha256((CONTEXTS / "credentials-v2.jsonld").read_bytes()).hexdigest()
    assert digest == "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"


def test_a_term_no_context_defines_is_refused_not_left_unsigned(held):
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "unknownTerm": "not signed",
    }
    key = signing.active_key(held.credential.issuer)
    with pytest.raises(ValueError, match="outside the signed graph"):
        signing.add_data_integrity_proof(document, key, held.issued_on)
