"""Writes of credentials, each in one transaction, with their events."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from rest_framework import serializers

from ibl_core.api.fields import JSONBoundsError, checked_json
from ibl_core.events.outbox import record_event
from ibl_core.models import Platform
from ibl_credentials.base import GENERATION_ATTEMPTS, Conflict
from ibl_credentials.credentials.selectors import active_assertions, credentials_of_platform
from ibl_credentials.credentials.serializers import CREDENTIAL_ENTITY_ID_TAKEN
from ibl_credentials.credentials.shapes import credential_object
from ibl_credentials.issuers.selectors import default_issuer
from ibl_credentials.models import (
    Credential,
    CredentialItem,
    Issuer,
    Signatory,
    generate_entity_id,
)

CREDENTIAL_HAS_ASSERTIONS = (
    "This credential has active assertions: revoke them (or let them expire) first."
)


def _replace_items(credential: Credential, items: dict[str, list[str]]) -> None:
    """Make each kind in ``items`` link exactly its keys, in the order given."""
    if not items:
        return
    CredentialItem.objects.filter(credential=credential, kind__in=list(items)).delete()
    CredentialItem.objects.bulk_create(
        CredentialItem(credential=credential, kind=kind, key=key)
        for kind, keys in items.items()
        for key in keys
    )


def create_credential(
    *,
    platform: Platform,
    created_by: Any,
    issuer: Issuer | None = None,
    items: dict[str, list[str]] | None = None,
    entity_id: str | None = None,
    **fields: Any,
) -> Credential:
    """Create a credential of ``platform`` with its linked items.

    Without ``issuer``, the platform's default issuer (its oldest); a platform without
    any is a 400. A given ``entity_id`` already taken is a 400, also when another
    request takes it first.
    """
    if issuer is None:
        issuer = default_issuer(platform)
        if issuer is None:
            raise serializers.ValidationError(
                {"issuer": ["This platform has no issuer yet: create one first."]}
            )
    attempts = 1 if entity_id is not None else GENERATION_ATTEMPTS
    for _ in range(attempts):
        credential = Credential(
            platform=platform,
            issuer=issuer,
            created_by=created_by,
            entity_id=entity_id if entity_id is not None else generate_entity_id(),
            **fields,
        )
        try:
            with transaction.atomic():
                credential.save(force_insert=True)
                _replace_items(credential, items or {})
                record_credential_event("credential.created", credential)
        except IntegrityError:
            if not Credential.objects.filter(entity_id=credential.entity_id).exists():
                raise  # another constraint failed: not ours to explain
            continue
        return credential
    raise serializers.ValidationError({"entityId": [CREDENTIAL_ENTITY_ID_TAKEN]}, code="unique")


def update_credential(
    credential: Credential, *, items: dict[str, list[str]] | None = None, **changes: Any
) -> Credential:
    """Apply a partial update: fields sent change, ``metadata`` is merged (top-level
    keys), each kind of ``items`` sent replaces that kind's links."""
    with transaction.atomic():
        locked = Credential.objects.select_for_update().get(pk=credential.pk)
        if "metadata" in changes:
            merged = {**(locked.metadata or {}), **changes["metadata"]}
            try:
                checked_json(merged)
            except JSONBoundsError as error:
                raise serializers.ValidationError({"metadata": [str(error)]}) from None
            changes["metadata"] = merged
        new_issuer = changes.get("issuer")
        if new_issuer is not None and new_issuer.pk != locked.issuer_id:
            # The credential's own signatories sign for its issuer: they move with it.
            Signatory.objects.filter(credential=locked).update(issuer=new_issuer)
        for field, value in changes.items():
            setattr(locked, field, value)
        locked.save()
        _replace_items(locked, items or {})
    return locked


def delete_credential(credential: Credential) -> None:
    """Delete a credential with its items, signatories and past assertions; 409 while
    it has active assertions (nothing is deleted then)."""
    with transaction.atomic():
        locked = Credential.objects.select_for_update().filter(pk=credential.pk).first()
        if locked is None:
            return
        if active_assertions(locked).exists():
            raise Conflict(CREDENTIAL_HAS_ASSERTIONS)
        record_credential_event("credential.deleted", locked)  # the object as it was
        locked.delete()


def record_credential_event(event_type: str, credential: Credential) -> None:
    """Record ``event_type`` with the credential object as the API answers it (read
    with everything it shows, in the caller's transaction)."""
    platform = credential.platform
    shown = credentials_of_platform(platform).get(pk=credential.pk)
    record_event(platform, event_type, shown.entity_id, credential_object(shown))
