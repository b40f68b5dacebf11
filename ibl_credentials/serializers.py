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

from ibl_core.api.fields import BoundedJSONField
from ibl_core.api.renderers import RequiredFieldsForm
from ibl_core.catalog_items import item_names
from ibl_core.conf import ibl_settings
from ibl_credentials import images
from ibl_credentials.models import (
    ENTITY_ID_MAX_LENGTH,
    IMAGE_NAME_MAX_LENGTH,
    Credential,
    Issuer,
    UploadedImage,
)
from ibl_credentials.validators import (
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


class ErrorEnvelopeSerializer(serializers.Serializer):
    """An error in the envelope: `status.success` is false, `status.description` sums
    the error up, and `result` holds the error body (`{"detail": "..."}`, or each
    invalid field with its messages)."""

    # Documentation only (envelope.EnvelopeErrorsMixin builds it).

    status = EnvelopeStatusSerializer()
    result = serializers.DictField()


# Input -----------------------------------------------------------------------------


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


# Signatories -------------------------------------------------------------------------

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


# Credentials (badge classes) -----------------------------------------------------------

CREDENTIAL_ENTITY_ID_TAKEN = "A credential with this entityId already exists."
MAX_TAGS = 100
TAG_MAX_LENGTH = 100
MAX_LINKED_ITEMS = 1000
#: The longest expiry rule, per unit (about 100 years): later dates overflow nothing.
MAX_EXPIRES_AMOUNT = {"days": 36_500, "weeks": 5_200, "months": 1_200, "years": 100}
#: The snake_case names of the published docstring -> the API's names.
CREDENTIAL_ALIASES = {
    "icon_image": "iconImage",
    "background_image": "backgroundImage",
    "thumbnail_image": "thumbnailImage",
    "criteria_url": "criteriaUrl",
    "criteria_text": "criteriaNarrative",
    "issuing_signal": "signal",
    "credential_type": "credentialType",
}
#: The API's name -> the model field, for the plain fields.
CREDENTIAL_FIELDS = {
    "name": "name",
    "description": "description",
    "credentialType": "credential_type",
    "criteriaUrl": "criteria_url",
    "criteriaNarrative": "criteria_narrative",
    "signal": "signal",
    "html_template": "html_template",
    "css_template": "css_template",
    "iconImage": "icon_image",
    "backgroundImage": "background_image",
    "thumbnailImage": "thumbnail_image",
    "public": "public",
}
CREDENTIAL_IMAGES = ("iconImage", "backgroundImage", "thumbnailImage")
#: The API's list name -> the catalog item kind.
CREDENTIAL_ITEM_LISTS = {"courses": "course", "programs": "program", "pathways": "pathway"}


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "required": ["amount", "duration"],
        "properties": {
            "amount": {"type": "integer", "minimum": 1},
            "duration": {"type": "string", "enum": ["days", "weeks", "months", "years"]},
        },
        "description": "How long an assertion lasts after it is issued; null: forever.",
    }
)
class ExpiresField(serializers.Field):
    """``{"amount": int > 0, "duration": "days" | "weeks" | "months" | "years"}``."""

    default_error_messages = {
        # Braces doubled: DRF formats the message.
        "invalid": 'Expected null or {{"amount": <positive integer>, "duration": "days", '
        '"weeks", "months" or "years"}}.',
        "too_long": "At most {limit} {duration}.",
    }

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping) or set(data) != {"amount", "duration"}:
            self.fail("invalid")
        amount, duration = data["amount"], data["duration"]
        if (
            type(amount) is not int
            or amount < 1
            or not isinstance(duration, str)
            or duration not in MAX_EXPIRES_AMOUNT
        ):
            self.fail("invalid")
        if amount > MAX_EXPIRES_AMOUNT[duration]:
            self.fail("too_long", limit=MAX_EXPIRES_AMOUNT[duration], duration=duration)
        return {"amount": amount, "duration": duration}

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field({"type": "object", "additionalProperties": True})
class MetadataField(BoundedJSONField):
    """A JSON object within the project's JSON bounds."""

    default_error_messages = {"not_an_object": "Must be a JSON object."}

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            self.fail("not_an_object")
        return value


def validate_template_length(value: str | None) -> None:
    """``html_template`` / ``css_template``: at most ``CREDENTIAL_TEMPLATE_MAX_CHARS``
    characters (read per request: ``override_settings`` applies)."""
    limit = ibl_settings.CREDENTIAL_TEMPLATE_MAX_CHARS
    if value is not None and len(value) > limit:
        raise serializers.ValidationError(
            f"Ensure this field has no more than {limit} characters (it has {len(value)})."
        )


