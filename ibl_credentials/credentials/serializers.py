"""Credentials (badge classes), in and out, with the aliases the client sends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ibl_core.api.fields import BoundedJSONField
from ibl_core.api.renderers import RequiredFieldsForm
from ibl_core.catalog_items import item_names
from ibl_core.conf import ibl_settings
from ibl_credentials.envelopes import EnvelopeStatusSerializer, StrictCharField
from ibl_credentials.images.serializers import own_image
from ibl_credentials.issuers.serializers import IssuerSerializer, SignatorySerializer
from ibl_credentials.models import (
    ENTITY_ID_MAX_LENGTH,
    Credential,
    Issuer,
)
from ibl_credentials.validators import (
    validate_entity_id,
    validate_http_url,
    validate_image_reference,
    validate_unreserved_entity_id,
)

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
