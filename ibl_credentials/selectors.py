"""Reads: the path user, and querysets scoped to the request's platform (and user)."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from rest_framework import exceptions
from rest_framework.request import Request

from ibl_core.members import platform_members
from ibl_core.models import Platform
from ibl_core.platforms import platform_for_request
from ibl_core.text import UNSTORABLE

from .models import Issuer, Signatory, UploadedImage

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


def issuers_of_platform(platform: Platform) -> QuerySet[Issuer]:
    """A platform's issuers, in list order, with what serialization needs."""
    return (
        Issuer.objects.filter(platform=platform)
        .select_related("platform")
        .prefetch_related(
            Prefetch("signatories", queryset=Signatory.objects.order_by("order", "id"))
        )
        .order_by("name", "id")
    )


def images_of_platform(platform: Platform) -> QuerySet[UploadedImage]:
    """A platform's images, newest first (who sees which: ``filters.OwnImagesUnlessAdmin``)."""
    return UploadedImage.objects.filter(platform=platform).order_by("-created", "-id")
