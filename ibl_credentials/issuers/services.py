"""Writes of issuers and signatories, each in one transaction."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from rest_framework import serializers

from ibl_core.models import Platform
from ibl_credentials.base import GENERATION_ATTEMPTS, Conflict
from ibl_credentials.issuers.serializers import ENTITY_ID_TAKEN
from ibl_credentials.models import (
    Credential,
    Issuer,
    Signatory,
    generate_entity_id,
)

ISSUER_HAS_CREDENTIALS = "This issuer still has credentials: delete them first."


ISSUER_HAS_SIGNED = (
    "This issuer has signed Open Badges 3.0 credentials: it is kept, with its keys and "
    "status lists, so that what it issued stays verifiable."
)


def create_issuer(
    *,
    platform: Platform,
    created_by: Any,
    name: str,
    entity_id: str | None = None,
    url: str = "",
    email: str = "",
    icon_image: str = "",
    allowed_template_tags: list[str] | None = None,
) -> Issuer:
    """Create an issuer of ``platform``; a given ``entity_id`` already taken is a 400.

    The caller's check that the id is free can race another request; the unique index
    decides, and losing the race is the same 400 as a taken id, never a 500.
    """
    attempts = 1 if entity_id is not None else GENERATION_ATTEMPTS
    for _ in range(attempts):
        issuer = Issuer(
            platform=platform,
            created_by=created_by,
            name=name,
            entity_id=entity_id if entity_id is not None else generate_entity_id(),
            url=url,
            email=email,
            icon_image=icon_image,
            allowed_template_tags=allowed_template_tags,
        )
        try:
            with transaction.atomic():
                issuer.save(force_insert=True)
        except IntegrityError:
            if not Issuer.objects.filter(entity_id=issuer.entity_id).exists():
                raise  # another constraint failed: not ours to explain
            continue
        return issuer
    raise serializers.ValidationError({"entityId": [ENTITY_ID_TAKEN]}, code="unique")


def update_issuer(issuer: Issuer, changes: dict[str, Any]) -> Issuer:
    """Apply the fields of a partial issuer update (model field names)."""
    if changes:
        for field, value in changes.items():
            setattr(issuer, field, value)
        with transaction.atomic():
            issuer.save(update_fields=[*changes, "modified"])
    return issuer


def delete_issuer(issuer: Issuer) -> None:
    """Delete an issuer and its signatories; 409 while it has credentials, and for
    good once it has signed an Open Badges 3.0 credential (its status lists and keys
    must stay: ``docs/trust.md``).

    The issuer's row is locked first, so a credential created meanwhile either waits
    for the delete or makes it fail (the foreign key protects it): 409 both ways.
    """
    try:
        with transaction.atomic():
            locked = Issuer.objects.select_for_update().filter(pk=issuer.pk).first()
            if locked is None:
                return
            if locked.credentials.exists():
                raise Conflict(ISSUER_HAS_CREDENTIALS)
            if locked.ob_status_lists.exists():
                raise Conflict(ISSUER_HAS_SIGNED)
            locked.delete()
    except ProtectedError:
        if issuer.ob_status_lists.exists():
            raise Conflict(ISSUER_HAS_SIGNED) from None
        raise Conflict(ISSUER_HAS_CREDENTIALS) from None


def save_signatory(
    *, issuer: Issuer, credential: Credential | None, name: str, title: str, signature: str
) -> tuple[Signatory, bool]:
    """Add a signatory to ``issuer`` (or to its ``credential``), or update the title and
    signature of the one of that name. Returns it and whether it is new."""
    with transaction.atomic():
        signatory, created = Signatory.objects.update_or_create(
            issuer=issuer,
            credential=credential,
            name=name,
            defaults={"title": title, "signature_image": signature},
        )
    return signatory, created
