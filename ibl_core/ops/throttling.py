"""Rate limits per caller and scope, so one client cannot take every worker.

Every API view of the apps (``ibl_core.api.views.PlatformScopedView``) uses
:class:`ScopedApiThrottle`. A request counts against one scope:

* ``reads``: GET, HEAD and OPTIONS;
* ``writes``: other methods, unless the view names another scope in its
  ``write_throttle_scope`` attribute: ``bulk`` (bulk suggestion POSTs) and
  ``uploads`` (image uploads) are heavier and have lower limits.

The rates come from ``IBL_DATA_MANAGER["THROTTLE_RATES"]`` (``ibl_core.conf``); a
scope set to ``None`` is never throttled. Counts are kept per caller: the API key
when the request used one (each integration its own budget), else the logged-in
user, else the client's address (:func:`client_ip`).

The counts live in the cache named by ``THROTTLE_CACHE``. Django's default
``LocMemCache`` is per process, so with several gunicorn workers each counts alone
(the effective limit is the rate times the number of workers): production uses a
cache that every worker shares (Redis, Memcached or the database cache).
"""

from __future__ import annotations

import ipaddress
import logging
import math
from typing import Any

from django.core.cache import caches
from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from ibl_core.conf import ibl_settings, parse_rate, throttle_rates

logger = logging.getLogger("ibl.throttling")

READS = "reads"
WRITES = "writes"
BULK = "bulk"
UPLOADS = "uploads"


def throttle_scope(request: Request | HttpRequest, view: Any) -> str:
    """The scope a request counts against: ``reads`` for safe methods, else the view's
    ``write_throttle_scope`` (``writes`` when it names none)."""
    if request.method in SAFE_METHODS:
        return READS
    return str(getattr(view, "write_throttle_scope", WRITES))


def client_ip(request: Request | HttpRequest) -> str:
    """The client's address, as far as this server can trust it.

    ``REMOTE_ADDR``, unless DRF's ``NUM_PROXIES`` says how many proxies stand in
    front of the server: then the address the outermost of them saw, from
    ``X-Forwarded-For`` (each proxy appends the address it received the request
    from, so the entries a client forges come first and are never read).

    Unlike DRF's own throttles, an unset ``NUM_PROXIES`` trusts no header at all: a
    client could otherwise send a new ``X-Forwarded-For`` with every request and never
    be throttled. django-axes uses this function too (``AXES_CLIENT_IP_CALLABLE``).
    """
    remote_addr = str(request.META.get("REMOTE_ADDR") or "")
    num_proxies = api_settings.NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if not num_proxies or not forwarded:
        return remote_addr
    addresses = [address.strip() for address in str(forwarded).split(",")]
    candidate = addresses[-min(int(num_proxies), len(addresses))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # not an address: a misconfigured proxy, never a cache key
        return remote_addr


class ScopedApiThrottle(SimpleRateThrottle):
    """DRF's sliding-window throttle, with the scope taken from the request and view.

    A throttled request ends in :class:`Throttled` (``PlatformScopedView.throttled``).
    """

    cache_format = "ibl_throttle:%(scope)s:%(ident)s"

    def __init__(self) -> None:
        # The rate depends on the scope, known only once the view calls allow_request.
        self.rate: str | None = None

    def allow_request(self, request: Request, view: Any) -> bool:  # type: ignore[override]
        self.scope = throttle_scope(request, view)
        self.rate = throttle_rates().get(self.scope)
        if self.rate is None:
            return True
        self.num_requests, self.duration = parse_rate(self.rate)
        alias = ibl_settings.THROTTLE_CACHE
        self.cache = caches[alias]
        try:
            return super().allow_request(request, view)
        except Exception as error:
            # Throttling protects the service; an unreachable cache must not take the
            # whole API down with it. Let the request through and say so.
            logger.warning(
                "Throttle cache %r failed (%s: %s): request not throttled.",
                alias, type(error).__name__, error,
            )  # fmt: skip
            return True

    def get_cache_key(self, request: Request, view: Any) -> str:  # type: ignore[override]
        return self.cache_format % {"scope": self.scope, "ident": self.caller(request)}

    @staticmethod
    def caller(request: Request) -> str:
        """Whose budget a request spends: its API key's, its user's, or its address's."""
        api_key_id = getattr(request.auth, "pk", None)
        if api_key_id is not None:
            return f"key:{api_key_id}"
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return f"ip:{client_ip(request)}"

    def wait(self) -> float:
        """Seconds until the request would pass: until enough of the window's requests
        have aged out of it (exact, also when a lowered rate leaves more of them)."""
        assert self.num_requests is not None and self.duration is not None
        oldest_that_blocks = self.history[self.num_requests - 1]
        return max(self.duration - (self.now - oldest_that_blocks), 0.0)


class Throttled(exceptions.Throttled):
    """429 with ``Retry-After`` and a body that says when to retry and which limit hit:
    ``{"detail": "...", "retry_after": <seconds>, "scope": "<scope>"}``."""

    def __init__(self, wait: float | None, scope: str) -> None:
        # Retry-After is a whole number of seconds; never 0, which would invite a retry
        # in the same second (and DRF leaves the header out for 0).
        seconds = max(1, math.ceil(wait)) if wait is not None else 1
        super().__init__(seconds)
        detail: dict[str, Any] = {
            "detail": exceptions.ErrorDetail(
                f"Too many requests ({scope}): retry in {seconds} second"
                f"{'' if seconds == 1 else 's'}.",
                code=self.default_code,
            ),
            "retry_after": seconds,
            "scope": scope,
        }
        self.detail = detail
