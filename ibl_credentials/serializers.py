"""Shapes in and out of the credentials endpoints, and the validation of single fields.

A serializer's docstring becomes its OpenAPI description: it is written for API
users. Notes for developers are comments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from . import images
from .models import ENTITY_ID_MAX_LENGTH, IMAGE_NAME_MAX_LENGTH, Issuer, UploadedImage
from .validators import (
    validate_entity_id,
    validate_http_url,
    validate_image_reference,
    validate_own_image_reference,
    validate_unreserved_entity_id,
)

MULTIPART_REQUIRED = "`image` is required and must be sent as a file in a multipart/form-data body."
ENTITY_ID_TAKEN = "An issuer with this entityId already exists."
MAX_TEMPLATE_TAGS = 100
TEMPLATE_TAG_MAX_LENGTH = 100


class StrictCharField(serializers.CharField):
    """A ``CharField`` that refuses numbers and booleans instead of turning them into text."""

    default_error_messages = {"invalid": "Not a valid string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictEmailField(serializers.EmailField):
    """An ``EmailField`` that refuses non-strings."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


# Output ----------------------------------------------------------------------------


class IssuerSerializer(serializers.Serializer):
    """An issuer. Its strings are "" when unset, never null."""

    name = serializers.CharField(read_only=True)
    org = serializers.CharField(source="platform.key", read_only=True)
    entityId = serializers.CharField(source="entity_id", read_only=True)
    signatories = serializers.SerializerMethodField()
    url = serializers.CharField(read_only=True)
    iconImage = serializers.CharField(source="icon_image", read_only=True)
    email = serializers.CharField(read_only=True)
    allowed_template_tags = serializers.ListField(
        child=serializers.CharField(), read_only=True, allow_null=True
    )

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Signatory name -> title, in signing order; {} when none.",
        }
    )
    def get_signatories(self, issuer: Issuer) -> dict[str, str]:
        # Uses the prefetched ordered signatories: no query per issuer.
        return {signatory.name: signatory.title for signatory in issuer.signatories.all()}


class UploadedImageSerializer(serializers.ModelSerializer):
    """An uploaded image: its id, its name, and the absolute URL of its file (`image`)."""

    image = serializers.SerializerMethodField()

    class Meta:
        model = UploadedImage
        fields = ["id", "name", "image"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_image(self, image: UploadedImage) -> str:
        return str(self.context["request"].build_absolute_uri(image.file.url))


class EnvelopeStatusSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    description = serializers.CharField()


class IssuerEnvelopeSerializer(serializers.Serializer):
    """The envelope of one issuer: `status`, and the issuer in `result`."""

    # Documentation only (the views build the envelope with ibl_core.envelope).

    status = EnvelopeStatusSerializer()
    result = IssuerSerializer()


class IssuerPageSerializer(serializers.Serializer):
    """One page of issuers (`data`) with its paging fields."""

    # Documentation only (CredentialsPagination builds it).

    def get_fields(self) -> dict[str, serializers.Field]:
        # Built here because a declared field named ``data`` would hide ``Serializer.data``.
        return {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "count": serializers.IntegerField(),
            "data": IssuerSerializer(many=True),
            "num_pages": serializers.IntegerField(),
            "page_number": serializers.IntegerField(),
            "max_page_size": serializers.IntegerField(),
        }


class IssuerListEnvelopeSerializer(serializers.Serializer):
    """The envelope of a list: `status`, and one page of issuers in `result`."""

    # Documentation only (CredentialsPagination builds it).

    status = EnvelopeStatusSerializer()
    result = IssuerPageSerializer()


class ErrorEnvelopeSerializer(serializers.Serializer):
    """An error in the envelope: `status.success` is false, `status.description` sums
    the error up, and `result` holds the error body (`{"detail": "..."}`, or each
    invalid field with its messages)."""

    # Documentation only (envelope.EnvelopeErrorsMixin builds it).

    status = EnvelopeStatusSerializer()
    result = serializers.DictField()


# Input -----------------------------------------------------------------------------


class IssuerCreateSerializer(serializers.Serializer):
    """A new issuer. null for an optional string means unset."""

    name = StrictCharField(max_length=255)
    entityId = StrictCharField(
        max_length=ENTITY_ID_MAX_LENGTH,
        required=False,
        allow_null=True,
        validators=[validate_entity_id, validate_unreserved_entity_id],
        help_text="Optional; generated when absent. 400 when already taken.",
    )
    url = StrictCharField(
        max_length=500, required=False, allow_blank=True, allow_null=True,
        validators=[validate_http_url],
    )  # fmt: skip
    email = StrictEmailField(max_length=254, required=False, allow_blank=True, allow_null=True)
    iconImage = StrictCharField(
        max_length=500, required=False, allow_blank=True, allow_null=True,
        validators=[validate_image_reference],
        help_text="An http(s) URL, or an image uploaded to this platform: its URL as the "
        "images endpoint returns it, or that URL's path in the media storage.",
    )  # fmt: skip
    allowed_template_tags = serializers.ListField(
        child=StrictCharField(max_length=TEMPLATE_TAG_MAX_LENGTH),
        required=False,
        allow_null=True,
        max_length=MAX_TEMPLATE_TAGS,
        help_text="A list of strings, or null.",
    )

    def validate_entityId(self, value: str | None) -> str | None:  # API field name
        if value is not None and Issuer.objects.filter(entity_id=value).exists():
            raise serializers.ValidationError(ENTITY_ID_TAKEN, code="unique")
        return value

    def validate_iconImage(self, value: str | None) -> str | None:  # API field name
        """Only this platform's uploads (context ``platform``), never another tenant's."""
        if value:
            request = self.context.get("request")
            media_url = str(settings.MEDIA_URL or "")
            site_media_url = request.build_absolute_uri(media_url) if request else None
            try:
                validate_own_image_reference(
                    value, self.context["platform"].key, site_media_url=site_media_url
                )
            except DjangoValidationError as error:
                raise serializers.ValidationError(error.messages, code="foreign_image") from None
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Model field names, with unset strings as ``""``."""
        return {
            "name": attrs["name"],
            "entity_id": attrs.get("entityId"),
            "url": attrs.get("url") or "",
            "email": attrs.get("email") or "",
            "icon_image": attrs.get("iconImage") or "",
            "allowed_template_tags": attrs.get("allowed_template_tags"),
        }


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
