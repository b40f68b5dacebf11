"""The verifier, POST /api/credentials/verify/: our own credentials in every form, a
credential another issuer signed (in this test, with a fresh did:key), tampered copies
of ours, did:web, hostile input, throttling. Nothing may reach the network."""

from __future__ import annotations

import datetime as dt
import io
import json
import socket
import struct
import time
import zlib

import base58
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from ibl_credentials.models import Assertion, Issuer
from ibl_credentials.openbadges.verification import (
    VerificationInputError,
    VerificationResult,
    verify_submission,
)
from tests.support.assertion_helpers import revoke
from tests.support.credentials_factories import AssertionFactory, CredentialFactory, IssuerFactory
from tests.support.openbadges_helpers import b64url, b64url_decode, canonical_sha256

pytestmark = pytest.mark.django_db

URL = "/api/credentials/verify/"
BASE = "http://testserver"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB3_STRUCTURE = "Has every field Open Badges 3.0 requires of an OpenBadgeCredential."
OB2_STRUCTURE = "Has every field Open Badges 2.0 requires of an Assertion."
TAMPERED = (
    "The signature does not match: the credential was changed after it was signed, or "
    "another key signed it."
)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any connection or name lookup fails the test: the verifier fetches nothing."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def held(world):
    issuer = IssuerFactory(platform=world.p1, entity_id="verify-issuer", name="Verify Academy")
    credential = CredentialFactory(issuer=issuer, entity_id="verify-cred", name="Checked badge")
    return AssertionFactory(
        credential=credential, recipient=world.users["learner_p1"], entity_id="verify-held"
    )


def verify(body, **extra):
    return APIClient().post(URL, body, format="json", **extra)


def upload(content: bytes, name: str = "badge.png", content_type: str = "image/png"):
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return APIClient().post(URL, {"file": file}, format="multipart")


def get(url: str) -> bytes:
    response = APIClient().get(url)
    assert response.status_code == 200, response.content
    return response.content


def ldp_of(entity_id: str) -> dict:
    return json.loads(get(f"/ob/v3/credentials/{entity_id}"))


def jwt_of(entity_id: str) -> str:
    return get(f"/ob/v3/credentials/{entity_id}?format=jwt").decode()


def checks_of(response) -> dict[str, tuple[bool, str]]:
    assert response.status_code == 200, response.content
    return {line["check"]: (line["ok"], line["detail"]) for line in response.json()["checks"]}


def expected_ob3_checks(credential: dict, method: str, source: str) -> list[dict]:
    entry = credential["credentialStatus"]
    did = method.split("#")[0]
    return [
        {"check": "structure", "ok": True, "detail": OB3_STRUCTURE},
        {"check": "signature", "ok": True, "detail": "eddsa-rdfc-2022 proof verified."},
        {"check": "key", "ok": True, "detail": f"{method} resolved: {source}."},
        {"check": "issuer", "ok": True, "detail": f"The issuer {did} signed it."},
        {
            "check": "dates",
            "ok": True,
            "detail": f"Valid since {credential['validFrom']}, with no expiry.",
        },
        {
            "check": "status",
            "ok": True,
            "detail": (
                f"Not revoked (bit {entry['statusListIndex']} of "
                f"{entry['statusListCredential']}, read on this server)."
            ),
        },
    ]


# Our own credentials ------------------------------------------------------------------


def test_our_credential_with_its_proof_is_valid_exact_body(held):
    credential = ldp_of("verify-held")
    method = credential["proof"]["verificationMethod"]
    response = verify({"credential": credential})
    assert response.status_code == 200
    assert response.json() == {
        "valid": True,
        "format": "ob3-ld",
        "checks": expected_ob3_checks(credential, method, "a did:key, offline"),
        "credential": credential,
    }


def test_our_vc_jwt_is_valid(held):
    token = jwt_of("verify-held")
    payload = json.loads(b64url_decode(token.split(".")[1]))
    body = verify({"credential": token}).json()
    checks = expected_ob3_checks(
        payload, payload["proof"]["verificationMethod"], "a did:key, offline"
    )
    checks[1]["detail"] = "EdDSA (Ed25519) signature verified."
    assert body == {"valid": True, "format": "ob3-jwt", "checks": checks, "credential": payload}


