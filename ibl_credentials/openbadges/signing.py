"""Issuer keys (Ed25519, ``did:key``) and the two proofs of a Verifiable Credential.

- Keys: generated with ``cryptography``; the private key is stored encrypted with
  Fernet (AES-128-CBC + HMAC-SHA256) under a key derived by HKDF-SHA256 from
  ``OPEN_BADGES_KEY_SECRET`` (default: ``SECRET_KEY``). It is decrypted only here, to
  sign, and never returned, logged or shown.
- ``did:key``: the multicodec ``ed25519-pub`` (0xed 0x01) public key, base58btc, ``z``.
- ``did:web`` (an issuer with a domain): the same keys, each a ``Multikey`` verification
  method of the issuer's one DID; its document lists every key the issuer has had.
- VC-JWT: a compact JWS (``alg: EdDSA``, ``kid`` the did:key verification method,
  ``typ: JWT``) made by ``joserfc``, whose payload is the credential plus the JWT claims
  Open Badges 3.0 names (``iss``, ``jti``, ``nbf``, ``exp``).
- Data Integrity ``eddsa-rdfc-2022``: RDFC-1.0 (URDNA2015) canonical N-Quads of the
  proof options and of the credential by ``pyld`` with the shipped contexts, SHA-256 of
  each, Ed25519 over the two hashes; ``proofValue`` is multibase base58btc.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import warnings
from typing import Any

import base58
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from joserfc import jws
from joserfc.jwk import OKPKey

from ibl_core.api.representation import utc_text
from ibl_core.conf import ibl_settings
from ibl_credentials.openbadges.models import IssuerKey
from ibl_credentials.openbadges.rdfc import canonical_nquads

ED25519_PUB_MULTICODEC = b"\xed\x01"
CRYPTOSUITE = "eddsa-rdfc-2022"


# Keys ------------------------------------------------------------------------------


def _fernet() -> Fernet:
    secret = ibl_settings.OPEN_BADGES_KEY_SECRET or settings.SECRET_KEY
    derived = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"ibl-data-manager open badges",
        info=b"issuer private keys v1",
    ).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def did_key(public_key: Ed25519PublicKey) -> str:
    """``did:key:z6Mk...`` for an Ed25519 public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "did:key:z" + base58.b58encode(ED25519_PUB_MULTICODEC + raw).decode()


def public_key_from_did(did: str) -> Ed25519PublicKey:
    """The Ed25519 public key a ``did:key`` (or its verification method) names."""
    identifier = did.split("#", 1)[0].removeprefix("did:key:")
    if not identifier.startswith("z"):
        raise ValueError("Not a base58btc did:key.")
    decoded = base58.b58decode(identifier[1:])
    if decoded[:2] != ED25519_PUB_MULTICODEC or len(decoded) != 34:
        raise ValueError("Not an Ed25519 did:key.")
    return Ed25519PublicKey.from_public_bytes(decoded[2:])


def verification_method(key_did: str, did: str | None = None) -> str:
    """The verification method of the key ``key_did`` in the DID ``did`` (default: the
    did:key itself): ``did:key:z6Mk...#z6Mk...``, or ``did:web:example.org#z6Mk...``.
    The fragment is the key's multibase, so each key of a did:web has its own."""
    return f"{did or key_did}#{key_did.removeprefix('did:key:')}"


# did:web ----------------------------------------------------------------------------


def did_web(domain: str) -> str:
    """The DID of a did:web domain: ``example.org:8443/issuers/acme`` ->
    ``did:web:example.org%3A8443:issuers:acme`` (a port's colon percent-encoded, path
    segments joined by ``:``, as the did:web method says)."""
    host, _, path = domain.partition("/")
    return ":".join(["did:web", host.replace(":", "%3A"), *[p for p in path.split("/") if p]])


def did_document_path(domain: str) -> str:
    """Where the DID document of a did:web domain is served on its host:
    ``/.well-known/did.json`` for a bare domain, else ``/<path>/did.json``."""
    _, _, path = domain.partition("/")
    return f"/{path}/did.json" if path else "/.well-known/did.json"


def issuer_did(issuer: Any) -> str:
    """The identity new credentials of ``issuer`` are signed as: its did:web when it
    has a domain, else the did:key of its active key."""
    if issuer.did_web_domain:
        return did_web(issuer.did_web_domain)
    return active_key(issuer).did


def did_document(did: str, keys: list[IssuerKey]) -> dict[str, Any]:
    """A did:web DID document naming every key the issuer has had: each a ``Multikey``
    verification method, all usable for assertions (what a retired key signed before
    its rotation must keep verifying)."""
    methods = [
        {
            "id": verification_method(key.did, did),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.did.removeprefix("did:key:"),
        }
        for key in keys
    ]
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


def key_material() -> dict[str, str]:
    """A new key pair as stored: ``did`` and ``private_key_encrypted`` (migrations use it)."""
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return {
        "did": did_key(private.public_key()),
        "private_key_encrypted": _fernet().encrypt(raw).decode(),
    }


