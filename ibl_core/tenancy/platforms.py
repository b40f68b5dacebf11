"""The one place that turns a request into the platform it acts on.

Rules (docs/api.md, "Platforms"):

* Catalog endpoints name the platform with ``platform_key`` and/or ``platform_org``:
  in the query string for GET/DELETE, in the JSON body for POST (or its query string,
  which must then agree with the body). When both are given they must name the same
  platform (400 otherwise).
* Credentials endpoints name it with the ``{org}`` path segment, matched against
  ``Platform.key`` first and then ``Platform.org``.
* An unknown or inactive platform is 404.

The result is cached on the request, so permission classes and views share it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from rest_framework import exceptions
from rest_framework.request import Request

from ibl_core.models import APIKey, Platform
from ibl_core.sql.text import UNSTORABLE

_CACHE_ATTR = "_ibl_platform"
_BODY_METHODS = {"POST", "PUT", "PATCH"}
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def active_platforms() -> QuerySet[Platform]:
    return Platform.objects.filter(active=True)


def known_by_key(known: Platform | None, key: str) -> Platform | None:
    """``known`` (a platform read with the caller's API key) if it is the active
    platform whose key is ``key``: what ``active_platforms().filter(key=key)`` reads."""
    if known is not None and known.active and known.key == key:
        return known
    return None


def resolve_platform(
    *, key: str | None = None, org: str | None = None, known: Platform | None = None
) -> Platform:
    """Find the active platform named by ``key`` and/or ``org`` (both must agree);
    ``known``: a platform already read in this request, which may be the one."""
    if key is None and org is None:
        raise exceptions.ValidationError({"platform_key": ["This field is required."]})
    by_key = by_org = None
    if key is not None:
        by_key = known_by_key(known, key) or active_platforms().filter(key=key).first()
        if by_key is None:
            raise exceptions.NotFound(f"Platform {key!r} not found.")
    if org is not None:
        by_org = by_key if by_key is not None and by_key.org == org else None
        if by_org is None:
            by_org = active_platforms().filter(org=org).first()
        if by_org is None:
            raise exceptions.NotFound(f"Platform with org {org!r} not found.")
    if by_key is not None and by_org is not None and by_key.pk != by_org.pk:
        raise exceptions.ValidationError(
            {"platform_org": ["platform_key and platform_org name different platforms."]}
        )
    platform = by_key or by_org
    assert platform is not None
    return platform


def resolve_platform_segment(segment: str, known: Platform | None = None) -> Platform:
    """Resolve an ``{org}`` path segment: ``Platform.key`` first, then ``Platform.org``
    (``known``: as for :func:`resolve_platform`)."""
    platform = None
    if not UNSTORABLE.search(segment):
        platform = (
            known_by_key(known, segment)
            or active_platforms().filter(key=segment).first()
            or active_platforms().filter(org=segment).first()
        )
    if platform is None:
        raise exceptions.NotFound(f"Platform {segment!r} not found.")
    return platform


def request_parameters(request: Request) -> Mapping[str, Any]:
    """The mapping a request's own parameters come from: body for writes, query otherwise."""
    if request.method in _BODY_METHODS:
        data = request.data
        if not isinstance(data, Mapping):
            raise exceptions.ParseError("The request body must be a JSON object.")
        return data
    return request.query_params


def platform_identifier(request: Request, name: str) -> str | None:
    """``platform_key`` or ``platform_org`` of a request, or ``None``.

    A write names it in its body; a client generated from the OpenAPI schema also
    sends the list's query parameters on a write, so the query string's value is
    taken when the body has none, and is a 400 when it names something else.
    """
    value = _identifier(request_parameters(request), name)
    if request.method not in _BODY_METHODS:
        return value
    from_query = _identifier(request.query_params, name)
    if value is not None and from_query is not None and from_query != value:
        raise exceptions.ValidationError(
            {name: ["The query string and the body name different platforms."]}
        )
    return value if value is not None else from_query


def _identifier(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise exceptions.ValidationError({name: ["Must be a string."]})
    if UNSTORABLE.search(value):  # the database cannot store it: 400, not 500
        raise exceptions.ValidationError({name: ["Null characters are not allowed."]})
    return value


def platform_for_request(request: Request, view: Any) -> Platform:
    """The platform this request acts on, resolved once and cached on the request.

    A view whose platform identifiers are optional (for example a DELETE by id)
    may define ``platform_from_object(request)`` to derive it from the object; it
    returns ``None`` when the identifiers are required after all.
    """
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    kwargs = getattr(view, "kwargs", None) or {}
    known = key_platform(request)
    if "org" in kwargs:
        platform = resolve_platform_segment(kwargs["org"], known)
    else:
        key = platform_identifier(request, "platform_key")
        org = platform_identifier(request, "platform_org")
        from_object = getattr(view, "platform_from_object", None)
        derived = from_object(request) if key is None and org is None and from_object else None
        if derived is not None:
            platform = derived
        else:
            platform = resolve_platform(key=key, org=org, known=known)
    setattr(request, _CACHE_ATTR, platform)
    return platform


def key_platform(request: Request) -> Platform | None:
    """The platform of the request's API key, when authentication has read it with the
    key (``select_related``): most requests name their key's own platform, and this
    saves reading it again."""
    # Only once authenticated: reading ``request.auth`` would authenticate.
    auth = getattr(request, "_auth", None)
    if isinstance(auth, APIKey) and APIKey._meta.get_field("platform").is_cached(auth):
        return auth.platform
    return None


def parse_bool(value: Any, name: str) -> bool:
    """Read a boolean flag given as JSON ``true``/``false`` or a query-string word."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):  # as DRF's BooleanField reads JSON
        return bool(value)
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise exceptions.ValidationError({name: ["Must be a boolean (true or false)."]})


def department_mode_requested(request: Request) -> bool:
    """Whether the caller asked to act as a department admin (``department_mode=true``)."""
    # Writes read their body only: the query string of a POST is ignored (catalog.md).
    params = request_parameters(request)
    value = params.get("department_mode")
    if value is None:
        return False
    return parse_bool(value, "department_mode")