@pytest.mark.parametrize(
    "path", ["/ob/v3/credentials/verify-held", "/ob/v3/credentials/verify-held?format=jwt"]
)
def test_the_url_of_our_credential_is_read_from_the_database(held, path):
    body = verify({"credential": BASE + path}).json()
    assert body["valid"] is True
    assert body["format"] == ("ob3-jwt" if "jwt" in path else "ob3-ld")


def ob2_checks(url: str, issued_on: str) -> list[dict]:
    return [
        {"check": "structure", "ok": True, "detail": OB2_STRUCTURE},
        {
            "check": "hosted",
            "ok": True,
            "detail": f"Hosted on this server at {url}, and the copy matches it.",
        },
        {"check": "dates", "ok": True, "detail": f"Valid since {issued_on}, with no expiry."},
        {
            "check": "status",
            "ok": True,
            "detail": "Not revoked (the hosted assertion answers 200).",
        },
    ]


def test_our_hosted_ob2_assertion_is_valid_as_json_and_as_its_url(held):
    url = f"{BASE}/ob/v2/assertions/verify-held"
    assertion = json.loads(get(url))
    expected = {
        "valid": True,
        "format": "ob2",
        "checks": ob2_checks(url, assertion["issuedOn"]),
        "credential": assertion,
    }
    assert verify({"credential": assertion}).json() == expected
    assert verify({"credential": url}).json() == expected
    assert verify({"credential": json.dumps(assertion)}).json() == expected  # pasted text


@pytest.mark.parametrize(("fmt", "content_type"), [("png", "image/png"), ("svg", "image/svg+xml")])
def test_our_baked_images_are_valid(held, fmt, content_type):
    image = get(f"/ob/v2/assertions/verify-held/image?format={fmt}")
    response = upload(image, f"badge.{fmt}", content_type)
    body = response.json()
    assert response.status_code == 200, body
    assert body["valid"] is True and body["format"] == "ob2"
    assert body["credential"]["id"] == f"{BASE}/ob/v2/assertions/verify-held"


def test_a_token_sent_along_is_ignored(held):
    response = verify({"credential": jwt_of("verify-held")}, HTTP_AUTHORIZATION="Api-Token bogus")
    assert response.status_code == 200 and response.json()["valid"] is True


# Revoked ----------------------------------------------------------------------------------


def test_revoked_credentials_are_invalid_in_every_form(world, held):
    credential, token = ldp_of("verify-held"), jwt_of("verify-held")
    png = get("/ob/v2/assertions/verify-held/image?format=png")
    assertion = json.loads(get("/ob/v2/assertions/verify-held"))
    revoke(world, "verify-held")
    entry = credential["credentialStatus"]
    bit = (
        f"Revoked: Cheated (bit {entry['statusListIndex']} of {entry['statusListCredential']} "
        "is 1)."
    )
    for sent in (credential, token, f"{BASE}/ob/v3/credentials/verify-held"):
        response = verify({"credential": sent})
        assert response.json()["valid"] is False
        checks = checks_of(response)
        assert checks["status"] == (False, bit)
        assert all(ok for name, (ok, _) in checks.items() if name != "status")
    hosted = "Revoked: Cheated (the hosted assertion answers 410)."
    for response in (upload(png), verify({"credential": assertion})):
        assert response.json()["valid"] is False
        assert checks_of(response)["status"] == (False, hosted)


