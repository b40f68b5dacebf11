"""Uploaded images, in (a multipart file) and out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ibl_credentials.envelopes import StrictCharField
from ibl_credentials.images import pipeline as images
from ibl_credentials.models import (
    IMAGE_NAME_MAX_LENGTH,
    UploadedImage,
)
from ibl_credentials.validators import (
    validate_own_image_reference,
)

MULTIPART_REQUIRED = "`image` is required and must be sent as a file in a multipart/form-data body."


class UploadedImageSerializer(serializers.ModelSerializer):
    """An uploaded image: its id, its name, and the absolute URL of its file (`image`)."""

    image = serializers.SerializerMethodField()

    class Meta:
        model = UploadedImage
        fields = ["id", "name", "image"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_image(self, image: UploadedImage) -> str:
        return str(self.context["request"].build_absolute_uri(image.file.url))


def own_image(serializer: serializers.Serializer, value: str | None) -> str | None:
    """Only this platform's uploads (context ``platform``), never another tenant's."""
    if value:
        request = serializer.context.get("request")
        media_url = str(settings.MEDIA_URL or "")
        site_media_url = request.build_absolute_uri(media_url) if request else None
        try:
            validate_own_image_reference(
                value, serializer.context["platform"].key, site_media_url=site_media_url
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages, code="foreign_image") from None
    return value


@extend_schema_field(OpenApiTypes.BINARY)
class UploadedFileField(serializers.Field):
    """A file part of a multipart body; anything else says how to send it."""

    default_error_messages = {
        "required": MULTIPART_REQUIRED,
        "invalid": MULTIPART_REQUIRED,
        "null": MULTIPART_REQUIRED,
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("style", {"input_type": "file"})  # a file input in HTML forms
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> UploadedFile:
        if not isinstance(data, UploadedFile):
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> None:
        return None


class ImageUploadSerializer(serializers.Serializer):
    """A multipart/form-data body: the image file, and optionally its name."""

    # validate() runs the image pipeline.

    image = UploadedFileField(help_text="PNG, JPEG, GIF or WEBP (configurable), at most 5 MiB.")
    name = StrictCharField(
        max_length=IMAGE_NAME_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text="Defaults to the file's base name without extension.",
    )

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):  # a JSON list or string: no file in it either
            raise serializers.ValidationError({"image": [MULTIPART_REQUIRED]})
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        upload = attrs["image"]
        try:
            processed = images.process_image(upload)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"image": exc.messages}) from None
        name = attrs.get("name") or images.default_image_name(upload.name, IMAGE_NAME_MAX_LENGTH)
        return {"processed": processed, "name": name}
