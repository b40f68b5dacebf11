"""Writes: a platform's provider configurations and its credentials' mappings.

A configuration is created or updated by one call (the contract's POST): the keys sent
are merged over the stored ones, so an update need not send the API key again, and a
secret sent back as a GET shows it (masked) keeps its stored value. Nothing here logs
or records a configuration: it holds secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from rest_framework import exceptions

from ibl_core.models import Platform
from ibl_credentials.models import Credential
from ibl_credentials.providers.encryption import is_secret_key, mask
from ibl_credentials.providers.models import ExternalCredentialMapping, ProviderConfig
from ibl_credentials.providers.registry import PROVIDERS

CONFIG_NOT_FOUND = "This platform has no configuration of this provider."
MAPPING_NOT_FOUND = "No mapping of this credential to this provider."
CREDENTIAL_UNKNOWN = "No credential with this entityId on this platform."


def merged_config(stored: Mapping[str, Any], sent: Mapping[str, Any]) -> dict[str, Any]:
    """``sent`` over ``stored``: null removes a key; a secret sent as its own mask keeps
    the stored value (a client that sends back what it read changes nothing)."""
    config = dict(stored)
    for key, value in sent.items():
        if value is None:
            config.pop(key, None)
        elif is_secret_key(key) and key in config and value == mask(config[key]):
            continue
        else:
            config[key] = value
    return config


def save_provider_config(
    platform: Platform,
    provider_name: str,
    config: Mapping[str, Any] | None,
    enabled: bool | None,
) -> tuple[ProviderConfig, bool]:
    """Create or update the platform's configuration of a provider; ``(config, created)``.
    400 when the result lacks a key the provider requires."""
    provider = PROVIDERS[provider_name]
    for _ in range(2):  # a concurrent create wins the unique row: update it then
        try:
            with transaction.atomic():
                found = (
                    ProviderConfig.objects.select_for_update()
                    .select_related("platform")
                    .filter(platform=platform, provider_name=provider_name)
                    .first()
                )
                row = found or ProviderConfig(platform=platform, provider_name=provider_name)
                values = merged_config(row.get_config(), config or {})
                missing = [
                    key for key in provider.required_config_keys if values.get(key) in (None, "")
                ]
                if missing:
                    raise exceptions.ValidationError(
                        {
                            "config": [
                                f"{provider.display_name} needs {', '.join(missing)} "
                                "(a non-empty value)."
                            ]
                        }
                    )
                row.set_config(values)
                if enabled is not None:
                    row.enabled = enabled
                row.save()
                return row, found is None
        except IntegrityError:
            continue
    raise exceptions.ValidationError({"provider_name": ["Try again: a concurrent change won."]})


def disable_provider_config(platform: Platform, provider_name: str) -> None:
    """Turn the platform's configuration of a provider off (it is kept); 404 when none."""
    updated = ProviderConfig.objects.filter(platform=platform, provider_name=provider_name).update(
        enabled=False
    )
    if not updated:
        raise exceptions.NotFound(CONFIG_NOT_FOUND)


def save_mapping(
    platform: Platform, credential_id: str, provider_name: str, changes: Mapping[str, Any]
) -> tuple[ExternalCredentialMapping, bool]:
    """Create or update the mapping of one of the platform's credentials to a provider;
    ``(mapping, created)``. Fields not sent keep their value. 400 for a credential the
    platform does not have (another platform's included)."""
    credential = Credential.objects.filter(platform=platform, entity_id=credential_id).first()
    if credential is None:
        raise exceptions.ValidationError({"credential_id": [CREDENTIAL_UNKNOWN]})
    fields = {
        name: changes[name]
        for name in ("external_template_id", "group_id", "metadata")
        if name in changes
    }
    for name in ("external_template_id", "group_id"):
        if name in fields and not fields[name]:
            fields[name] = ""  # null and "" both mean none
    with transaction.atomic():
        mapping, created = ExternalCredentialMapping.objects.update_or_create(
            platform=platform,
            credential=credential,
            provider_name=provider_name,
            defaults=fields,
        )
    return mapping, created


def delete_mapping(platform: Platform, credential_id: str, provider_name: str) -> None:
    """Delete the mapping (mirrors already made stay at the provider); 404 when none."""
    deleted, _ = ExternalCredentialMapping.objects.filter(
        platform=platform, credential__entity_id=credential_id, provider_name=provider_name
    ).delete()
    if not deleted:
        raise exceptions.NotFound(MAPPING_NOT_FOUND)
