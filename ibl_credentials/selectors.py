"""Reads: the path user, and querysets scoped to the request's platform (and user)."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request

from ibl_core.models import Platform
from ibl_core.sql.text import UNSTORABLE
from ibl_core.tenancy.members import platform_members
from ibl_core.tenancy.platforms import platform_for_request
from ibl_credentials.models import (
    Assertion,
    Credential,
    CredentialItem,
    Issuer,
    Signatory,
    UploadedImage,
)

_PATH_USER_ATTR = "_ibl_path_user"
#: ASCII digits only (``str.isdigit`` accepts other scripts); 19 fit a 64-bit id.
_NUMERIC_ID = re.compile(r"[0-9]{1,19}")
_MAX_ID = 2**63 - 1


def _segment(view: Any) -> str:
    return str((getattr(view, "kwargs", None) or {}).get("user_id", ""))


def _numeric_id(segment: str) -> int | None:
    if not _NUMERIC_ID.fullmatch(segment):
        return None
    value = int(segment)
    return value if value <= _MAX_ID else None


def path_user_is_caller(request: Request, view: Any) -> bool:
    """Whether ``{user_id}`` (an id or a username) names the authenticated caller."""
    user = request.user
    segment = _segment(view)
    if segment.isascii() and segment.isdigit():
        return _numeric_id(segment) == user.pk
    return bool(segment) and segment == user.get_username()


def path_user_for_request(request: Request, view: Any) -> Any:
    """The user named by ``{user_id}``: the caller, or an active member of ``{org}``.

    Cached on the request. An unknown user and a user who is not an active member of
    the platform are the same 404.
    """
    cached = getattr(request, _PATH_USER_ATTR, None)
    if cached is not None:
        return cached
    user: Any
    if path_user_is_caller(request, view):
        user = request.user
    else:
        segment = _segment(view)
        platform = platform_for_request(request, view)
        members = platform_members(platform)
        numeric = _numeric_id(segment)
        if numeric is not None:
            user = members.filter(pk=numeric).first()
        elif (segment.isascii() and segment.isdigit()) or UNSTORABLE.search(segment):
            user = None  # an id out of range, or text no username can hold, names nobody
        else:
            user = members.filter(**{get_user_model().USERNAME_FIELD: segment}).first()
        if user is None:
            raise exceptions.NotFound(f"User {segment!r} not found on this platform.")
    setattr(request, _PATH_USER_ATTR, user)
    return user


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


def images_of_platform(platform: Platform) -> QuerySet[UploadedImage]:
    """A platform's images, newest first (who sees which: ``filters.OwnImagesUnlessAdmin``)."""
    return UploadedImage.objects.filter(platform=platform).order_by("-created", "-id")


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
