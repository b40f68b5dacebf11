"""The issuer object and the credential object of the API, as plain dicts.

Both are built from instances that the selectors fetched with everything they show
(``selectors.issuers_of_platform``, ``selectors.credentials_of_platform``): building
one costs no query, so a page of 100 credentials costs what a page of one does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rest_framework import serializers

from ibl_credentials.models import Credential, Issuer, ItemKind, Signatory

_TIMESTAMP = serializers.DateTimeField()


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in the current zone (UTC: with a ``Z``), as DRF writes datetimes."""
    return None if value is None else _TIMESTAMP.to_representation(value)


def issuer_object(issuer: Issuer) -> dict[str, Any]:
    """The issuer object; ``signatories`` maps each issuer-wide signatory to its title."""
    return {
        "name": issuer.name,
        "org": issuer.platform.key,
        "entityId": issuer.entity_id,
        "signatories": {signatory.name: signatory.title for signatory in issuer.signatories.all()},
        "url": issuer.url,
        "iconImage": issuer.icon_image,
        "email": issuer.email,
        "allowed_template_tags": issuer.allowed_template_tags,
    }


def signatory_object(signatory: Signatory) -> dict[str, str]:
    """A signatory as credentials and the signatories endpoint show it."""
    return {
        "name": signatory.name,
        "title": signatory.title,
        "signature": signatory.signature_image,
    }


def expires_object(credential: Credential) -> dict[str, Any] | None:
    """``{"amount", "duration"}``, or None when the credential's assertions never expire."""
    if credential.expires_amount is None:
        return None
    return {"amount": credential.expires_amount, "duration": credential.expires_duration}


def credential_object(credential: Credential) -> dict[str, Any]:
    """The credential object: every field in camelCase, its items by kind, its issuer,
    and its signatories (the issuer-wide ones first, then the credential's own)."""
    keys: dict[str, list[str]] = {kind: [] for kind in ItemKind.values}
    for item in credential.items.all():
        keys[item.kind].append(item.key)
    issuer = credential.issuer
    signatories = [*issuer.signatories.all(), *credential.own_signatories.all()]
    return {
        "entityId": credential.entity_id,
        "name": credential.name,
        "description": credential.description,
        "credentialType": credential.credential_type,
        "criteriaUrl": credential.criteria_url,
        "criteriaNarrative": credential.criteria_narrative,
        "signal": credential.signal,
        "html_template": credential.html_template,
        "css_template": credential.css_template,
        "tags": list(credential.tags or []),
        "metadata": dict(credential.metadata or {}),
        "expires": expires_object(credential),
        "iconImage": credential.icon_image,
        "backgroundImage": credential.background_image,
        "thumbnailImage": credential.thumbnail_image,
        "courses": keys[ItemKind.COURSE],
        "programs": keys[ItemKind.PROGRAM],
        "pathways": keys[ItemKind.PATHWAY],
        "public": credential.public,
        "issuer": issuer.entity_id,
        "issuerDetails": issuer_object(issuer),
        "signatories": [signatory_object(signatory) for signatory in signatories],
        "created": timestamp(credential.created),
        "modified": timestamp(credential.modified),
    }
