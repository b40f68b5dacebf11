"""Issuers and signatories, in and out."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ibl_core.api.renderers import RequiredFieldsForm
from ibl_credentials.envelopes import EnvelopeStatusSerializer, StrictCharField, StrictEmailField
from ibl_credentials.images.serializers import own_image
from ibl_credentials.models import (
    ENTITY_ID_MAX_LENGTH,
    Issuer,
)
from ibl_credentials.validators import (
    validate_entity_id,
    validate_http_url,
    validate_image_reference,
    validate_unreserved_entity_id,
)

ENTITY_ID_TAKEN = "An issuer with this entityId already exists."


MAX_TEMPLATE_TAGS = 100


TEMPLATE_TAG_MAX_LENGTH = 100


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


class IssuerEnvelopeSerializer(serializers.Serializer):
    """The envelope of one issuer: `status`, and the issuer in `result`."""

    # Documentation only (the views build the envelope with ibl_core.api.envelope).

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


class IssuerCreateSerializer(RequiredFieldsForm, serializers.Serializer):
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
        return own_image(self, value)

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


class IssuerUpdateSerializer(IssuerCreateSerializer):
    """Changes to an issuer: only the fields sent change, with the rules of creation.
    `entityId`, `org` and `signatories` cannot be changed here and are ignored."""

    entityId = None  # type: ignore[assignment]  # an issuer keeps its id (public URLs)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Model field names of the fields sent, unset strings as ``""``."""
        names = {
            "name": "name",
            "url": "url",
            "email": "email",
            "iconImage": "icon_image",
            "allowed_template_tags": "allowed_template_tags",
        }
        changes: dict[str, Any] = {}
        for field, model_field in names.items():
            if field in attrs:
                value = attrs[field]
                changes[model_field] = value if field == "allowed_template_tags" else value or ""
        return changes


SIGNATORY_TARGETS = ("org", "entityId", "credential")


ONE_TARGET = "Send at most one of org, entityId and credential."


class SignatoryCreateSerializer(RequiredFieldsForm, serializers.Serializer):
    """A signatory of an issuer, or of one credential. At most one of `org` (the
    platform's default issuer), `entityId` (an issuer of this platform) and `credential`
    (a credential of this platform) says whose; none: the platform's default issuer
    (its oldest). A name the issuer (or the credential) already has updates that
    signatory's title and signature."""

    name = StrictCharField(max_length=255)
    title = StrictCharField(max_length=255)
    signature = StrictCharField(
        max_length=500,
        validators=[validate_image_reference],
        help_text="An http(s) URL of the signature image, or an image uploaded to this "
        "platform (its URL as the images endpoint returns it, or its media path).",
    )
    org = StrictCharField(
        max_length=255,
        required=False,
        allow_null=True,
        help_text="This platform's key or org: its default issuer.",
    )
    entityId = StrictCharField(
        max_length=ENTITY_ID_MAX_LENGTH,
        required=False,
        allow_null=True,
        help_text="The entityId of an issuer of this platform.",
    )
    credential = StrictCharField(
        max_length=ENTITY_ID_MAX_LENGTH,
        required=False,
        allow_null=True,
        help_text="The entityId of a credential of this platform: the signatory signs "
        "that credential only.",
    )

    def validate_signature(self, value: str) -> str | None:
        return own_image(self, value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        targets = [name for name in SIGNATORY_TARGETS if attrs.get(name) is not None]
        if len(targets) > 1:
            raise serializers.ValidationError(ONE_TARGET, code="targets")
        return attrs


class SignatorySerializer(serializers.Serializer):
    """A signatory: name, title, and the URL or media path of the signature image."""

    # Documentation only (shapes.signatory_object builds it).

    name = serializers.CharField()
    title = serializers.CharField()
    signature = serializers.CharField()


class SignatoryAnswerSerializer(serializers.Serializer):
    """The signatory written, in `data`."""

    # Documentation only. Built in get_fields: a declared ``data`` hides Serializer.data.

    def get_fields(self) -> dict[str, serializers.Field]:
        return {"data": SignatorySerializer()}
