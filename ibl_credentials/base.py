"""What every credentials endpoint shares: the ``{org}`` platform and the path user, the
OpenAPI path parameters and enveloped errors, the envelope's fixed descriptions, and the
409 answer of a refused write.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
)
from rest_framework import exceptions, status
from rest_framework.request import Request

from ibl_core.api import errors
from ibl_core.api.schema import DETAIL_BODY
from ibl_core.api.views import PlatformScopedView
from ibl_core.models import Platform
from ibl_core.sql.text import UNSTORABLE
from ibl_core.tenancy.members import platform_members
from ibl_core.tenancy.platforms import platform_for_request
from ibl_credentials.envelopes import ErrorEnvelopeSerializer
from ibl_credentials.validators import RESERVED_ENTITY_IDS

PATH_PARAMETERS = [
    OpenApiParameter(
        "org",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        description="The platform: its key, or else its org value.",
    ),
    OpenApiParameter(
        "user_id",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        description=(
            "The user the request acts as: a numeric id or a username. Must be the caller "
            "unless the caller is a platform admin of {org} or a DM admin."
        ),
    ),
]


ENVELOPED_ERRORS = {
    code: OpenApiResponse(ErrorEnvelopeSerializer, description=text)
    for code, text in {
        400: "Invalid request (in the envelope).",
        401: "Missing or invalid credentials.",
        403: "Not allowed.",
        404: "Unknown platform, or unknown path user.",
    }.items()
}


class CredentialsView(PlatformScopedView):
    """What the credentials endpoints share: the ``{org}`` platform and the path user."""

    model: Any

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no platform
            return self.model.objects.none()
        return self.platform_queryset(self.get_platform())

    def platform_queryset(self, platform: Platform) -> QuerySet:
        raise NotImplementedError

    def get_platform(self) -> Platform:
        return platform_for_request(self.request, self)

    def get_path_user(self) -> Any:
        return path_user_for_request(self.request, self)


DELETED = "Deleted"


def enveloped_errors(**descriptions: str) -> dict[int, OpenApiResponse]:
    """``{status: OpenApiResponse}`` of enveloped errors named ``e404="..."`` etc."""
    return {
        int(name.lstrip("e")): OpenApiResponse(ErrorEnvelopeSerializer, description=text)
        for name, text in descriptions.items()
    }


def not_found(description: str) -> dict[int, OpenApiResponse]:
    """The 404 of a ``{entity_id}`` route: enveloped, except for a literal segment of
    the API in place of the id (``.../issuers`` without its slash), which answers as
    an unknown URL does: ``{"detail": "Not found. This URL ends with a slash: ..."}``."""
    either = PolymorphicProxySerializer(
        component_name="NotFoundEnvelopeOrDetail",
        serializers=[ErrorEnvelopeSerializer, DETAIL_BODY],
        resource_type_field_name=None,
    )
    return {404: OpenApiResponse(either, description=description)}


ACCESS_ERRORS = {
    "e401": "Missing or invalid credentials.",
    "e403": "Not allowed.",
}


def deleted() -> dict[str, Any]:
    """The answer of a delete: a status without a result."""
    return {"status": {"success": True, "description": DELETED}}


class LiteralSegmentsAreNotIds:
    """For a view of ``{entity_id}``: a literal segment of the API (``issuers``,
    ``assertions``...) is never an id, so ``.../issuers`` without its slash answers as an
    unknown URL does (404, naming the URL with the slash), before any other check."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if str(kwargs.get("entity_id", "")).lower() in RESERVED_ENTITY_IDS:
            return errors.page_not_found(request, exceptions.NotFound())
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


UPDATED = "Updated"


class Conflict(exceptions.APIException):
    """409: the object is still in use; nothing was changed."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object is still in use."
    default_code = "conflict"


#: A generated entityId colliding is a 1-in-2**128 event; a few tries are plenty.
GENERATION_ATTEMPTS = 3


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
