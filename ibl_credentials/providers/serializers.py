"""Shapes in and out of the provider endpoints.

A serializer's docstring becomes its OpenAPI description: it is written for API users.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ibl_core.api.fields import BoundedJSONField
from ibl_credentials.assertions.serializers import AssertionSerializer
from ibl_credentials.envelopes import EnvelopeStatusSerializer, StrictCharField
from ibl_credentials.providers.registry import PROVIDERS

#: Longest configuration value (text) accepted.
CONFIG_VALUE_MAX_LENGTH = 1000


def unknown_provider_message(name: str) -> str:
    return f"Unknown provider {name!r}; the providers are: {', '.join(sorted(PROVIDERS))}."


class ProviderNameField(StrictCharField):
    """The name of a provider this server knows (`GET /api/credentials/providers/`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=100, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        name = super().to_internal_value(data).strip().lower()
        if name not in PROVIDERS:
            raise serializers.ValidationError(unknown_provider_message(name))
        return name


_CONFIG_PROPERTIES = {
    "accredible_api_key": {
        "type": "string",
        "description": "Accredible: the API key (from the Accredible dashboard).",
    },
    "group_id": {
        "type": "string",
        "description": "The group credentials are filed in when their mapping names none.",
    },
}


@extend_schema_field(
    {"type": "object", "properties": _CONFIG_PROPERTIES, "additionalProperties": True}
)
class ConfigField(BoundedJSONField):
    """The provider's settings: a JSON object of texts, numbers and booleans."""


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            "accredible_api_key": {"type": "string", "example": "****abcd"},
            "group_id": _CONFIG_PROPERTIES["group_id"],
        },
        "additionalProperties": True,
    }
)
class MaskedConfigField(serializers.JSONField):
    """The provider's settings, secrets masked."""


class ProviderSerializer(serializers.Serializer):
    """A provider this server can mirror assertions to."""

    name = serializers.CharField()
    display_name = serializers.CharField()
    required_config_keys = serializers.ListField(
        child=serializers.CharField(), help_text="Keys a platform's config must give."
    )


