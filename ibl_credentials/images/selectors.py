"""Reads of a platform's uploaded images."""

from __future__ import annotations

from django.db.models import QuerySet

from ibl_core.models import Platform
from ibl_credentials.models import (
    UploadedImage,
)


def images_of_platform(platform: Platform) -> QuerySet[UploadedImage]:
    """A platform's images, newest first (who sees which: ``filters.OwnImagesUnlessAdmin``)."""
    return UploadedImage.objects.filter(platform=platform).order_by("-created", "-id")
