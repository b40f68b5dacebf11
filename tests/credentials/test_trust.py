"""Trust that cannot be undone: a revocation outlives every delete, a status index is
never reused, a rotation never splits an issuer, did:web, a deactivated platform's
credentials stay verifiable, and no public route answers 500.

Signatures are checked with code the project did not write (tests/support/openbadges_helpers.py:
jwcrypto, pyld and cryptography)."""

from __future__ import annotations

import io
import json
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import ProtectedError
from rest_framework.test import APIClient

from ibl_credentials.models import (
    Assertion,
    Credential,
    Issuer,
    IssuerKey,
    Revocation,
    SignedCredential,
    StatusEntry,
    StatusList,
)
from ibl_credentials.openbadges import status
from tests.support.assertion_helpers import public_url, revoke
from tests.support.credentials_factories import AssertionFactory, CredentialFactory, IssuerFactory
from tests.support.openbadges_helpers import (
    b64url,
    b64url_decode,
    canonical_sha256,
    status_bit,
    verify_data_integrity,
    verify_jwt,
)

pytestmark = pytest.mark.django_db
BASE = "http://testserver"


@pytest.fixture
def held(world):
    issuer = IssuerFactory(platform=world.p1, entity_id="trust-issuer", name="Trust Academy")
    credential = CredentialFactory(issuer=issuer, entity_id="trust-cred", name="Trusted badge")
    return AssertionFactory(
        credential=credential, recipient=world.users["learner_p1"], entity_id="trust-held"
    )


def get(url: str, **extra):
    return APIClient().get(url, **extra)


def jwt_of(entity_id: str) -> str:
    response = get(f"/ob/v3/credentials/{entity_id}?format=jwt")
    assert response.status_code == 200
    return response.content.decode()


def list_of(payload: dict) -> dict:
    """The status list a credential (JWT payload or JSON-LD) points at, as JSON-LD."""
    url = payload["credentialStatus"]["statusListCredential"]
    response = get(url.removeprefix(BASE))
    assert response.status_code == 200
    return response.json()


def bit_of(payload: dict) -> int:
    listed = list_of(payload)
    verify_data_integrity(listed)
    index = int(payload["credentialStatus"]["statusListIndex"])
    return status_bit(listed["credentialSubject"]["encodedList"], index)


def delete_credential(world, entity_id: str):
    return world.client("platform_admin_p1").delete(
        f"/api/credentials/orgs/p1/users/platform_admin_p1/{entity_id}"
    )


def assert_revoked_everywhere(entity_id: str, payload: dict, reason: str = "Cheated") -> None:
    hosted = get(f"/ob/v2/assertions/{entity_id}")
    assert hosted.status_code == 410
    assert hosted.json() == {
        "@context": "https://w3id.org/openbadges/v2",
        "id": f"{BASE}/ob/v2/assertions/{entity_id}",
        "type": "Assertion",
        "revoked": True,
        "revocationReason": reason,
    }
    assert get(f"/ob/v2/assertions/{entity_id}/image").status_code == 410
    public = get(public_url(entity_id))
    assert (public.status_code, public.json()) == (
        404,
        {"detail": "This assertion has been revoked.", "revocationReason": reason},
    )
    assert bit_of(payload) == 1


# 1. A revocation outlives every delete ----------------------------------------------


def test_deleting_a_credential_keeps_its_revocations(world, held):
    kept = verify_jwt(jwt_of("trust-held"))
    assert bit_of(kept) == 0
    revoke(world, "trust-held")
    assert_revoked_everywhere("trust-held", kept)

    response = delete_credential(world, "trust-cred")
    assert response.status_code == 200, response.content
    assert not Assertion.objects.filter(entity_id="trust-held").exists()
    assert not Credential.objects.filter(entity_id="trust-cred").exists()
    # The JWT the holder kept still verifies, and its status still says revoked.
    assert_revoked_everywhere("trust-held", kept)
    gone = get("/ob/v3/credentials/trust-held")
    assert (gone.status_code, gone.json()) == (410, {"detail": "This assertion is revoked."})
    assert Revocation.objects.get(entity_id="trust-held").revocation_reason == "Cheated"