def test_a_revoked_then_deleted_assertion_stays_invalid(world, held):
    token = jwt_of("verify-held")
    assertion = json.loads(get("/ob/v2/assertions/verify-held"))
    revoke(world, "verify-held")
    Assertion.objects.filter(entity_id="verify-held").delete()
    url = f"{BASE}/ob/v2/assertions/verify-held"
    body = verify({"credential": assertion}).json()
    assert body["valid"] is False
    assert body["checks"][1:] == [
        {
            "check": "hosted",
            "ok": True,
            "detail": f"Hosted on this server at {url}; it answers 410 (revoked).",
        },
        {
            "check": "dates",
            "ok": True,
            "detail": f"Valid since {assertion['issuedOn']}, with no expiry.",
        },
        {
            "check": "status",
            "ok": False,
            "detail": "Revoked: Cheated (the hosted assertion answers 410).",
        },
    ]
    assert checks_of(verify({"credential": token}))["status"][0] is False
    assert verify({"credential": url}).json() == {
        "valid": False,
        "format": "ob2",
        "checks": [
            {
                "check": "hosted",
                "ok": True,
                "detail": f"{url} is this server's; it answers 410 (revoked).",
            },
            {
                "check": "status",
                "ok": False,
                "detail": "Revoked: Cheated (the hosted assertion answers 410).",
            },
        ],
        "credential": None,
    }


def test_an_expired_assertion_fails_its_dates(held):
    Assertion.objects.filter(pk=held.pk).update(expires=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    checks = checks_of(verify({"credential": jwt_of("verify-held")}))
    assert checks["dates"] == (False, "Expired: validUntil was 2020-01-01T00:00:00Z.")


# Another issuer's credential, signed here with a fresh did:key --------------------------


def did_key_of(private: Ed25519PrivateKey) -> str:
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return "did:key:z" + base58.b58encode(b"\xed\x01" + raw).decode()


def foreign_credential(issuer: str, **extra) -> dict:
    return {
        "@context": [VC_V2, OB_V3],
        "id": "https://badges.elsewhere.example/credentials/42",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Elsewhere badge",
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Elsewhere University"},
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://badges.elsewhere.example/achievements/1",
                "type": ["Achievement"],
                "name": "Knows Rust",
                "description": "Wrote a borrow checker.",
                "criteria": {"narrative": "Pass the exam."},
            },
        },
        **extra,
    }


def sign_data_integrity(document: dict, private: Ed25519PrivateKey, method: str) -> dict:
    """eddsa-rdfc-2022 written from the specification: pyld + cryptography only."""
    options = {
        "@context": document["@context"],
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2025-01-01T00:00:00Z",
        "verificationMethod": method,
        "proofPurpose": "assertionMethod",
    }
    signature = private.sign(canonical_sha256(options) + canonical_sha256(document))
    proof = {key: value for key, value in options.items() if key != "@context"}
    proof["proofValue"] = "z" + base58.b58encode(signature).decode()
    return {**document, "proof": proof}


def sign_jwt(payload: dict, private: Ed25519PrivateKey, kid: str, alg: str = "EdDSA") -> str:
    header = b64url(json.dumps({"alg": alg, "kid": kid, "typ": "JWT"}).encode())
    body = b64url(json.dumps(payload).encode())
    return f"{header}.{body}." + b64url(private.sign(f"{header}.{body}".encode()))


def test_a_credential_of_another_issuer_verifies_offline(world):
    private = Ed25519PrivateKey.generate()
    did = did_key_of(private)
    method = f"{did}#{did.removeprefix('did:key:')}"
    status_url = "https://badges.elsewhere.example/status/1"
    document = foreign_credential(
        did,
        credentialStatus={
            "id": f"{status_url}#7",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "7",
            "statusListCredential": status_url,
        },
    )
    signed = sign_data_integrity(document, private, method)
    response = verify({"credential": signed})
    assert response.json() == {
        "valid": True,
        "format": "ob3-ld",
        "checks": [
            {"check": "structure", "ok": True, "detail": OB3_STRUCTURE},
            {"check": "signature", "ok": True, "detail": "eddsa-rdfc-2022 proof verified."},
            {"check": "key", "ok": True, "detail": f"{method} resolved: a did:key, offline."},
            {"check": "issuer", "ok": True, "detail": f"The issuer {did} signed it."},
            {
                "check": "dates",
                "ok": True,
                "detail": "Valid since 2025-01-01T00:00:00Z, with no expiry.",
            },
            {
                "check": "status",
                "ok": True,
                "detail": (
                    f"The status list {status_url} is not on this server: not checked (the "
                    "verifier fetches nothing)."
                ),
            },
        ],
        "credential": signed,
    }
    token = sign_jwt({**document, "iss": did, "jti": document["id"]}, private, method)
    assert verify({"credential": token}).json()["valid"] is True


