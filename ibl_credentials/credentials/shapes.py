"""The credential object as the API answers it, built from a row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rest_framework import serializers

from ibl_credentials.issuers.shapes import issuer_object, signatory_object
from ibl_credentials.models import Credential, ItemKind

_TIMESTAMP = serializers.DateTimeField()


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in the current zone (UTC: with a ``Z``), as DRF writes datetimes."""
    return None if value is None else _TIMESTAMP.to_representation(value)


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
