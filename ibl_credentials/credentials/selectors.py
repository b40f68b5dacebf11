"""Reads of credentials, scoped to a platform."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from ibl_core.models import Platform
from ibl_credentials.issuers.selectors import issuer_wide_signatories
from ibl_credentials.models import (
    Assertion,
    Credential,
    CredentialItem,
    Signatory,
)


def credentials_of_platform(platform: Platform) -> QuerySet[Credential]:
    """A platform's credentials, newest first, with everything the credential object
    shows fetched in a fixed number of queries (items, both kinds of signatories)."""
    return (
        Credential.objects.filter(platform=platform)
        .select_related("issuer__platform")
        .prefetch_related(
            Prefetch("items", queryset=CredentialItem.objects.order_by("id")),
            Prefetch("issuer__signatories", queryset=issuer_wide_signatories()),
            Prefetch("own_signatories", queryset=Signatory.objects.order_by("order", "id")),
        )
        .order_by("-created", "-id")
    )


def linked_to(kind: str, key: str | None = None) -> Exists:
    """Credentials linked to an item of ``kind`` (to the one ``key`` names, if given)."""
    items = CredentialItem.objects.filter(credential=OuterRef("pk"), kind=kind)
    if key is not None:
        items = items.filter(key=key)
    return Exists(items)


def active_assertions(credential: Credential) -> QuerySet[Assertion]:
    """Assertions of ``credential`` that still hold: not revoked, not superseded, and
    without an expiry or expiring in the future."""
    return Assertion.objects.filter(credential=credential, revoked=False, superseded=False).filter(
        Q(expires__isnull=True) | Q(expires__gt=timezone.now())
    )