# Tampered copies of ours ------------------------------------------------------------------


def test_one_changed_character_in_the_subject_breaks_the_signature(held):
    credential = ldp_of("verify-held")
    achievement = credential["credentialSubject"]["achievement"]
    achievement["name"] = achievement["name"].replace("C", "X", 1)
    body = verify({"credential": credential}).json()
    assert body["valid"] is False
    assert checks_of(verify({"credential": credential}))["signature"] == (False, TAMPERED)

    token = jwt_of("verify-held")
    header, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["credentialSubject"]["achievement"]["name"] = "Xhecked badge"
    forged = f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"
    assert checks_of(verify({"credential": forged}))["signature"] == (
        False,
        "The signature does not match: the JWT was changed after it was signed, or another "
        "key signed it.",
    )


def test_a_swapped_issuer_breaks_the_signature(held):
    credential = ldp_of("verify-held")
    credential["issuer"]["id"] = did_key_of(Ed25519PrivateKey.generate())
    checks = checks_of(verify({"credential": credential}))
    assert checks["signature"] == (False, TAMPERED)
    assert checks["issuer"][0] is False


def test_a_proof_replayed_onto_another_credential_fails(held):
    other = AssertionFactory(credential=held.credential, entity_id="verify-other")
    donor, target = ldp_of("verify-held"), ldp_of(other.entity_id)
    target["proof"] = donor["proof"]
    response = verify({"credential": target})
    assert response.json()["valid"] is False
    assert checks_of(response)["signature"] == (False, TAMPERED)


# did:web --------------------------------------------------------------------------------------


def test_a_did_web_issuer_of_this_server_verifies(held):
    Issuer.objects.filter(entity_id="verify-issuer").update(did_web_domain="testserver")
    credential = ldp_of("verify-held")
    method = credential["proof"]["verificationMethod"]
    assert method.startswith("did:web:testserver#")
    body = verify({"credential": credential}).json()
    assert body["checks"] == expected_ob3_checks(
        credential, method, "a did:web of this server, read from its database"
    )
    assert body["valid"] is True
    assert verify({"credential": jwt_of("verify-held")}).json()["valid"] is True


def test_another_hosts_did_web_is_unresolvable_without_a_fetch(world):
    private = Ed25519PrivateKey.generate()
    did = "did:web:badges.elsewhere.example"
    method = f"{did}#{did_key_of(private).removeprefix('did:key:')}"
    signed = sign_data_integrity(foreign_credential(did), private, method)
    checks = checks_of(verify({"credential": signed}))  # no_network: any socket fails
    assert checks["key"] == (False, "unresolvable")
    assert checks["signature"] == (False, "Not checked: the signing key did not resolve.")


def test_fetching_another_hosts_did_web_refuses_private_addresses(world, settings, monkeypatch):
    settings.IBL_DATA_MANAGER = {**settings.IBL_DATA_MANAGER, "VERIFIER_FETCH_DID_WEB": True,
                                 "WEBHOOKS_ALLOW_PRIVATE": False}  # fmt: skip
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("10.0.0.7", 443))])
    private = Ed25519PrivateKey.generate()
    did = "did:web:intranet.example"
    method = f"{did}#{did_key_of(private).removeprefix('did:key:')}"
    signed = sign_data_integrity(foreign_credential(did), private, method)
    checks = checks_of(verify({"credential": signed}))  # create_connection still fails
    assert checks["key"] == (
        False,
        "unresolvable: The URL resolves to a loopback or private address.",
    )


# Hostile input --------------------------------------------------------------------------------


