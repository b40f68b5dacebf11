"""Open Badges 3.0: an assertion as an ``OpenBadgeCredential``, signed once and stored.

:func:`signed_credential` returns the stored signed forms; it signs only the first time
a credential is asked for, and again when what the credential says has changed (its
``content_hash``, computed without URLs' host or key, differs). Reading never signs
otherwise, so a thousand reads cost no signature.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from ibl_core.api.representation import utc_text
from ibl_credentials.models import Assertion
from ibl_credentials.openbadges import links, ob2, signing, status
from ibl_credentials.openbadges.contexts import OB_V3, VC_V2
from ibl_credentials.openbadges.models import SignedCredential

MEDIA_TYPE_LDP = "application/vc+ld+json"
MEDIA_TYPE_JWT = "application/vc+jwt"


def credential_document(
    assertion: Assertion, *, base: str, did: str, status_index: int, status_list: str = ""
) -> dict[str, Any]:
    """The unsigned ``OpenBadgeCredential`` (``credential__issuer``, ``recipient`` loaded),
    issued by ``did``, its status at ``status_index`` of the list ``status_list`` (an
    entityId; default the issuer's)."""
    credential, issuer = assertion.credential, assertion.credential.issuer
    salt = assertion.recipient_salt
    achievement: dict[str, Any] = {
        "id": links.badge_url(credential.entity_id, base),
        "type": ["Achievement"],
        "name": credential.name,
        "description": credential.description or credential.name,
        "criteria": ob2.criteria(credential),
        "image": {"id": ob2.badge_image(credential, base), "type": "Image"},
    }
    tags = [tag for tag in credential.tags or [] if isinstance(tag, str)]
    if tags:
        achievement["tag"] = tags
    profile: dict[str, Any] = {
        "id": did,
        "type": ["Profile"],
        "name": issuer.name,
        "url": issuer.url or links.issuer_url(issuer.entity_id, base),
    }
    if issuer.email:
        profile["email"] = issuer.email
    list_url = links.status_list_url(status_list or issuer.entity_id, base)
    document: dict[str, Any] = {
        "@context": [VC_V2, OB_V3],
        "id": links.credential_url(assertion.entity_id, base),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": credential.name,
        "issuer": profile,
        "validFrom": utc_text(assertion.issued_on, seconds=True),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": ob2.hashed_identity(ob2.recipient_email(assertion), salt),
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": salt,
                }
            ],
            "achievement": achievement,
        },
        "credentialStatus": {
            "id": f"{list_url}#{status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(status_index),
            "statusListCredential": list_url,
        },
    }
    if assertion.expires is not None:
        document["validUntil"] = utc_text(assertion.expires, seconds=True)
    return document


def content_hash(assertion: Assertion) -> str:
    """What the credential says, independent of the host it is served from and the key."""
    document = credential_document(assertion, base="", did="", status_index=0)
    return hashlib.sha256(signing.jsonld_json(document).encode()).hexdigest()


def signed_credential(assertion: Assertion, base: str) -> SignedCredential:
    """The stored signed credential; signed now only if missing or its content changed.

    ``assertion`` comes with ``ob_signed`` already loaded (or absent) when the caller
    selected it: no query then for the common, already-signed case. A credential is
    signed again by the identity that first signed it, at the same status entry, unless
    it moved to another issuer (then a new entry of that issuer's list). An assertion
    deleted meanwhile is a 404.
    """
    current = content_hash(assertion)
    try:
        stored: SignedCredential | None = assertion.ob_signed
    except SignedCredential.DoesNotExist:
        stored = None
    issuer = assertion.credential.issuer
    if stored is not None and stored.content_hash == current and stored.issuer_id == issuer.pk:
        return stored
    entry = status.entry_for(assertion.entity_id, issuer)
    listed = entry.status_list
    document = credential_document(
        assertion,
        base=base,
        did=listed.did,
        status_index=entry.index,
        status_list=listed.entity_id,
    )
    now = timezone.now()
    ldp, jwt = signing.sign(document, status.signing_key(listed), now, did=listed.did)
    values = {
        "issuer": issuer,
        "entry": entry,
        "status_index": entry.index,
        "content_hash": current,
        "ldp": signing.jsonld_json(ldp),
        "jwt": jwt,
        "signed_at": now,
    }
    try:
        with transaction.atomic():
            signed, _ = SignedCredential.objects.update_or_create(
                assertion=assertion, defaults=values
            )
    except IntegrityError:
        # Signed first by a parallel read, or the assertion was deleted meanwhile (its
        # credential's DELETE): the foreign key fails. Never a retry that cannot succeed.
        existing = SignedCredential.objects.filter(assertion=assertion).first()
        if existing is not None:
            return existing
        raise Http404 from None
    return signed