def test_deleting_the_recipient_keeps_revocations_and_refuses_unrevoked(world, held):
    user = world.users["learner_p1"]
    kept = verify_jwt(jwt_of("trust-held"))
    with pytest.raises(ProtectedError):
        user.delete()  # an unrevoked credential: its public forms must stay
    assert get("/ob/v2/assertions/trust-held").status_code == 200

    revoke(world, "trust-held")
    user.delete()
    assert not get_user_model().objects.filter(pk=user.pk).exists()
    assert not Assertion.objects.filter(entity_id="trust-held").exists()
    assert_revoked_everywhere("trust-held", kept)


def test_the_admin_refuses_to_delete_a_user_with_unrevoked_credentials(world, held, client):
    client.force_login(world.users["dm_admin"])
    user = world.users["learner_p1"]
    url = f"/admin/auth/user/{user.pk}/delete/"
    page = client.get(url)
    assert page.status_code == 200
    assert b"protected" in page.content.lower()
    assert client.post(url, {"post": "yes"}).status_code in (200, 403)
    assert get_user_model().objects.filter(pk=user.pk).exists()


def test_an_orm_revocation_without_the_service_still_shows_in_the_list(world, held):
    kept = verify_jwt(jwt_of("trust-held"))
    Assertion.objects.filter(pk=held.pk).update(revoked=True, revocation_reason="x")
    assert bit_of(kept) == 1


def test_a_revoked_assertions_tombstone_survives_migrating_commands(world, held):
    kept = verify_jwt(jwt_of("trust-held"))
    revoke(world, "trust-held")
    delete_credential(world, "trust-cred")
    for command in ("ibl_recount",):
        call_command(command, stdout=io.StringIO())
    StatusList.objects.update(fingerprint="", built_at=None)  # a list "restored" empty
    assert_revoked_everywhere("trust-held", kept)


def test_an_issuer_that_signed_is_kept(world, held):
    jwt_of("trust-held")
    revoke(world, "trust-held")
    assert delete_credential(world, "trust-cred").status_code == 200
    response = world.client("platform_admin_p1").delete(
        "/api/credentials/orgs/p1/users/platform_admin_p1/issuers/trust-issuer/"
    )
    assert response.status_code == 409, response.content
    assert "stays verifiable" in json.dumps(response.json())
    assert Issuer.objects.filter(entity_id="trust-issuer").exists()
    assert IssuerKey.objects.filter(issuer__entity_id="trust-issuer").count() == 1


# 2. A status index is never reused --------------------------------------------------


def test_a_deleted_assertions_index_is_never_given_again(world, held):
    old = verify_jwt(jwt_of("trust-held"))
    old_index = int(old["credentialStatus"]["statusListIndex"])
    revoke(world, "trust-held")
    delete_credential(world, "trust-cred")
    credential = CredentialFactory(issuer=Issuer.objects.get(entity_id="trust-issuer"))
    fresh = AssertionFactory(credential=credential, recipient=world.users["learner_p1"])
    # The random draw names the old index first: it is refused, another is taken.
    draws = iter([old_index, old_index, 7])
    with mock.patch.object(status.secrets, "randbelow", side_effect=lambda n: next(draws)):
        payload = verify_jwt(jwt_of(fresh.entity_id))
    assert payload["credentialStatus"]["statusListIndex"] == "7"
    assert bit_of(payload) == 0
    assert bit_of(old) == 1


def test_a_full_list_opens_another_for_the_same_identity(world, held, monkeypatch):
    monkeypatch.setattr(status, "STATUS_LIST_SIZE", 4)
    monkeypatch.setattr(status, "RANDOM_ATTEMPTS", 2)
    assertions = AssertionFactory.create_batch(6, credential=held.credential)
    payloads = [verify_jwt(jwt_of(a.entity_id)) for a in [held, *assertions]]
    lists = StatusList.objects.filter(issuer__entity_id="trust-issuer").order_by("id")
    assert [(lst.full, lst.did) for lst in lists] == [
        (True, lists[0].did),
        (False, lists[0].did),
    ]
    slots = {
        (p["credentialStatus"]["statusListCredential"], p["credentialStatus"]["statusListIndex"])
        for p in payloads
    }
    assert len(slots) == 7
    last = assertions[-1]
    revoke(world, last.entity_id)
    for payload in payloads:
        listed = list_of(payload)
        assert listed["issuer"] == payload["iss"]
        assert bit_of(payload) == (1 if payload["jti"].endswith(last.entity_id) else 0)