def test_a_jwt_with_alg_none_is_refused(held):
    token = jwt_of("verify-held")
    payload = token.split(".")[1]
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = verify({"credential": f"{header}.{payload}."}).json()
    assert body["valid"] is False
    checks = {line["check"]: (line["ok"], line["detail"]) for line in body["checks"]}
    assert checks["signature"] == (
        False,
        "alg none is refused: only EdDSA (Ed25519) is accepted.",
    )


def test_an_unknown_cryptosuite_fails_the_signature(held):
    credential = ldp_of("verify-held")
    credential["proof"]["cryptosuite"] = "ecdsa-rdfc-2019"
    assert checks_of(verify({"credential": credential}))["signature"] == (
        False,
        "Unsupported cryptosuite ecdsa-rdfc-2019: eddsa-rdfc-2022 is.",
    )


def test_an_unshipped_context_fails_without_a_download(held):
    credential = ldp_of("verify-held")
    credential["@context"].append("https://evil.example/context.jsonld")
    assert checks_of(verify({"credential": credential}))["signature"] == (
        False,
        "The context https://evil.example/context.jsonld is not one this verifier ships: "
        "contexts are never downloaded.",
    )
    credential["@context"][-1] = {"@import": "https://evil.example/other.jsonld"}
    assert checks_of(verify({"credential": credential}))["signature"][0] is False


def test_a_poison_graph_is_refused_quickly(world):
    private = Ed25519PrivateKey.generate()
    did = did_key_of(private)
    method = f"{did}#{did.removeprefix('did:key:')}"
    alike = [{"https://e.example/a": [{"https://e.example/b": "x"} for _ in range(8)]}] * 2
    document = foreign_credential(did, **{"https://e.example/items": alike})
    proof = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
             "verificationMethod": method, "proofPurpose": "assertionMethod",
             "proofValue": "z" + base58.b58encode(b"\x01" * 64).decode()}  # fmt: skip
    started = time.monotonic()
    checks = checks_of(verify({"credential": {**document, "proof": proof}}))
    assert time.monotonic() - started < 10
    assert checks["signature"] == (
        False,
        "8 blank nodes are alike (40320 orders to try; at most 5 are accepted): refused.",
    )


