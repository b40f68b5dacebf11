"""The public URLs of Open Badges documents, absolute.

The scheme and host come from ``OPEN_BADGES_BASE_URL`` when it is set, else from the
request being answered. The JSON API's assertion object is built without the request at
hand, so the request's WSGI environ is remembered (a context variable, set on
``request_started``) for :func:`base_url` to read; outside a request and without the
setting the URLs are site-relative, unless the work was handed on by a request that
kept its base (:func:`request_base_url`: a bulk issue job).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse

from ibl_core.conf import ibl_settings

_current_environ: ContextVar[dict[str, Any] | None] = ContextVar(
    "ibl_openbadges_environ", default=None
)


_current_base: ContextVar[str | None] = ContextVar("ibl_openbadges_base", default=None)


def remember_request(sender: Any, environ: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """``request_started`` receiver: keep the environ of the request being answered."""
    _current_environ.set(environ)
    _current_base.set(None)


def forget_request(sender: Any, **kwargs: Any) -> None:
    _current_environ.set(None)
    _current_base.set(None)


@contextmanager
def request_base_url(base: str) -> Iterator[None]:
    """Name URLs with ``base`` (a request's :func:`base_url`, kept) outside that request:
    a background task finishing a request's work names them as the request would."""
    token = _current_base.set(base)
    try:
        yield
    finally:
        _current_base.reset(token)


def base_url(request: HttpRequest | None = None) -> str:
    """``https://host`` (no trailing slash), or ``""`` when there is no way to know."""
    configured = ibl_settings.OPEN_BADGES_BASE_URL
    if configured:
        return str(configured).rstrip("/")
    if request is None:
        known = _current_base.get()
        if known is not None:  # a list of 1,000 assertions works it out once
            return known
        environ = _current_environ.get()
        if environ is None:
            return ""
        try:
            found = WSGIRequest(environ).build_absolute_uri("/").rstrip("/")
        except DisallowedHost:
            found = ""
        _current_base.set(found)
        return found
    try:
        return request.build_absolute_uri("/").rstrip("/")
    except DisallowedHost:
        return ""


#: A stand-in that no entityId can be (entityIds are [A-Za-z0-9_-]).
_PLACEHOLDER = "~id~"


@functools.lru_cache(maxsize=64)
def _path_template(name: str, urlconf: str | None, script_prefix: str) -> str:
    # One reverse() per route and URLconf: a page of 1,000 assertions (or a bulk of
    # 10,000 events) names two URLs each, and reverse() costs ~50 us a call.
    return reverse(f"ibl-openbadges:{name}", kwargs={"entity_id": _PLACEHOLDER})


def _url(name: str, base: str, *, entity_id: str) -> str:
    template = _path_template(name, get_urlconf(), get_script_prefix())
    return base + template.replace(_PLACEHOLDER, entity_id)


def assertion_url(entity_id: str, base: str) -> str:
    return _url("ob2-assertion", base, entity_id=entity_id)


def assertion_image_url(entity_id: str, base: str, fmt: str = "png") -> str:
    return _url("ob2-assertion-image", base, entity_id=entity_id) + f"?format={fmt}"


def badge_url(entity_id: str, base: str) -> str:
    return _url("ob2-badge", base, entity_id=entity_id)


def badge_image_url(entity_id: str, base: str) -> str:
    return _url("ob2-badge-image", base, entity_id=entity_id)


def issuer_url(entity_id: str, base: str) -> str:
    return _url("ob2-issuer", base, entity_id=entity_id)


def credential_url(entity_id: str, base: str) -> str:
    return _url("ob3-credential", base, entity_id=entity_id)


def status_list_url(issuer_entity_id: str, base: str) -> str:
    return _url("ob3-status", base, entity_id=issuer_entity_id)
