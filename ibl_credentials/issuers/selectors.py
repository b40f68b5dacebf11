"""Reads of issuers and signatories, scoped to a platform."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from rest_framework import exceptions

from ibl_core.models import Platform
from ibl_credentials.models import (
    Credential,
    Issuer,
    Signatory,
)


def issuer_wide_signatories() -> QuerySet[Signatory]:
    """Signatories of every credential of their issuer (none of one credential), in order."""
    return Signatory.objects.filter(credential__isnull=True).order_by("order", "id")


def issuers_of_platform(platform: Platform) -> QuerySet[Issuer]:
    """A platform's issuers, in list order, with what serialization needs.

    ``signatories`` is prefetched with the issuer-wide ones only: a credential's own
    signatories are not the issuer's.
    """
    return (
        Issuer.objects.filter(platform=platform)
        .select_related("platform")
        .prefetch_related(Prefetch("signatories", queryset=issuer_wide_signatories()))
        .order_by("name", "id")
    )


def default_issuer(platform: Platform) -> Issuer | None:
    """The platform's default issuer: its oldest one (None when it has none)."""
    return Issuer.objects.filter(platform=platform).order_by("created", "id").first()


def issuer_by_reference(platform: Platform, reference: str) -> Issuer | None:
    """The issuer ``reference`` names on ``platform``: its entityId, or else the
    platform's key or org for the default issuer. Another platform's issuer is None."""
    issuers = issuers_of_platform(platform)
    issuer = issuers.filter(entity_id=reference).first()
    if issuer is None and reference in (platform.key, platform.org):
        issuer = issuers.order_by("created", "id").first()  # as default_issuer chooses
    return issuer


def signatory_owner(
    platform: Platform,
    *,
    org: str | None = None,
    entity_id: str | None = None,
    credential: str | None = None,
) -> tuple[Issuer, Credential | None]:
    """Whose signatory a request writes: an issuer of ``platform``, and the credential
    when it is one credential's own. 404 for what is not found on this platform."""
    if credential is not None:
        found = (
            Credential.objects.filter(platform=platform, entity_id=credential)
            .select_related("issuer")
            .first()
        )
        if found is None:
            raise exceptions.NotFound(f"Credential {credential!r} not found.")
        return found.issuer, found
    if entity_id is not None:
        issuer = Issuer.objects.filter(platform=platform, entity_id=entity_id).first()
        if issuer is None:
            raise exceptions.NotFound(f"Issuer {entity_id!r} not found.")
        return issuer, None
    if org is not None and org not in (platform.key, platform.org):
        raise exceptions.NotFound(f"No issuer found for org {org!r}.")
    issuer = default_issuer(platform)
    if issuer is None:
        raise exceptions.NotFound("This platform has no issuer yet: create one first.")
    return issuer, None
