"""The OpenAPI text of the provider endpoints (what ``extend_schema`` is given), so the
views stay thin. Written for API users."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from ibl_credentials.base import PATH_PARAMETERS
from ibl_credentials.envelopes import ErrorEnvelopeSerializer
from ibl_credentials.providers.serializers import (
    MappingDeleteSerializer,
    MappingEnvelopeSerializer,
    MappingListEnvelopeSerializer,
    MappingWriteSerializer,
    ProviderConfigDeleteSerializer,
    ProviderConfigEnvelopeSerializer,
    ProviderConfigListEnvelopeSerializer,
    ProviderConfigWriteSerializer,
    ProviderListEnvelopeSerializer,
)


def _errors(**descriptions: str) -> dict[int, OpenApiResponse]:
    return {
        int(name.lstrip("e")): OpenApiResponse(ErrorEnvelopeSerializer, description=text)
        for name, text in descriptions.items()
    }


_ADMIN_ERRORS = {
    "e401": "Missing or invalid credentials.",
    "e403": "Not a platform admin of this platform.",
}
_PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="Page number, from 1 (default 1)."),
    OpenApiParameter(
        "page_size",
        OpenApiTypes.INT,
        description="Items per page (default 50; larger than 1000 is clamped).",
    ),
]
_PROVIDER_NAME = OpenApiParameter(
    "provider_name", OpenApiTypes.STR, description="Only this provider (e.g. accredible)."
)
_SECRETS = (
    "Secrets in `config` (accredible_api_key, and any key named like a key, a secret, a "
    "token or a password) are write-only: every answer shows them masked, as `****` and "
    "their last four characters."
)

PROVIDERS_LIST: dict[str, Any] = {
    "operation_id": "credentials_providers_retrieve",
    "summary": "The providers this server can mirror assertions to",
    "description": (
        "Any authenticated caller. Each provider with its name (the `provider_name` of "
        "the other provider endpoints), the name to show, and the keys a platform's "
        "`config` must give. Paged by `page` and `page_size` (default 50, at most 1000)."
    ),
    "parameters": _PAGE_PARAMETERS,
    "responses": {
        200: ProviderListEnvelopeSerializer,
        **_errors(e400="Invalid page or page_size.", e401="Missing or invalid credentials."),
    },
}

CONFIG_LIST: dict[str, Any] = {
    "operation_id": "credentials_orgs_users_provider_config_retrieve",
    "summary": "The platform's provider configurations (platform admins)",
    "description": (
        "Platform admins of {org} and DM admins. Ordered by provider name; `provider_name` "
        f"keeps one provider. {_SECRETS} Errors use the envelope."
    ),
    "parameters": [*PATH_PARAMETERS, _PROVIDER_NAME, *_PAGE_PARAMETERS],
    "responses": {
        200: ProviderConfigListEnvelopeSerializer,
        **_errors(
            e400="Invalid query parameter.", **_ADMIN_ERRORS, e404="Unknown platform or user."
        ),
    },
}

CONFIG_SAVE: dict[str, Any] = {
    "operation_id": "credentials_orgs_users_provider_config_create",
    "summary": "Create or update a provider configuration (platform admins)",
    "description": (
        "Platform admins of {org} and DM admins. `provider_name` is required; `config` "
        "keys are lower-cased and merged over the stored ones (null removes a key; a "
        "secret sent back masked keeps its stored value); accredible needs "
        "`accredible_api_key`. 201 with status `Created` when the configuration is new, "
        f"200 with `Updated` otherwise. {_SECRETS} The configuration is stored encrypted."
    ),
    "parameters": PATH_PARAMETERS,
    "request": ProviderConfigWriteSerializer,
    "responses": {
        200: ProviderConfigEnvelopeSerializer,
        201: ProviderConfigEnvelopeSerializer,
        **_errors(
            e400="Invalid body, unknown provider, or a required key missing.",
            **_ADMIN_ERRORS,
            e404="Unknown platform or user.",
        ),
    },
}

CONFIG_DISABLE: dict[str, Any] = {
    "operation_id": "credentials_orgs_users_provider_config_destroy",
    "summary": "Turn a provider off for the platform (platform admins)",
    "description": (
        "Platform admins of {org} and DM admins. The body names the provider "
        '(`{"provider_name": "accredible"}`); its configuration is kept with `enabled` '
        "false, and nothing more is mirrored to it. 204."
    ),
    "parameters": PATH_PARAMETERS,
    "request": ProviderConfigDeleteSerializer,
    "responses": {
        204: OpenApiResponse(description="Turned off."),
        **_errors(
            e400="Invalid body or unknown provider.",
            **_ADMIN_ERRORS,
            e404="Unknown platform or user, or no configuration of this provider.",
        ),
    },
}

MAPPING_LIST: dict[str, Any] = {
    "operation_id": "credentials_orgs_users_external_mapping_retrieve",
    "summary": "The platform's credential mappings to providers (platform admins)",
    "description": (
        "Platform admins of {org} and DM admins. Newest first; `credential_id` (an "
        "entityId) and `provider_name` filter. Errors use the envelope."
    ),
    "parameters": [
        *PATH_PARAMETERS,
        OpenApiParameter(
            "credential_id", OpenApiTypes.STR, description="Only this credential (entityId)."
        ),
        _PROVIDER_NAME,
        *_PAGE_PARAMETERS,
    ],
    "responses": {
        200: MappingListEnvelopeSerializer,
        **_errors(
            e400="Invalid query parameter.", **_ADMIN_ERRORS, e404="Unknown platform or user."
        ),
    },
}

MAPPING_SAVE: dict[str, Any] = {
    "operation_id": "credentials_orgs_users_external_mapping_create",
    "summary": "Map a credential to a provider's template (platform admins)",
    "description": (
        "Platform admins of {org} and DM admins. One mapping per credential and provider: "
        "201 with status `Created` when new, 200 with `Updated` when it existed (fields "
        "not sent keep their value). `credential_id` (an entityId of this platform) and "
        "`provider_name` are required. From then on, every assertion of the credential "
        "issued is mirrored to the provider (created there; updated when the recipient "
        "answers; deleted there when revoked)."
    ),
    "parameters": PATH_PARAMETERS,
    "request": MappingWriteSerializer,
    "responses": {
        200: MappingEnvelopeSerializer,
        201: MappingEnvelopeSerializer,
        **_errors(
            e400="Invalid body, unknown provider, or no such credential on this platform.",
            **_ADMIN_ERRORS,
            e404="Unknown platform or user.",
        ),
    },
}

MAPPING_DELETE: dict[str, Any] = {
    "operation_id": "credentials_orgs_users_external_mapping_destroy",
    "summary": "Delete a credential's mapping to a provider (platform admins)",
    "description": (
        "Platform admins of {org} and DM admins. The body names the mapping "
        '(`{"credential_id": "...", "provider_name": "accredible"}`). Assertions already '
        "mirrored stay at the provider. 204."
    ),
    "parameters": PATH_PARAMETERS,
    "request": MappingDeleteSerializer,
    "responses": {
        204: OpenApiResponse(description="Deleted."),
        **_errors(
            e400="Invalid body or unknown provider.",
            **_ADMIN_ERRORS,
            e404="Unknown platform or user, or no such mapping.",
        ),
    },
}
