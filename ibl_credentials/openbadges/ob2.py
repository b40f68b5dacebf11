"""Open Badges 2.0 hosted documents: ``Assertion``, ``BadgeClass``, issuer ``Profile``.

Built from rows already loaded (``credential__issuer`` and ``recipient`` selected with
the assertion): no query per document. ``base`` is the scheme and host of every URL
(:func:`.links.base_url`).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage

from ibl_core.api.representation import utc_text
from ibl_credentials.models import Assertion, Credential, Issuer
from ibl_credentials.openbadges import links
from ibl_credentials.openbadges.contexts import OB_V2
from ibl_credentials.validators import media_storage_path

MEDIA_TYPE = "application/ld+json"


def recipient_email(assertion: Assertion) -> str:
    """The identity hashed for the recipient: their email (their username if none)."""
    user = assertion.recipient
    return (user.email or user.get_username()).strip().lower()


def hashed_identity(email: str, salt: str) -> str:
    """``sha256$`` + hex SHA-256 of the email followed by the salt (OB 2.0 recipient)."""
    return "sha256$" + hashlib.sha256((email + salt).encode()).hexdigest()


def stored_image_path(value: str, base: str) -> str | None:
    """The media storage path an image field names, None for an image elsewhere.

    The field holds a path, or the absolute URL the images endpoint answered for an
    upload (``base`` + ``MEDIA_URL`` + path): both name the same stored file.
    """
    site_media_url = base + str(settings.MEDIA_URL or "") if base else None
    return media_storage_path(value, site_media_url)


def image_reference(value: str, base: str) -> str:
    """An image field (an http(s) URL or a media storage path) as an absolute URL."""
    path = stored_image_path(value, base)
    if path is None:
        return value
    url = default_storage.url(path)
    return url if url.startswith(("http://", "https://")) else base + url


def badge_image(credential: Credential, base: str) -> str:
    """The credential's image, else its generated default badge image."""
    if credential.icon_image:
        return image_reference(credential.icon_image, base)
    return links.badge_image_url(credential.entity_id, base)


def assertion_document(assertion: Assertion, base: str) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": OB_V2,
        "type": "Assertion",
        "id": links.assertion_url(assertion.entity_id, base),
        "recipient": {
            "type": "email",
            "hashed": True,
            "salt": assertion.recipient_salt,
            "identity": hashed_identity(recipient_email(assertion), assertion.recipient_salt),
        },
        "badge": links.badge_url(assertion.credential.entity_id, base),
        "verification": {"type": "hosted"},
        "issuedOn": utc_text(assertion.issued_on),
        "image": links.assertion_image_url(assertion.entity_id, base),
    }
    if assertion.expires is not None:
        document["expires"] = utc_text(assertion.expires)
    evidence = [
        {
            "type": "Evidence",
            **({"id": item["url"]} if item.get("url") else {}),
            **({"narrative": item["narrative"]} if item.get("narrative") else {}),
        }
        for item in assertion.evidence or []
        if isinstance(item, dict)
    ]
    if evidence:
        document["evidence"] = evidence
    if assertion.narrative:
        document["narrative"] = assertion.narrative
    return document


def revoked_document(assertion: Assertion, base: str) -> dict[str, Any]:
    """The body of a revoked assertion's 410 answer."""
    return revoked_document_of(assertion.entity_id, assertion.revocation_reason, base)


def revoked_document_of(entity_id: str, reason: str, base: str) -> dict[str, Any]:
    """The 410 body of the revoked assertion ``entity_id``, also once it is deleted."""
    return {
        "@context": OB_V2,
        "id": links.assertion_url(entity_id, base),
        "type": "Assertion",
        "revoked": True,
        "revocationReason": reason,
    }


def criteria(credential: Credential) -> dict[str, str]:
    found = {}
    if credential.criteria_url:
        found["id"] = credential.criteria_url
    found["narrative"] = credential.criteria_narrative or f"Earn {credential.name}."
    return found


def badge_document(credential: Credential, base: str) -> dict[str, Any]:
    """The ``BadgeClass`` (``credential.issuer`` loaded with it)."""
    tags = [tag for tag in credential.tags or [] if isinstance(tag, str)]
    alignment = (credential.metadata or {}).get("alignment")
    return {
        "@context": OB_V2,
        "type": "BadgeClass",
        "id": links.badge_url(credential.entity_id, base),
        "name": credential.name,
        "description": credential.description or credential.name,
        "image": badge_image(credential, base),
        "criteria": criteria(credential),
        "issuer": links.issuer_url(credential.issuer.entity_id, base),
        "tags": tags,
        "alignment": alignment if isinstance(alignment, list) else [],
    }


def issuer_document(issuer: Issuer, base: str) -> dict[str, Any]:
    """The issuer ``Profile``: ``url`` is the issuer's site, else this document."""
    own_url = links.issuer_url(issuer.entity_id, base)
    document: dict[str, Any] = {
        "@context": OB_V2,
        "type": "Issuer",
        "id": own_url,
        "name": issuer.name,
        "url": issuer.url or own_url,
    }
    if issuer.email:
        document["email"] = issuer.email
    if issuer.icon_image:
        document["image"] = image_reference(issuer.icon_image, base)
    return document
