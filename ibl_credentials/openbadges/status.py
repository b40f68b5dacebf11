"""Revocation published as W3C Bitstring Status Lists, one per issuer identity.

Bit ``i`` (the most significant bit of byte ``i // 8`` first) is 1 when the credential
whose ``statusListIndex`` is ``i`` is revoked. ``encodedList`` is the multibase
base64url (``u``, no padding) of the GZIP-compressed bitstring. The list is rebuilt and
signed only when the set of revoked indexes changes (its ``fingerprint``), not per read.

Permanence: an index is taken once (:func:`entry_for`) and never freed or reused, and a
bit, once 1, stays 1: it is 1 while the assertion is revoked *or* a
:class:`~ibl_credentials.models.Revocation` of its ``entityId`` exists, which outlives
the assertion. A list is signed by the identity its credentials name as their issuer
(:class:`~.models.StatusList`), so a rotation never splits an issuer.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from ibl_core.api.representation import utc_text
from ibl_credentials.models import Assertion, Issuer, Revocation, generate_entity_id
from ibl_credentials.openbadges import links, signing
from ibl_credentials.openbadges.contexts import VC_V2
from ibl_credentials.openbadges.models import IssuerKey, StatusEntry, StatusList

#: Entries in each status list (the Bitstring Status List minimum).
STATUS_LIST_SIZE = 131_072
#: Random indexes tried before looking for a free one in the list itself.
RANDOM_ATTEMPTS = 8


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


def revoked_indexes(status_list: StatusList) -> list[int]:
    """The list's indexes whose assertion is revoked, or was revoked and is gone."""
    entity_id = OuterRef("assertion_entity_id")
    return sorted(
        StatusEntry.objects.filter(status_list=status_list)
        .filter(
            Q(Exists(Assertion.objects.filter(entity_id=entity_id, revoked=True)))
            | Q(Exists(Revocation.objects.filter(entity_id=entity_id)))
        )
        .values_list("index", flat=True)
    )


def list_document(status_list: StatusList, indexes: list[int], *, base: str) -> dict[str, Any]:
    url = links.status_list_url(status_list.entity_id, base)
    return {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": status_list.did,
        "validFrom": utc_text(timezone.now(), seconds=True),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode(indexes),
        },
    }


def signing_key(status_list: StatusList) -> IssuerKey:
    """The key that signs as the list's identity: a did:key list's own key (retired or
    not); for a did:web list, the issuer's active key."""
    if status_list.key_id is not None:
        return status_list.key  # type: ignore[return-value]
    return signing.active_key(status_list.issuer)


def status_list(stored: StatusList, base: str) -> StatusList:
    """The list signed as it is now, rebuilt only when its revoked indexes changed."""
    indexes = revoked_indexes(stored)
    fingerprint = hashlib.sha256(",".join(map(str, indexes)).encode()).hexdigest()
    if stored.built_at is not None and stored.fingerprint == fingerprint:
        return stored
    key = signing_key(stored)
    now = timezone.now()
    document = list_document(stored, indexes, base=base)
    ldp, jwt = signing.sign(document, key, now, did=stored.did)
    values = {"fingerprint": fingerprint, "ldp": signing.jsonld_json(ldp), "jwt": jwt}
    # Keep a newer build of a parallel read: only an older one is replaced.
    StatusList.objects.filter(pk=stored.pk).filter(
        Q(built_at__isnull=True) | Q(built_at__lt=now)
    ).update(built_at=now, **values)
    for field, value in values.items():
        setattr(stored, field, value)
    stored.built_at = now
    return stored


def list_for_issuer(issuer: Issuer) -> StatusList:
    """The list an issuer's new credentials take their index in: the open list of its
    current identity (:func:`~.signing.issuer_did`), opened now if there is none. The
    issuer's first list has the issuer's ``entityId`` as its own (its URL is then
    ``/ob/v3/status/{issuer entityId}``); later ones a new one."""
    did = signing.issuer_did(issuer)
    key = None if did.startswith("did:web:") else signing.active_key(issuer)
    for attempt in range(3):
        found = StatusList.objects.filter(issuer=issuer, did=did, full=False).first()
        if found is not None:
            return found
        first = attempt == 0 and not StatusList.objects.filter(issuer=issuer).exists()
        try:
            with transaction.atomic():
                return StatusList.objects.create(
                    issuer=issuer,
                    entity_id=issuer.entity_id if first else generate_entity_id(),
                    did=did,
                    key=key,
                )
        except IntegrityError:
            # Opened by a parallel request (found on the next turn), or the issuer's
            # entityId is already another list's (the next turn takes a new one).
            continue
    raise RuntimeError("Could not open a status list.")  # pragma: no cover


def entry_for(entity_id: str, issuer: Issuer) -> StatusEntry:
    """The assertion's status entry among ``issuer``'s lists, taken now if it has none:
    a random free index of the issuer's open list (a full list makes way for a new one).
    An index, once taken, is never given to another assertion."""
    existing = (
        StatusEntry.objects.select_related("status_list", "status_list__key")
        .filter(assertion_entity_id=entity_id, status_list__issuer=issuer)
        .order_by("id")
        .first()
    )
    if existing is not None:
        return existing
    while True:
        target = list_for_issuer(issuer)
        for index in _candidate_indexes(target):
            try:
                with transaction.atomic():
                    entry = StatusEntry.objects.create(
                        status_list=target, index=index, assertion_entity_id=entity_id
                    )
            except IntegrityError:
                again = StatusEntry.objects.filter(
                    status_list=target, assertion_entity_id=entity_id
                ).first()
                if again is not None:  # taken by a parallel read of the same assertion
                    return again
                continue  # the index was taken meanwhile: the next candidate
            entry.status_list = target
            return entry
        StatusList.objects.filter(pk=target.pk).update(full=True)


def _candidate_indexes(target: StatusList) -> Iterable[int]:
    """Random indexes first; when they keep colliding, the list's free ones in random
    order (read once); none when the list is full."""
    size = STATUS_LIST_SIZE
    for _ in range(RANDOM_ATTEMPTS):
        yield secrets.randbelow(size)
    taken = set(StatusEntry.objects.filter(status_list=target).values_list("index", flat=True))
    free = [index for index in range(size) if index not in taken]
    secrets.SystemRandom().shuffle(free)
    yield from free
