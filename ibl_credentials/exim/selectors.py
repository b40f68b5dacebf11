"""Reads of the import/export: a course's credentials, the target platform."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from rest_framework import exceptions

from ibl_core.models import Platform
from ibl_core.tenancy.platforms import resolve_platform_segment
from ibl_credentials.credentials.selectors import linked_to
from ibl_credentials.models import Credential, CredentialItem, ItemKind


def credentials_of_course(
    course_key: str, platform: Platform | None = None
) -> QuerySet[Credential]:
    """The credentials linked to the course ``course_key`` (on every platform, or on
    ``platform``), oldest first, with their platform, issuer and items fetched."""
    credentials = Credential.objects.filter(linked_to(ItemKind.COURSE, course_key))
    if platform is not None:
        credentials = credentials.filter(platform=platform)
    return (
        credentials.select_related("platform", "issuer")
        .prefetch_related(Prefetch("items", queryset=CredentialItem.objects.order_by("id")))
        .order_by("created", "id")
    )


def platform_named(identifier: str) -> Platform | None:
    """The active platform ``identifier`` names (its key, else its org), or None."""
    try:
        return resolve_platform_segment(identifier)
    except exceptions.NotFound:
        return None
