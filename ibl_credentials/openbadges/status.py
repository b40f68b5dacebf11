"""Revocation published as a W3C Bitstring Status List, one per issuer.

Bit ``i`` (the most significant bit of byte ``i // 8`` first) is 1 when the credential
whose ``statusListIndex`` is ``i`` is revoked. ``encodedList`` is the multibase
base64url (``u``, no padding) of the GZIP-compressed bitstring. The list is rebuilt and
signed only when the set of revoked indexes changes (its ``fingerprint``), not per read.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ibl_credentials.assertions.shapes import utc_text
from ibl_credentials.models import Issuer

from . import links, signing
from .contexts import VC_V2
from .models import SignedCredential, StatusList
from .ob3 import STATUS_LIST_SIZE


def encode(indexes: Iterable[int], size: int = STATUS_LIST_SIZE) -> str:
    bits = bytearray(size // 8)
    for index in indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def decode(encoded: str) -> bytes:
    """The bitstring of an ``encodedList`` (for tests and the docs' verifier)."""
    if not encoded.startswith("u"):
        raise ValueError("encodedList must be multibase base64url ('u').")
    data = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def bit(bitstring: bytes, index: int) -> int:
    return (bitstring[index // 8] >> (7 - index % 8)) & 1


def revoked_indexes(issuer: Issuer) -> list[int]:
    return sorted(
        SignedCredential.objects.filter(issuer=issuer, assertion__revoked=True).values_list(
            "status_index", flat=True
        )
    )


def list_document(issuer: Issuer, indexes: list[int], *, base: str, did: str) -> dict[str, Any]:
    url = links.status_list_url(issuer.entity_id, base)
    return {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did,
        "validFrom": utc_text(timezone.now().replace(microsecond=0)),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode(indexes),
        },
    }


def status_list(issuer: Issuer, base: str) -> StatusList:
    """The issuer's signed list, rebuilt only when its revoked indexes changed."""
    indexes = revoked_indexes(issuer)
    fingerprint = hashlib.sha256(",".join(map(str, indexes)).encode()).hexdigest()
    try:
        stored: StatusList | None = issuer.ob_status_list
    except StatusList.DoesNotExist:
        stored = None
    if stored is not None and stored.fingerprint == fingerprint:
        return stored
    key = signing.active_key(issuer)
    now = timezone.now()
    ldp, jwt = signing.sign(list_document(issuer, indexes, base=base, did=key.did), key, now)
    values = {
        "fingerprint": fingerprint,
        "ldp": signing.jsonld_json(ldp),
        "jwt": jwt,
        "built_at": now,
    }
    try:
        with transaction.atomic():
            built, _ = StatusList.objects.update_or_create(issuer=issuer, defaults=values)
    except IntegrityError:  # built by a parallel read
        return StatusList.objects.get(issuer=issuer)
    return built