# 3. Rotation never splits an issuer -------------------------------------------------


def test_after_a_rotation_old_credentials_and_their_list_keep_one_issuer(world, held):
    old_jwt = jwt_of("trust-held")
    old_ldp = get("/ob/v3/credentials/trust-held").json()
    old_did = verify_jwt(old_jwt)["iss"]
    call_command("ibl_ob_rotate_key", "trust-issuer", stdout=io.StringIO())
    fresh = AssertionFactory(credential=held.credential)
    new_payload = verify_jwt(jwt_of(fresh.entity_id))
    assert new_payload["iss"] != old_did

    revoke(world, "trust-held")
    revoke(world, fresh.entity_id)
    # The old credential's proofs verify; its list, signed after the revocation, is
    # issued by the same did:key and says revoked.
    payload = verify_jwt(old_jwt)
    verify_data_integrity(old_ldp)
    assert payload["iss"] == old_ldp["issuer"]["id"] == old_did
    listed = list_of(payload)
    verify_data_integrity(listed)
    assert listed["issuer"] == payload["iss"]
    list_jwt = get(
        payload["credentialStatus"]["statusListCredential"].removeprefix(BASE) + "?format=jwt"
    ).content.decode()
    assert verify_jwt(list_jwt)["iss"] == old_did
    assert bit_of(payload) == 1
    # The new credential: the new key's own list, same rule.
    assert list_of(new_payload)["issuer"] == new_payload["iss"]
    assert bit_of(new_payload) == 1