class ProviderConfigWriteSerializer(serializers.Serializer):
    """Create or update the platform's configuration of a provider. `config` keys are
    lower-cased; a key set to null is removed; a secret sent back masked (as a GET
    shows it) keeps its stored value. Accredible needs `accredible_api_key`."""

    provider_name = ProviderNameField()
    config = ConfigField(required=False)
    enabled = serializers.BooleanField(required=False)

    def validate_config(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("A JSON object is required.")
        config: dict[str, Any] = {}
        for key, item in value.items():
            name = key.strip().lower()
            if not name:
                raise serializers.ValidationError("Keys must not be empty.")
            if name in config:
                raise serializers.ValidationError(f"The key {name!r} is given twice.")
            if item is not None and not isinstance(item, str | int | float | bool):
                raise serializers.ValidationError(
                    f"{name}: a text, a number, true, false or null is required."
                )
            if isinstance(item, str) and len(item) > CONFIG_VALUE_MAX_LENGTH:
                raise serializers.ValidationError(
                    f"{name}: at most {CONFIG_VALUE_MAX_LENGTH} characters."
                )
            config[name] = item
        return config


class ProviderConfigDeleteSerializer(serializers.Serializer):
    """Which provider to turn off for the platform."""

    provider_name = ProviderNameField()


class ProviderConfigSerializer(serializers.Serializer):
    """A platform's configuration of a provider; its secrets are masked: `****` and
    their last four characters."""

    id = serializers.IntegerField()
    platform_key = serializers.CharField()
    platform_name = serializers.CharField()
    provider_name = serializers.CharField()
    provider_name_display = serializers.CharField()
    config = MaskedConfigField()
    enabled = serializers.BooleanField()
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()


class MappingWriteSerializer(serializers.Serializer):
    """Create or update the mapping of a credential to a provider's template."""

    credential_id = StrictCharField(max_length=100, help_text="The credential's entityId.")
    provider_name = ProviderNameField()
    external_template_id = StrictCharField(
        max_length=255, required=False, allow_null=True, allow_blank=True
    )
    group_id = StrictCharField(
        max_length=255,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="The provider's group; default: the template, then the config's group_id.",
    )
    metadata = BoundedJSONField(required=False, help_text="A JSON object.")

    def validate_metadata(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise serializers.ValidationError("A JSON object is required.")
        return value


class MappingDeleteSerializer(serializers.Serializer):
    """Which mapping to delete."""

    credential_id = StrictCharField(max_length=100)
    provider_name = ProviderNameField()


class MappingSerializer(serializers.Serializer):
    """A credential's mapping to a provider's template. `provider`: the id of the
    platform's configuration of that provider (null when there is none)."""

    id = serializers.IntegerField()
    credential_id = serializers.CharField()
    credential_name = serializers.CharField()
    platform_key = serializers.CharField()
    platform_name = serializers.CharField()
    provider = serializers.IntegerField(allow_null=True)
    provider_name = serializers.CharField()
    provider_name_display = serializers.CharField()
    external_template_id = serializers.CharField(allow_null=True)
    group_id = serializers.CharField(allow_null=True)
    metadata = serializers.JSONField()
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()


class AssertionSyncSerializer(serializers.Serializer):
    """An assertion's mirror at a provider: `pending` (waiting for an attempt), `synced`,
    or `failed` with the provider's error in `lastError`."""

    provider = serializers.CharField()
    state = serializers.ChoiceField(choices=["pending", "synced", "failed"])
    operation = serializers.ChoiceField(choices=["create", "update", "delete"])
    externalId = serializers.CharField(allow_null=True)
    attempts = serializers.IntegerField()
    lastError = serializers.CharField()
    syncedAt = serializers.DateTimeField(allow_null=True)


# Envelopes (documentation only: the views build them with ibl_core.api.envelope) ----------


def page_envelope(item: type[serializers.Serializer], what: str) -> type[serializers.Serializer]:
    """The envelope of one page of ``item``: ``status``, and the page in ``result``."""

    class Page(serializers.Serializer):
        def get_fields(self) -> dict[str, serializers.Field]:
            # Built here because a declared field named ``data`` would hide ``.data``.
            return {
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "count": serializers.IntegerField(),
                "data": item(many=True),
                "num_pages": serializers.IntegerField(),
                "page_number": serializers.IntegerField(),
                "max_page_size": serializers.IntegerField(),
            }

    Page.__name__ = f"{item.__name__.removesuffix('Serializer')}Page"
    Page.__doc__ = f"One page of {what} (`data`) with its paging fields."

    class Envelope(serializers.Serializer):
        status = EnvelopeStatusSerializer()
        result = Page()

    Envelope.__name__ = f"{item.__name__.removesuffix('Serializer')}ListEnvelope"
    Envelope.__doc__ = f"The envelope of a list: `status`, and one page of {what} in `result`."
    return Envelope


def object_envelope(item: type[serializers.Serializer], what: str) -> type[serializers.Serializer]:
    """The envelope of one ``item``."""

    class Envelope(serializers.Serializer):
        status = EnvelopeStatusSerializer()
        result = item()

    Envelope.__name__ = f"{item.__name__.removesuffix('Serializer')}Envelope"
    Envelope.__doc__ = f"The envelope of one {what}: `status`, and the {what} in `result`."
    return Envelope


ProviderListEnvelopeSerializer = page_envelope(ProviderSerializer, "providers")
ProviderConfigListEnvelopeSerializer = page_envelope(
    ProviderConfigSerializer, "provider configurations"
)
ProviderConfigEnvelopeSerializer = object_envelope(
    ProviderConfigSerializer, "provider configuration"
)
MappingListEnvelopeSerializer = page_envelope(MappingSerializer, "mappings")
MappingEnvelopeSerializer = object_envelope(MappingSerializer, "mapping")


class AssertionWithSyncSerializer(AssertionSerializer):
    """An assertion. Every value inside credentialDetails, recipient and
    course/program/pathway is a string; course/program/pathway are {} when the
    assertion was not issued for such an item; expires and revocationReason are ""
    when unset; datetimes are UTC. `externalSync` is present only when the assertion
    is mirrored to an external provider (its credential was mapped to one when it was
    issued)."""

    externalSync = AssertionSyncSerializer(many=True, required=False)
