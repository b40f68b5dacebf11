"""Storing a checked image."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from ibl_core.models import Platform
from ibl_credentials.images import pipeline as images
from ibl_credentials.models import (
    UploadedImage,
)


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
    """Store an image that passed :func:`ibl_credentials.images.pipeline.process_image`."""
    image = UploadedImage(platform=platform, uploaded_by=uploaded_by, name=name)
    return store_uploaded_image(image, processed)
