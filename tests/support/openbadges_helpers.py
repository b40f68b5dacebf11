"""Verification written for the tests, with libraries we did not write: the project's
Open Badges code is not imported here (only the context files it ships, which are the
published contexts)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from pathlib import Path

import base58
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jwcrypto import jwk, jws
from pyld import jsonld

CONTEXTS = Path(__file__).resolve().parents[2] / "ibl_credentials/openbadges/contexts"
CONTEXT_FILES = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-3.0.3.jsonld",
}


def loader(url, options=None):
    document = json.loads((CONTEXTS / CONTEXT_FILES[url]).read_text())
    return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
            "document": document}  # fmt: skip


def public_key_bytes(did: str) -> bytes:
    """The raw Ed25519 key of a did:key (multibase z + multicodec 0xed01)."""
    decoded = base58.b58decode(did.split("#")[0].removeprefix("did:key:z"))
    assert decoded[:2] == b"\xed\x01" and len(decoded) == 34
    return decoded[2:]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_jwt(token: str) -> dict:
    """jwcrypto: verify against the did:key in the header's kid; the payload, or raise."""
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert header["alg"] == "EdDSA"
    key = jwk.JWK(kty="OKP", crv="Ed25519", x=b64url(public_key_bytes(header["kid"])))
    signed = jws.JWS()
    signed.deserialize(token)
    signed.verify(key, alg="EdDSA")
    return json.loads(signed.payload)


def canonical_sha256(document: dict) -> bytes:
    nquads = jsonld.normalize(
        document,
        {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader},
    )
    assert nquads  # something was understood
    return hashlib.sha256(nquads.encode()).digest()


def verify_data_integrity(document: dict) -> None:
    """eddsa-rdfc-2022 from the spec: canonicalize proof options and document, hash each,
    Ed25519-verify over the concatenation. Raises ``InvalidSignature`` on failure."""
    document = json.loads(json.dumps(document))
    proof = document.pop("proof")
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    value = proof.pop("proofValue")
    assert value.startswith("z")
    options = {"@context": document["@context"], **proof}
    public = Ed25519PublicKey.from_public_bytes(public_key_bytes(proof["verificationMethod"]))
    public.verify(
        base58.b58decode(value[1:]), canonical_sha256(options) + canonical_sha256(document)
    )


def status_bit(encoded_list: str, index: int) -> int:
    """Bit ``index`` of a Bitstring Status List (multibase u, base64url, GZIP)."""
    assert encoded_list.startswith("u")
    bits = gzip.decompress(b64url_decode(encoded_list[1:]))
    assert len(bits) * 8 >= 131_072
    return (bits[index // 8] >> (7 - index % 8)) & 1