@pytest.mark.live  # runs the documented verify.py in a subprocess
def test_the_offline_verifier_of_the_docs_accepts_an_old_credential_after_rotation(
    world, held, tmp_path
):
    """The docs' verify.py (published libraries only) on a credential signed before a
    rotation and its list after a later revocation."""
    import shutil

    from tests.credentials.test_open_badges_docs import ROOT, run, verify_py

    (tmp_path / "verify.py").write_text(verify_py())
    for context in (ROOT / "ibl_credentials/openbadges/contexts").glob("*.jsonld"):
        shutil.copy(context, tmp_path / context.name)
    (tmp_path / "credential.json").write_text(get("/ob/v3/credentials/trust-held").content.decode())
    (tmp_path / "credential.jwt").write_text(jwt_of("trust-held"))
    call_command("ibl_ob_rotate_key", "trust-issuer", stdout=io.StringIO())
    revoke(world, "trust-held")
    listed = get("/ob/v3/status/trust-issuer")
    (tmp_path / "status.json").write_text(listed.content.decode())
    result = run(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[2] == "REVOKED"
    assert json.loads(listed.content)["issuer"] == verify_jwt(jwt_of("trust-held"))["iss"]


# did:web ---------------------------------------------------------------------------


def resolve_did_web(did: str) -> dict:
    """did:web resolution as the method specifies it, over this server."""
    parts = did.removeprefix("did:web:").split(":")
    host = parts[0].replace("%3A", ":")
    path = "/" + "/".join(parts[1:]) + "/did.json" if len(parts) > 1 else "/.well-known/did.json"
    response = APIClient().get(path, HTTP_HOST=host)
    assert response.status_code == 200, response.content
    document = response.json()
    assert document["id"] == did
    return document


def web_public_key(document: dict, method_id: str) -> bytes:
    """The raw Ed25519 key of a Multikey verification method (multibase z, 0xed01)."""
    import base58

    assert method_id in document["assertionMethod"]
    (method,) = [m for m in document["verificationMethod"] if m["id"] == method_id]
    assert method["type"] == "Multikey" and method["controller"] == document["id"]
    decoded = base58.b58decode(method["publicKeyMultibase"][1:])
    assert decoded[:2] == b"\xed\x01"
    return decoded[2:]


def verify_web_jwt(token: str) -> dict:
    from jwcrypto import jwk, jws

    header = json.loads(b64url_decode(token.split(".")[0]))
    document = resolve_did_web(header["kid"].split("#")[0])
    key = jwk.JWK(kty="OKP", crv="Ed25519", x=b64url(web_public_key(document, header["kid"])))
    signed = jws.JWS()
    signed.deserialize(token)
    signed.verify(key, alg="EdDSA")
    return json.loads(signed.payload)


def verify_web_data_integrity(document: dict) -> None:
    import base58
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    document = json.loads(json.dumps(document))
    proof = document.pop("proof")
    value = proof.pop("proofValue")
    did_document = resolve_did_web(proof["verificationMethod"].split("#")[0])
    public = Ed25519PublicKey.from_public_bytes(
        web_public_key(did_document, proof["verificationMethod"])
    )
    options = {"@context": document["@context"], **proof}
    public.verify(
        base58.b58decode(value[1:]), canonical_sha256(options) + canonical_sha256(document)
    )


@pytest.mark.parametrize(
    ("domain", "did"),
    [
        ("testserver/issuers/acme", "did:web:testserver:issuers:acme"),
        ("testserver", "did:web:testserver"),
    ],
    ids=["path", "bare"],
)
def test_did_web_issuer_resolves_and_rotation_keeps_the_did(world, held, domain, did):
    Issuer.objects.filter(entity_id="trust-issuer").update(did_web_domain=domain)
    old_ldp = get("/ob/v3/credentials/trust-held").json()
    old_jwt = jwt_of("trust-held")
    assert old_ldp["issuer"]["id"] == did
    assert verify_web_jwt(old_jwt)["iss"] == did
    verify_web_data_integrity(old_ldp)
    assert len(resolve_did_web(did)["verificationMethod"]) == 1

    call_command("ibl_ob_rotate_key", "trust-issuer", stdout=io.StringIO())
    document = resolve_did_web(did)
    assert len(document["verificationMethod"]) == 2  # every key ever used
    fresh = AssertionFactory(credential=held.credential)
    fresh_payload = verify_web_jwt(jwt_of(fresh.entity_id))
    assert fresh_payload["iss"] == did
    # One list for the DID: the old and the new credential share it.
    assert (
        fresh_payload["credentialStatus"]["statusListCredential"]
        == old_ldp["credentialStatus"]["statusListCredential"]
    )
    revoke(world, "trust-held")
    verify_web_data_integrity(old_ldp)  # the old key still resolves
    listed = list_of(old_ldp)
    verify_web_data_integrity(listed)  # re-signed by the new key, same DID
    assert listed["issuer"] == old_ldp["issuer"]["id"] == did
    assert listed["proof"]["verificationMethod"] != old_ldp["proof"]["verificationMethod"]
    index = int(old_ldp["credentialStatus"]["statusListIndex"])
    assert status_bit(listed["credentialSubject"]["encodedList"], index) == 1


def test_did_web_documents_of_unknown_hosts_and_paths_are_404(world, held):
    Issuer.objects.filter(entity_id="trust-issuer").update(did_web_domain="testserver/issuers/acme")
    assert get("/issuers/other/did.json").status_code == 404
    assert get("/.well-known/did.json").status_code == 404
    assert APIClient().get("/issuers/acme/did.json", HTTP_HOST="localhost").status_code == 404


@pytest.mark.parametrize(
    "domain",
    ["https://example.org", "Example.org", "example.org/", "example.org/a b", "", "a" * 256],
)
def test_did_web_domain_is_validated(world, domain):
    from django.core.exceptions import ValidationError

    issuer = IssuerFactory(platform=world.p1)
    issuer.did_web_domain = domain
    if domain == "":
        issuer.full_clean()
        return
    with pytest.raises(ValidationError):
        issuer.full_clean()


# 4. A deactivated platform: every public form agrees --------------------------------


def test_a_deactivated_platforms_credentials_stay_verifiable(world, held):
    revoked = AssertionFactory(credential=held.credential, entity_id="trust-revoked")
    kept = verify_jwt(jwt_of("trust-revoked"))
    revoke(world, "trust-revoked")
    world.p1.active = False
    world.p1.save()
    public = get(public_url("trust-held"))
    assert public.status_code == 200
    assert public.json()["entityId"] == "trust-held"
    assert get("/ob/v2/assertions/trust-held").status_code == 200
    assert get("/ob/v2/assertions/trust-held/image").status_code == 200
    assert get("/ob/v3/credentials/trust-held").status_code == 200
    assert_revoked_everywhere(revoked.entity_id, kept)


# 5. No 500 on the public routes ------------------------------------------------------

PUBLIC_ROUTES = [
    "/ob/v2/assertions/{}",
    "/ob/v2/assertions/{}/image",
    "/ob/v2/badges/{}",
    "/ob/v2/badges/{}/image",
    "/ob/v2/issuers/{}",
    "/ob/v3/credentials/{}",
    "/ob/v3/status/{}",
    "/api/credentials/public/assertions/{}/",
]


@pytest.mark.parametrize("route", PUBLIC_ROUTES)
@pytest.mark.parametrize(
    "bad", ["a%00b", "%00", "x%ED%A0%80"], ids=["nul", "only-nul", "surrogate"]
)
def test_unstorable_ids_in_public_paths_are_json_404s(world, held, route, bad):
    response = get(route.format(bad))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


@pytest.mark.django_db(transaction=True)
def test_a_credential_read_racing_its_delete_is_404_not_500(world, held):
    """The assertion is deleted between the read's lookup and its signing (real
    commits: the foreign key is checked when the signing commits)."""
    revoke(world, "trust-held")
    real = status.entry_for

    def deleted_meanwhile(entity_id, issuer):
        entry = real(entity_id, issuer)
        Credential.objects.filter(entity_id="trust-cred").delete()
        return entry

    with mock.patch.object(status, "entry_for", side_effect=deleted_meanwhile):
        response = get("/ob/v3/credentials/trust-held")
    assert response.status_code in (404, 410)
    assert not SignedCredential.objects.exists()
    # Its entry stays taken.
    assert StatusEntry.objects.filter(assertion_entity_id="trust-held").count() == 1


def test_an_unknown_public_assertion_is_a_json_404(world):
    response = get(public_url("never-issued"))
    assert response.status_code == 404
    assert response.json() == {"detail": "No assertion with this entityId."}


# 6. Templates are bounded -------------------------------------------------------------


@pytest.mark.parametrize("field", ["html_template", "css_template"])
def test_templates_longer_than_the_setting_are_refused(world, held, field, settings):
    settings.IBL_DATA_MANAGER = {**settings.IBL_DATA_MANAGER, "CREDENTIAL_TEMPLATE_MAX_CHARS": 10}
    client = world.client("platform_admin_p1")
    url = "/api/credentials/orgs/p1/users/platform_admin_p1/"
    response = client.post(url, {"name": "Long", field: "x" * 11}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["status"]["success"] is False
    assert "Ensure this field has no more than 10 characters (it has 11)." in json.dumps(body)
    assert not Credential.objects.filter(name="Long").exists()
    ok = client.post(url, {"name": "Short", field: "x" * 10}, format="json")
    assert ok.status_code == 201, ok.content
    changed = client.put(f"{url}trust-cred", {field: "y" * 11}, format="json")
    assert changed.status_code == 400
    assert getattr(Credential.objects.get(entity_id="trust-cred"), field) == ""


def test_a_platform_whose_issuer_signed_is_not_deleted(world, held):
    jwt_of("trust-held")
    with pytest.raises(ProtectedError):
        world.p1.delete()
    assert get("/ob/v2/assertions/trust-held").status_code == 200


def test_the_admins_bulk_revoke_also_outlives_the_delete(world, held):
    from ibl_credentials.assertions.services import revoke_many

    kept = verify_jwt(jwt_of("trust-held"))
    assert revoke_many(Assertion.objects.filter(pk=held.pk), "Bulk reason") == 1
    assert delete_credential(world, "trust-cred").status_code == 200
    assert_revoked_everywhere("trust-held", kept, "Bulk reason")