def test_a_10_mb_json_body_is_413(world):
    body = json.dumps({"credential": "x" * (10 * 1024 * 1024)})
    response = APIClient().post(URL, body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {
        "detail": "Request body too large: at most 2621440 bytes are accepted."
    }


def test_a_10_mb_upload_is_413(world):
    response = upload(b"\x89PNG\r\n\x1a\n" + b"\x00" * (10 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json() == {
        "detail": "Request body too large: images are limited to 5242880 bytes (5.0 MiB)."
    }


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int, height: int, *extra: bytes) -> bytes:
    """A greyscale PNG declaring ``width`` x ``height``: the pixels are a few KB of zeros."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    pixels = png_chunk(b"IDAT", zlib.compress(b"\x00" * 100_000, 9))
    return b"\x89PNG\r\n\x1a\n" + header + b"".join(extra) + pixels + png_chunk(b"IEND", b"")


NO_BADGE = {
    "detail": "The image carries no Open Badges credential (no openbadges PNG chunk or SVG "
    "openbadges:assertion element)."
}


def test_a_png_without_a_badge_is_400(world):
    response = upload(png(16, 16))
    assert (response.status_code, response.json()) == (400, NO_BADGE)


def test_a_decompression_bomb_is_never_decoded(held):
    bomb = png(60_000, 60_000)
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(bomb))
    response = upload(bomb)
    assert (response.status_code, response.json()) == (400, NO_BADGE)
    # Baked with our assertion, the bomb's pixels still cost nothing: it verifies.
    assertion = get("/ob/v2/assertions/verify-held")
    baked = png(60_000, 60_000, png_chunk(b"iTXt", b"openbadges\x00\x00\x00\x00\x00" + assertion))
    assert upload(baked).json()["valid"] is True


def test_a_compressed_chunk_that_inflates_too_far_is_400(world):
    bomb = zlib.compress(b" " * (50 * 1024 * 1024), 9)
    chunk = png_chunk(b"iTXt", b"openbadges\x00\x01\x00\x00\x00" + bomb)
    response = upload(png(16, 16, chunk))
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "The baked credential inflates beyond 1 MiB."},
    )


def test_random_bytes_are_400(world):
    response = upload(bytes(range(256)) * 40, "noise.bin", "application/octet-stream")
    assert (response.status_code, response.json()) == (
        400,
        {
            "detail": "The file is neither a PNG nor an SVG image: send a badge image baked "
            "with its credential."
        },
    )


SVG_REFUSED = {"detail": "The SVG is not well-formed XML, or declares a DTD or entities (refused)."}


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',
        '<!DOCTYPE svg SYSTEM "http://evil.example/svg.dtd">',
    ],
    ids=["xxe", "billion-laughs", "external-dtd"],
)
def test_an_svg_with_a_dtd_or_entities_is_400(world, doctype):
    svg = (
        f'<?xml version="1.0"?>{doctype}<svg xmlns="http://www.w3.org/2000/svg" '
        'xmlns:openbadges="http://openbadges.org"><openbadges:assertion verify="x">&c;'
        "</openbadges:assertion></svg>"
    ).replace("&c;", "&xxe;" if "xxe" in doctype else "&c;" if "ENTITY c" in doctype else "")
    response = upload(svg.encode(), "badge.svg", "image/svg+xml")
    assert (response.status_code, response.json()) == (400, SVG_REFUSED)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {},
            'No credential: send {"credential": ...} (an Open Badges 2.0 assertion or an Open '
            "Badges 3.0 credential as JSON, a compact VC-JWT, or the URL of an assertion of "
            "this server), or a baked PNG or SVG badge image as file.",
        ),
        ({"credential": None}, None),
        ([1, 2], 'The body must be a JSON object: {"credential": ...}.'),
        (
            {"credential": 42},
            "credential must be a JSON object, a compact VC-JWT or a URL (a string).",
        ),
        ({"credential": "{not json"}, "The credential is not valid JSON."),
        (
            {"credential": "hello"},
            "The credential is neither JSON, a compact VC-JWT nor a URL of this server.",
        ),
        ({"credential": {"name": "x"}}, None),
        (
            {"credential": "https://elsewhere.example/ob/v2/assertions/x"},
            "Only URLs of assertions and credentials of this server are read "
            "(http://testserver); nothing is fetched: send the credential itself.",
        ),
        ({"credential": f"{BASE}/api/credentials/verify/"}, None),
    ],
    ids=[
        "empty",
        "null",
        "list",
        "number",
        "bad-json",
        "word",
        "not-a-badge",
        "elsewhere",
        "not-an-assertion",
    ],
)
def test_bodies_that_hold_no_credential_are_400(world, body, detail):
    response = verify(body)
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["detail"]
    if detail is not None:
        assert response.json() == {"detail": detail}


@pytest.mark.parametrize(
    "credential",
    [
        {
            "@context": [VC_V2],
            "type": "VerifiableCredential",
            "issuer": ["x"],
            "proof": 5,
            "credentialStatus": "x",
            "validFrom": 3,
            "credentialSubject": [],
        },
        {
            "@context": VC_V2,
            "proof": {
                "type": "DataIntegrityProof",
                "cryptosuite": "eddsa-rdfc-2022",
                "proofPurpose": "assertionMethod",
                "proofValue": "z!!!",
                "verificationMethod": {"a": 1},
            },
        },
        {
            "@context": [VC_V2, OB_V3],
            "type": ["VerifiableCredential"],
            "validFrom": "yesterday",
            "credentialStatus": {
                "type": "BitstringStatusListEntry",
                "statusListIndex": "-1",
                "statusListCredential": f"{BASE}/ob/v3/status/nowhere",
            },
        },
        {
            "@context": "https://w3id.org/openbadges/v2",
            "type": "Assertion",
            "id": f"{BASE}/ob/v2/assertions/",
            "recipient": "x",
            "verification": [],
            "issuedOn": 5,
            "badge": {},
        },
        {
            "@context": [VC_V2],
            "type": "VerifiableCredential",
            "proof": {
                "type": "DataIntegrityProof",
                "cryptosuite": "eddsa-rdfc-2022",
                "proofPurpose": "assertionMethod",
                "verificationMethod": "did:web:%3A:::#x",
                "proofValue": "z" + "1" * 80,
            },
        },
        "eyJhbGciOiJFZERTQSJ9.eyJ2YyI6WzFdfQ.AAAA",
        "a.b.c",
        "e30.e30.",
    ],
    ids=[
        "wrong-types",
        "bad-proof",
        "bad-status",
        "ob2-wrong-types",
        "odd-did-web",
        "jwt-odd",
        "jwt-garbage",
        "jwt-empty",
    ],
)
def test_malformed_credentials_are_invalid_never_500(world, credential):
    response = verify({"credential": credential})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["valid"] is False
    assert body["checks"] and all(set(line) == {"check", "ok", "detail"} for line in body["checks"])


# The function the pages call ---------------------------------------------------------------


def test_verify_submission_is_the_apis_verdict(held):
    token = jwt_of("verify-held")
    result = verify_submission(credential=token, base=BASE)
    assert isinstance(result, VerificationResult)
    assert result.as_json() == verify({"credential": token}).json()
    image = io.BytesIO(get("/ob/v2/assertions/verify-held/image?format=png"))
    assert verify_submission(file=image, base=BASE).valid is True
    with pytest.raises(VerificationInputError, match="not both"):
        verify_submission(credential=token, file=image, base=BASE)


# Throttling ------------------------------------------------------------------------------------


def test_the_verifier_is_throttled_per_address_as_a_write(world, settings):
    settings.IBL_DATA_MANAGER = {
        **settings.IBL_DATA_MANAGER,
        "THROTTLE_RATES": {"reads": None, "writes": "3/min", "bulk": None, "uploads": None},
    }
    for _ in range(3):
        assert verify({}).status_code == 400
    response = verify({})
    assert response.status_code == 429
    assert response.json()["scope"] == "writes"
    assert set(response.json()) == {"detail", "retry_after", "scope"}
    # Another address has its own budget.
    assert verify({}, REMOTE_ADDR="203.0.113.9").status_code == 400


def test_the_schema_documents_the_verifier():
    from pathlib import Path

    import yaml

    schema = yaml.safe_load((Path(__file__).parents[2] / "docs/openapi.yaml").read_text())
    operation = schema["paths"]["/api/credentials/verify/"]["post"]
    assert operation["operationId"] == "credentials_verify_create"
    assert operation["tags"] == ["credentials"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert set(operation["responses"]) >= {"200", "400", "413", "429"}


def test_a_credential_too_large_to_canonicalize_cheaply_is_refused(world):
    private = Ed25519PrivateKey.generate()
    did = did_key_of(private)
    method = f"{did}#{did.removeprefix('did:key:')}"
    evidence = [{"type": ["Evidence"], "narrative": f"Piece {n}"} for n in range(400)]
    document = foreign_credential(did, evidence=evidence)
    proof = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
             "verificationMethod": method, "proofPurpose": "assertionMethod",
             "proofValue": "z" + base58.b58encode(b"\x01" * 64).decode()}  # fmt: skip
    checks = checks_of(verify({"credential": {**document, "proof": proof}}))
    assert checks["signature"] == (
        False,
        "The document has more than 1000 JSON values: refused.",
    )


def test_a_multipart_text_field_beyond_the_memory_limit_is_413(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = APIClient().post(URL, {"credential": "x" * 4096}, format="multipart")
    assert (response.status_code, response.json()) == (
        413,
        {
            "detail": "Request body too large: form fields are limited to 1024 bytes and 1000 "
            "fields; upload the image as file, or send the credential as JSON."
        },
    )
    # Within the limit, a pasted credential in a form field is read like the JSON one.
    response = APIClient().post(URL, {"credential": "hello"}, format="multipart")
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "The credential is neither JSON, a compact VC-JWT nor a URL of this server."},
    )


def test_the_fetch_setting_must_be_a_boolean():
    from ibl_core.conf import validate_settings

    assert validate_settings({"VERIFIER_FETCH_DID_WEB": "yes"}) == [
        "VERIFIER_FETCH_DID_WEB must be true or false."
    ]
    assert validate_settings({"VERIFIER_FETCH_DID_WEB": True}) == []


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"@context": "https://www.w3.org/ns/credentials/v2", "name": "\\ud800"}', "name"),
        ('{"@context": "https://w3id.org/openbadges/v2", "id": "x\\u0000"}', "id"),
        (
            "eyJhbGciOiJFZERTQSJ9." + b64url(b'{"iss": "did:key:\\udfff"}') + ".AAAA",
            "payload.iss",
        ),
        ("https://testserver/ob/v2/assertions/\x00", ""),
    ],
    ids=["surrogate", "nul", "jwt-surrogate", "nul-url"],
)
def test_nul_and_unpaired_surrogates_are_400(world, text, where):
    """The JSON API refuses them in its body; pasted in a form field or baked in an
    image they reach the verifier itself, and no JSON answer could carry a surrogate."""
    detail = "Null characters and unpaired surrogates are not allowed" + (
        f" (in {where})." if where else "."
    )
    response = APIClient().post(URL, {"credential": text}, format="multipart")
    assert (response.status_code, response.json()) == (400, {"detail": detail})
    with pytest.raises(VerificationInputError) as raised:
        verify_submission(credential=text, base=BASE)
    assert str(raised.value) == detail


class FakeConnection:
    """Stands in for the pinned HTTPS connection: answers with ``body`` and records the
    request (no socket)."""

    requests: list[tuple[str, int, str, str]] = []
    body = b""
    status = 200

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self.host, self.port, self.address = host, port, address

    def request(self, method: str, path: str, headers: dict) -> None:
        FakeConnection.requests.append((self.host, self.port, self.address, path))

    def getresponse(self):
        answer = io.BytesIO(FakeConnection.body)
        answer.status = FakeConnection.status  # type: ignore[attr-defined]
        return answer

    def close(self) -> None:
        pass


def test_with_the_setting_another_hosts_did_web_is_fetched_once_bounded(
    world, settings, monkeypatch
):
    from ibl_credentials.openbadges import resolution

    settings.IBL_DATA_MANAGER = {**settings.IBL_DATA_MANAGER, "VERIFIER_FETCH_DID_WEB": True}
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("93.184.216.34", 443))]
    )
    monkeypatch.setattr(resolution, "_PinnedHTTPSConnection", FakeConnection)
    FakeConnection.requests = []
    private = Ed25519PrivateKey.generate()
    did = "did:web:badges.elsewhere.example:issuers:acme"
    multibase = did_key_of(private).removeprefix("did:key:")
    method = f"{did}#{multibase}"
    FakeConnection.body = json.dumps(
        {
            "id": did,
            "verificationMethod": [
                {
                    "id": method,
                    "type": "Multikey",
                    "controller": did,
                    "publicKeyMultibase": multibase,
                }
            ],
            "assertionMethod": [method],
        }
    ).encode()
    signed = sign_data_integrity(foreign_credential(did), private, method)
    body = verify({"credential": signed}).json()
    assert body["valid"] is True
    assert body["checks"][2] == {
        "check": "key",
        "ok": True,
        "detail": f"{method} resolved: a did:web of another host, fetched.",
    }
    assert FakeConnection.requests == [
        ("badges.elsewhere.example", 443, "93.184.216.34", "/issuers/acme/did.json")
    ]
    FakeConnection.body = b" " * (100 * 1024 + 1)
    assert checks_of(verify({"credential": signed}))["key"] == (
        False,
        "unresolvable: the DID document is over 102400 bytes.",
    )
    FakeConnection.body, FakeConnection.status = b"{}", 404
    assert checks_of(verify({"credential": signed}))["key"] == (
        False,
        "unresolvable: https://badges.elsewhere.example/issuers/acme/did.json answered 404.",
    )