def _text(max_length: int | None = None, **kwargs: Any) -> StrictCharField:
    """An optional string; null or "" leave it unset ("")."""
    return StrictCharField(
        max_length=max_length, required=False, allow_blank=True, allow_null=True, **kwargs
    )


IMAGE_HELP = (
    "An http(s) URL, or an image uploaded to this platform (its URL as the images "
    "endpoint returns it, or its media path)."
)


def _image(alias_of: str | None = None) -> StrictCharField:
    help_text = f"Alias of {alias_of}." if alias_of else IMAGE_HELP
    return _text(500, validators=[validate_image_reference], help_text=help_text)


def _keys(kind: str) -> serializers.ListField:
    return serializers.ListField(
        child=StrictCharField(max_length=255),
        required=False,
        allow_null=True,
        max_length=MAX_LINKED_ITEMS,
        help_text=f"Keys of this platform's {kind}s the credential is earned for; "
        "sent on a change, they replace the list.",
    )


class CredentialWriteSerializer(RequiredFieldsForm, serializers.Serializer):
    """A credential (badge class). The names `icon_image`,
    `background_image`, `thumbnail_image`, `criteria_url`, `criteria_text` (for
    `criteriaNarrative`), `issuing_signal` (for `signal`) and `credential_type` are
    accepted as aliases; sending both names of one field is 400. null or "" for an
    optional string means unset."""

    name = StrictCharField(max_length=255)
    entityId = StrictCharField(
        max_length=ENTITY_ID_MAX_LENGTH,
        required=False,
        allow_null=True,
        validators=[validate_entity_id, validate_unreserved_entity_id],
        help_text="Optional; generated when absent. 400 when already taken.",
    )
    issuer = StrictCharField(
        max_length=ENTITY_ID_MAX_LENGTH,
        required=False,
        help_text="The entityId of an issuer of this platform. Default: the platform's "
        "default issuer (its oldest).",
    )
    description = _text()
    credentialType = StrictCharField(max_length=100, required=False, help_text='Default "badge".')
    credential_type = StrictCharField(
        max_length=100, required=False, help_text="Alias of credentialType."
    )
    criteriaUrl = _text(500, validators=[validate_http_url])
    criteria_url = _text(500, validators=[validate_http_url], help_text="Alias of criteriaUrl.")
    criteriaNarrative = _text()
    criteria_text = _text(help_text="Alias of criteriaNarrative.")
    signal = StrictCharField(
        max_length=100,
        required=False,
        help_text="What triggers issuing; by default a passed course.",
    )
    issuing_signal = StrictCharField(max_length=100, required=False, help_text="Alias of signal.")
    html_template = _text(validators=[validate_template_length])
    css_template = _text(validators=[validate_template_length])
    tags = serializers.ListField(
        child=StrictCharField(max_length=TAG_MAX_LENGTH),
        required=False,
        allow_null=True,
        max_length=MAX_TAGS,
    )
    metadata = MetadataField(
        required=False, help_text="A JSON object; on a change, merged into the stored one."
    )
    expires = ExpiresField(required=False, allow_null=True)
    iconImage = _image()
    icon_image = _image("iconImage")
    backgroundImage = _image()
    background_image = _image("backgroundImage")
    thumbnailImage = _image()
    thumbnail_image = _image("thumbnailImage")
    courses = _keys("course")
    programs = _keys("program")
    pathways = _keys("pathway")
    public = serializers.BooleanField(
        required=False, help_text="Default true; false: only admins see it."
    )

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            both = {
                alias: [f"Send {alias} or {name}, not both."]
                for alias, name in CREDENTIAL_ALIASES.items()
                if alias in data and name in data
            }
            if both:
                raise serializers.ValidationError(both, code="alias")
        return super().to_internal_value(data)

    def validate_entityId(self, value: str | None) -> str | None:  # API field name
        if value is not None and Credential.objects.filter(entity_id=value).exists():
            raise serializers.ValidationError(CREDENTIAL_ENTITY_ID_TAKEN, code="unique")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Model field names of the fields sent, with ``issuer`` an Issuer and the
        linked items under ``items`` (``{kind: [key, ...]}``)."""
        sent_as = {}
        for alias, name in CREDENTIAL_ALIASES.items():
            if alias in attrs:
                attrs[name] = attrs.pop(alias)
                sent_as[name] = alias
        errors: dict[str, list[str]] = {}
        for field in CREDENTIAL_IMAGES:
            try:
                own_image(self, attrs.get(field))
            except serializers.ValidationError as error:
                errors[sent_as.get(field, field)] = list(error.detail)  # type: ignore[arg-type]
        values: dict[str, Any] = {}
        for field, model_field in CREDENTIAL_FIELDS.items():
            if field in attrs:
                value = attrs[field]
                values[model_field] = "" if value is None else value
        if "entityId" in attrs:
            values["entity_id"] = attrs["entityId"]
        if "tags" in attrs:
            values["tags"] = attrs["tags"] or []
        if "metadata" in attrs:
            values["metadata"] = attrs["metadata"]
        if "expires" in attrs:
            expires = attrs["expires"]
            values["expires_amount"] = expires["amount"] if expires else None
            values["expires_duration"] = expires["duration"] if expires else ""
        if "issuer" in attrs:
            issuer = Issuer.objects.filter(
                platform=self.context["platform"], entity_id=attrs["issuer"]
            ).first()
            if issuer is None:
                errors["issuer"] = [f"No issuer {attrs['issuer']!r} on this platform."]
            values["issuer"] = issuer
        items: dict[str, list[str]] = {}
        for field, kind in CREDENTIAL_ITEM_LISTS.items():
            if field not in attrs:
                continue
            keys = list(dict.fromkeys(attrs[field] or []))
            known = item_names(self.context["platform"], kind, keys)
            unknown = [key for key in keys if key not in known]
            if unknown:
                named = ", ".join(repr(key) for key in unknown)
                errors[field] = [f"Unknown {kind} keys on this platform: {named}."]
            items[kind] = keys
        if errors:
            raise serializers.ValidationError(errors)
        values["items"] = items
        return values


class CredentialUpdateSerializer(CredentialWriteSerializer):
    """Changes to a credential: only the fields sent change, with the rules of creation.
    `metadata` is merged into the stored object; `courses`, `programs`, `pathways`
    replace their list when sent. `entityId` cannot be changed and is ignored."""

    entityId = None  # type: ignore[assignment]  # a credential keeps its id (public URLs)


class CredentialSerializer(serializers.Serializer):
    """A credential (badge class). Strings are "" when unset, lists [] when empty."""

    # Documentation only (shapes.credential_object builds it).

    entityId = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    credentialType = serializers.CharField()
    criteriaUrl = serializers.CharField()
    criteriaNarrative = serializers.CharField()
    signal = serializers.CharField()
    html_template = serializers.CharField()
    css_template = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    metadata = serializers.DictField()
    expires = ExpiresField(allow_null=True)
    iconImage = serializers.CharField()
    backgroundImage = serializers.CharField()
    thumbnailImage = serializers.CharField()
    courses = serializers.ListField(child=serializers.CharField(), help_text="Course keys.")
    programs = serializers.ListField(child=serializers.CharField(), help_text="Program keys.")
    pathways = serializers.ListField(child=serializers.CharField(), help_text="Pathway ids.")
    public = serializers.BooleanField()
    issuer = serializers.CharField(help_text="The issuer's entityId.")
    issuerDetails = IssuerSerializer()
    signatories = SignatorySerializer(
        many=True, help_text="The issuer's signatories, then the credential's own."
    )
    created = serializers.DateTimeField()
    modified = serializers.DateTimeField()


class CredentialEnvelopeSerializer(serializers.Serializer):
    """The envelope of one credential: `status`, and the credential in `result`."""

    # Documentation only (the views build the envelope with ibl_core.api.envelope).

    status = EnvelopeStatusSerializer()
    result = CredentialSerializer()


def _credential_page(items_name: str) -> type[serializers.Serializer]:
    class Page(serializers.Serializer):
        def get_fields(self) -> dict[str, serializers.Field]:
            # Built here because a declared field named ``data`` would hide ``.data``.
            return {
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "count": serializers.IntegerField(),
                items_name: CredentialSerializer(many=True),
                "num_pages": serializers.IntegerField(),
                "page_number": serializers.IntegerField(),
                "max_page_size": serializers.IntegerField(),
            }

    return Page


class CredentialPageSerializer(_credential_page("data")):  # type: ignore[misc]
    """One page of credentials (`data`) with its paging fields."""


class CourseCredentialPageSerializer(_credential_page("results")):  # type: ignore[misc]
    """One page of credentials (`results`) with its paging fields."""


class CredentialListEnvelopeSerializer(serializers.Serializer):
    """The envelope of a list: `status`, and one page of credentials in `result`."""

    status = EnvelopeStatusSerializer()
    result = CredentialPageSerializer()


class CourseCredentialListEnvelopeSerializer(serializers.Serializer):
    """The envelope of a list: `status`, and one page of credentials in `result`
    (this list names them `results`)."""

    status = EnvelopeStatusSerializer()
    result = CourseCredentialPageSerializer()


class StatusOnlySerializer(serializers.Serializer):
    """An answer without a result: `{"status": {"success": true, "description": ...}}`."""

    status = EnvelopeStatusSerializer()
