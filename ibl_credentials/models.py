"""Issuers, their signatories, and the images uploaded for credentials."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from ibl_core.models import Platform, TimeStampedModel

from .validators import (
    validate_entity_id,
    validate_http_url,
    validate_image_reference,
    validate_own_image_reference,
)

ENTITY_ID_MAX_LENGTH = 100
IMAGE_NAME_MAX_LENGTH = 254


def generate_entity_id() -> str:
    """A new opaque, URL-safe issuer id (128 random bits)."""
    return secrets.token_urlsafe(16)


class Issuer(TimeStampedModel):
    """An organisation that issues credentials, owned by one platform."""

    platform = models.ForeignKey(
        Platform, on_delete=models.CASCADE, related_name="credential_issuers"
    )
    entity_id = models.CharField(
        max_length=ENTITY_ID_MAX_LENGTH,
        unique=True,
        default=generate_entity_id,
        validators=[validate_entity_id],
        help_text="Opaque URL-safe identifier (entityId in the API), unique across platforms.",
    )
    name = models.CharField(max_length=255)
    url = models.URLField(max_length=500, blank=True, validators=[validate_http_url])
    email = models.EmailField(max_length=254, blank=True)
    icon_image = models.CharField(
        max_length=500,
        blank=True,
        validators=[validate_image_reference],
        help_text="An http(s) URL or a path in the media storage.",
    )
    allowed_template_tags = models.JSONField(
        null=True, blank=True, help_text="A list of strings, or empty (null) for no restriction."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ibl_created_issuers",
    )

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["platform", "name", "id"], name="ibl_issuer_platform_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.entity_id})"

    def clean(self) -> None:
        if self.platform_id is not None:
            _check_own_image(self.icon_image, self.platform, "icon_image")


class Signatory(models.Model):
    """A person who signs an issuer's credentials, in display ``order``."""

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="signatories")
    name = models.CharField(max_length=255)
    title = models.CharField(max_length=255, blank=True)
    signature_image = models.CharField(
        max_length=500,
        blank=True,
        validators=[validate_image_reference],
        help_text="An http(s) URL or a path in the media storage.",
    )
    order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "signatories"
        ordering = ["issuer", "order", "id"]
        constraints = [
            # The API exposes signatories as an object keyed by name.
            models.UniqueConstraint(fields=["issuer", "name"], name="ibl_signatory_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.title})" if self.title else self.name

    def clean(self) -> None:
        # In the issuer's admin page the issuer may not be saved yet: use the instance.
        issuer = self.issuer if Signatory._meta.get_field("issuer").is_cached(self) else None
        if issuer is None and self.issuer_id is not None:
            issuer = Issuer.objects.select_related("platform").get(pk=self.issuer_id)
        if issuer is not None and issuer.platform_id is not None:
            _check_own_image(self.signature_image, issuer.platform, "signature_image")


def _check_own_image(value: str, platform: Platform, field: str) -> None:
    """``validate_own_image_reference`` for a model's ``clean``: errors on ``field``."""
    try:
        validate_own_image_reference(value, platform.key)
    except ValidationError as error:
        raise ValidationError({field: error.error_list}) from None


class UploadedImage(models.Model):
    """An image that passed :mod:`ibl_credentials.images`, stored re-encoded."""

    class Format(models.TextChoices):
        PNG = "PNG"
        JPEG = "JPEG"
        GIF = "GIF"
        WEBP = "WEBP"

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="uploaded_images")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ibl_uploaded_images",
    )
    name = models.CharField(max_length=IMAGE_NAME_MAX_LENGTH)
    file = models.FileField(max_length=255, help_text="Server-generated path in the storage.")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=10, choices=Format.choices)
    size = models.PositiveIntegerField(help_text="Bytes stored (after re-encoding).")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["platform", "-created", "-id"], name="ibl_image_platform_new"),
            models.Index(
                fields=["platform", "uploaded_by", "-created", "-id"], name="ibl_image_owner_new"
            ),
        ]

    def __str__(self) -> str:
        return self.name
