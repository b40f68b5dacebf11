"""Reads: a platform's provider configurations and mappings, an assertion's mirrors."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from ibl_core.models import Platform
from ibl_credentials.models import Assertion
from ibl_credentials.providers.models import (
    AssertionSync,
    ExternalCredentialMapping,
    ProviderConfig,
)


def configs_of_platform(platform: Platform) -> QuerySet[ProviderConfig]:
    return ProviderConfig.objects.filter(platform=platform).select_related("platform")


def mappings_of_platform(platform: Platform) -> QuerySet[ExternalCredentialMapping]:
    """A platform's mappings, newest first, each with the id of the platform's
    configuration of its provider (``provider_config_id``, None when there is none)."""
    config = ProviderConfig.objects.filter(
        platform_id=OuterRef("platform_id"), provider_name=OuterRef("provider_name")
    ).values("pk")[:1]
    return (
        ExternalCredentialMapping.objects.filter(platform=platform)
        .select_related("credential", "platform")
        .annotate(provider_config_id=Subquery(config))
        .order_by("-created", "-id")
    )


def syncs_of_assertion(assertion: Assertion) -> list[AssertionSync]:
    """The assertion's mirrors, by provider name."""
    return list(AssertionSync.objects.filter(assertion=assertion).order_by("provider_name"))


def platform_mirrors(platform_id: int) -> bool:
    """Whether the platform has a provider turned on (what the commit listener asks)."""
    return ProviderConfig.objects.filter(platform_id=platform_id, enabled=True).exists()