def new_key(issuer: Any) -> IssuerKey:
    """Generate and store a new active key for ``issuer`` (callers retire the old one)."""
    return IssuerKey.objects.create(issuer=issuer, **key_material())


def active_key(issuer: Any) -> IssuerKey:
    """The issuer's active key, made now if the issuer has none yet."""
    key = IssuerKey.objects.filter(issuer=issuer, retired__isnull=True).first()
    if key is None:
        with transaction.atomic():
            key = new_key(issuer)
    return key


def rotate_key(issuer: Any) -> IssuerKey:
    """Retire the active key (kept: what it signed still verifies) and make a new one.

    Credentials are signed with the new key the next time they change.
    """
    with transaction.atomic():
        IssuerKey.objects.filter(issuer=issuer, retired__isnull=True).update(retired=timezone.now())
        return new_key(issuer)


def _private_key(key: IssuerKey) -> Ed25519PrivateKey:
    raw = _fernet().decrypt(key.private_key_encrypted.encode())
    return Ed25519PrivateKey.from_private_bytes(raw)


# Data Integrity (eddsa-rdfc-2022) ---------------------------------------------------


def canonical_hash(document: dict[str, Any]) -> bytes:
    """SHA-256 of the document's RDFC-1.0 canonical N-Quads (shipped contexts only, a
    bounded amount of work: :mod:`.rdfc`). ``ValueError`` (or pyld's ``JsonLdError``)
    when the document cannot be signed or checked as it is."""
    nquads = canonical_nquads(document)
    missing = [value for value in _leaves(document) if value not in nquads]
    if missing:
        # A term no context defines is dropped by JSON-LD: it would not be signed.
        raise ValueError(f"Values outside the signed graph: {missing[:5]}")
    return hashlib.sha256(nquads.encode()).digest()


def _leaves(node: Any) -> list[str]:
    """Every scalar of a JSON-LD document (not its contexts), as N-Quads would write it."""
    if isinstance(node, dict):
        return [leaf for key, value in node.items() if key != "@context" for leaf in _leaves(value)]
    if isinstance(node, list):
        return [leaf for value in node for leaf in _leaves(value)]
    if isinstance(node, bool):
        return ["true" if node else "false"]
    if isinstance(node, str):
        return [json.dumps(node, ensure_ascii=False)[1:-1]]
    return [str(node)]


def add_data_integrity_proof(
    document: dict[str, Any], key: IssuerKey, created: dt.datetime, did: str | None = None
) -> dict[str, Any]:
    """A copy of ``document`` with an embedded ``eddsa-rdfc-2022`` proof."""
    options = {
        "@context": document["@context"],
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": utc_text(created, seconds=True),
        "verificationMethod": verification_method(key.did, did),
        "proofPurpose": "assertionMethod",
    }
    signature = _private_key(key).sign(canonical_hash(options) + canonical_hash(document))
    proof = {k: v for k, v in options.items() if k != "@context"}
    proof["proofValue"] = "z" + base58.b58encode(signature).decode()
    return {**document, "proof": proof}


# VC-JWT ------------------------------------------------------------------------------


def _numeric_date(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def vc_jwt(credential: dict[str, Any], key: IssuerKey, did: str | None = None) -> str:
    """The credential as a compact JWS, ``alg: EdDSA``, ``kid`` its verification method,
    ``iss`` the signing identity ``did`` (default: the key's did:key)."""
    claims: dict[str, Any] = {"iss": did or key.did, "jti": credential["id"]}
    if "validFrom" in credential:
        claims["nbf"] = _numeric_date(credential["validFrom"])
    if "validUntil" in credential:
        claims["exp"] = _numeric_date(credential["validUntil"])
    subject_id = credential.get("credentialSubject", {}).get("id")
    if subject_id:
        claims["sub"] = subject_id
    payload = jsonld_json({**credential, **claims})
    private = _private_key(key)
    raw = private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    jwk = OKPKey.import_key(
        {"kty": "OKP", "crv": "Ed25519", "x": _b64url(public), "d": _b64url(raw)}
    )
    header = {"alg": "EdDSA", "kid": verification_method(key.did, did), "typ": "JWT"}
    with warnings.catch_warnings():
        # RFC 9864 prefers "Ed25519"; Open Badges 3.0 verifiers know "EdDSA".
        warnings.simplefilter("ignore")
        return jws.serialize_compact(header, payload, jwk, algorithms=["EdDSA"])


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jsonld_json(document: dict[str, Any]) -> str:
    """Compact JSON with sorted keys: the bytes we hash, sign and serve."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sign(
    document: dict[str, Any], key: IssuerKey, created: dt.datetime, did: str | None = None
) -> tuple[dict, str]:
    """Both signed forms of an unsigned credential: (with embedded proof, VC-JWT), by
    ``key`` as a verification method of ``did`` (default: the key's own did:key).

    The only entry point that signs: the tests count its calls to prove reads never sign.
    """
    with_proof = add_data_integrity_proof(document, key, created, did)
    return with_proof, vc_jwt(with_proof, key, did)
