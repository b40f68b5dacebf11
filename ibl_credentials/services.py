"""Writes: issuers, signatories, credentials and uploaded images, each in one transaction."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from rest_framework import exceptions, serializers, status

from ibl_core.api.fields import JSONBoundsError, checked_json
from ibl_core.events.outbox import record_event
from ibl_core.models import Platform
from ibl_credentials import images, selectors, shapes
from ibl_credentials.models import (
    Credential,
    CredentialItem,
    Issuer,
    Signatory,
    UploadedImage,
    generate_entity_id,
)
from ibl_credentials.serializers import CREDENTIAL_ENTITY_ID_TAKEN, ENTITY_ID_TAKEN

ISSUER_HAS_CREDENTIALS = "This issuer still has credentials: delete them first."
ISSUER_HAS_SIGNED = (
    "This issuer has signed Open Badges 3.0 credentials: it is kept, with its keys and "
    "status lists, so that what it issued stays verifiable."
)
CREDENTIAL_HAS_ASSERTIONS = (
    "This credential has active assertions: revoke them (or let them expire) first."
)


class Conflict(exceptions.APIException):
    """409: the object is still in use; nothing was changed."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object is still in use."
    default_code = "conflict"


#: A generated entityId colliding is a 1-in-2**128 event; a few tries are plenty.
_GENERATION_ATTEMPTS = 3


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
    attempts = 1 if entity_id is not None else _GENERATION_ATTEMPTS
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


def store_uploaded_image(image: UploadedImage, processed: images.ProcessedImage) -> UploadedImage:
    """Write ``processed`` to the storage and save ``image`` (platform, name set by the caller).

    When the row cannot be saved, the file just written is deleted again, so a refused
    upload leaves nothing behind.
    """
    image.width, image.height = processed.width, processed.height
    image.format = processed.format
    image.size = processed.size
    name = images.storage_name(image.platform.key, processed)
    image.file.save(name, ContentFile(processed.content), save=False)
    stored_name = str(image.file.name)
    try:
        with transaction.atomic():
            image.save()
    except BaseException:
        image.file.storage.delete(stored_name)
        raise
    return image


def upload_image(
    *, platform: Platform, uploaded_by: Any, name: str, processed: images.ProcessedImage
) -> UploadedImage:
    """Store an image that passed :func:`ibl_credentials.images.process_image`."""
    image = UploadedImage(platform=platform, uploaded_by=uploaded_by, name=name)
    return store_uploaded_image(image, processed)


# Issuers ---------------------------------------------------------------------------


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


# Signatories -----------------------------------------------------------------------


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


# Credentials (badge classes) ------------------------------------------------------------


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
        issuer = selectors.default_issuer(platform)
        if issuer is None:
            raise serializers.ValidationError(
                {"issuer": ["This platform has no issuer yet: create one first."]}
            )
    attempts = 1 if entity_id is not None else _GENERATION_ATTEMPTS
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
        if selectors.active_assertions(locked).exists():
            raise Conflict(CREDENTIAL_HAS_ASSERTIONS)
        record_credential_event("credential.deleted", locked)  # the object as it was
        locked.delete()


def record_credential_event(event_type: str, credential: Credential) -> None:
    """Record ``event_type`` with the credential object as the API answers it (read
    with everything it shows, in the caller's transaction)."""
    platform = credential.platform
    shown = selectors.credentials_of_platform(platform).get(pk=credential.pk)
    record_event(platform, event_type, shown.entity_id, shapes.credential_object(shown))
