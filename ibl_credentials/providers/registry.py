"""The providers this server knows. A provider is a module (its client) and an entry here."""

from __future__ import annotations

from dataclasses import dataclass

from ibl_credentials.providers.accredible import AccredibleClient
from ibl_credentials.providers.base import ProviderClient


@dataclass(frozen=True)
class Provider:
    """A provider: its name in the API, the name people read, the configuration keys a
    platform must give, and the client that calls it."""

    name: str
    display_name: str
    required_config_keys: tuple[str, ...]
    client_class: type[ProviderClient]


PROVIDERS: dict[str, Provider] = {
    provider.name: provider
    for provider in (
        Provider("accredible", "Accredible", ("accredible_api_key",), AccredibleClient),
    )
}


def provider_named(name: str) -> Provider | None:
    return PROVIDERS.get(name)
