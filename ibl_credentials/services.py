"""Writes: creating issuers and storing uploaded images, each in one transaction."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from rest_framework import serializers

from ibl_core.models import Platform

from . import images
from .models import Issuer, UploadedImage, generate_entity_id
from .serializers import ENTITY_ID_TAKEN

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
