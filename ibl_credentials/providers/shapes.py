"""The provider objects as the API answers them (secrets masked), from rows already loaded."""

from __future__ import annotations

from typing import Any

from ibl_core.api.representation import utc_text
from ibl_credentials.providers.encryption import masked_config
from ibl_credentials.providers.models import (
    AssertionSync,
    ExternalCredentialMapping,
    ProviderConfig,
)
from ibl_credentials.providers.registry import PROVIDERS, Provider


def display_name(provider_name: str) -> str:
    provider = PROVIDERS.get(provider_name)
    return provider.display_name if provider else provider_name


def provider_object(provider: Provider) -> dict[str, Any]:
    return {
        "name": provider.name,
        "display_name": provider.display_name,
        "required_config_keys": list(provider.required_config_keys),
    }


def config_object(config: ProviderConfig) -> dict[str, Any]:
    """A configuration, its secrets masked (load it with its platform)."""
    return {
        "id": config.pk,
        "platform_key": config.platform.key,
        "platform_name": config.platform.name,
        "provider_name": config.provider_name,
        "provider_name_display": display_name(config.provider_name),
        "config": masked_config(config.get_config()),
        "enabled": config.enabled,
        "created": utc_text(config.created),
        "updated": utc_text(config.updated),
    }


def mapping_object(mapping: ExternalCredentialMapping) -> dict[str, Any]:
    """A mapping (load it with its credential and platform, and ``provider_config_id``
    annotated: see ``selectors.mappings_of_platform``)."""
    return {
        "id": mapping.pk,
        "credential_id": mapping.credential.entity_id,
        "credential_name": mapping.credential.name,
        "platform_key": mapping.platform.key,
        "platform_name": mapping.platform.name,
        "provider": getattr(mapping, "provider_config_id", None),
        "provider_name": mapping.provider_name,
        "provider_name_display": display_name(mapping.provider_name),
        "external_template_id": mapping.external_template_id or None,
        "group_id": mapping.group_id or None,
        "metadata": mapping.metadata,
        "created": utc_text(mapping.created),
        "updated": utc_text(mapping.updated),
    }


def sync_object(sync: AssertionSync) -> dict[str, Any]:
    """An assertion's mirror at a provider, in the assertion's casing (camelCase)."""
    return {
        "provider": sync.provider_name,
        "state": sync.state,
        "operation": sync.operation,
        "externalId": sync.external_id or None,
        "attempts": sync.attempts,
        "lastError": sync.last_error,
        "syncedAt": utc_text(sync.synced_at) or None,
    }


def external_sync_fields(syncs: list[AssertionSync]) -> dict[str, Any]:
    """What an assertion's own answer adds: ``externalSync`` when it has mirrors (its
    credential was mapped to a provider when it was issued), nothing otherwise."""
    return {"externalSync": [sync_object(sync) for sync in syncs]} if syncs else {}
