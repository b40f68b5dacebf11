"""``Authorization: Api-Token <key>`` authentication."""

from __future__ import annotations

import hmac
import re
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import router
from django.db.models import F, FilteredRelation, Q, QuerySet
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from ibl_core.conf import ibl_settings
from ibl_core.models import APIKey, Platform, PlatformMembership, hash_api_key
from ibl_core.sql.compiled import CompiledQuery, Marker, instance

_KEY_PATTERN = re.compile(r"[0-9a-f]{64}")
_INVALID = "Invalid API key."
#: An auth-scheme as RFC 7235 spells it (a token), short enough to quote back.
_SCHEME_PATTERN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,32}")


class APIKeyAuthentication(BaseAuthentication):
    """Authenticate with a platform API key; the key becomes ``request.auth``.

    The keyword (``API_KEY_KEYWORDS``) matches case-insensitively, as RFC 7235 says
    of auth-schemes: ``api-token <key>`` works. A header with another scheme
    (``Bearer``, ``Basic``) is left to the other authentication classes (a host
    project may accept those); when none of them authenticates the request, the 401
    says which scheme is expected (:func:`not_authenticated`). A header with our
    keyword but a malformed, unknown, revoked or expired key is a 401, never a 500.
    """

    def authenticate(self, request: Request) -> tuple[Any, APIKey] | None:
        header = get_authorization_header(request)
        if not header:
            return None
        try:
            text = header.decode("ascii")
        except UnicodeDecodeError:
            keyword = header.split(None, 1)[0] if header.split() else b""
            if is_our_keyword(keyword.decode("latin-1")):
                raise exceptions.AuthenticationFailed(_INVALID) from None
            return None
        parts = text.split()
        if not parts or not is_our_keyword(parts[0]):
            return None
        if len(parts) != 2 or not _KEY_PATTERN.fullmatch(parts[1]):
            raise exceptions.AuthenticationFailed(
                "Malformed credentials: expected 'Authorization: Api-Token <64 hex characters>'."
            )
        return self.authenticate_key(parts[1])

    def authenticate_key(self, raw_key: str) -> tuple[Any, APIKey]:
        api_key = key_with_prefix(raw_key[: APIKey.PREFIX_LENGTH])
        if api_key is None or not hmac.compare_digest(api_key.hashed_key, hash_api_key(raw_key)):
            raise exceptions.AuthenticationFailed(_INVALID)
        if api_key.revoked:
            raise exceptions.AuthenticationFailed("API key revoked.")
        if api_key.is_expired:
            raise exceptions.AuthenticationFailed("API key expired.")
        if not api_key.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        self.touch(api_key)
        return api_key.user, api_key

    @staticmethod
    def touch(api_key: APIKey) -> None:
        """Record use at most once per interval, so a busy key costs no write per request."""
        now = timezone.now()
        threshold = now - timedelta(seconds=ibl_settings.API_KEY_LAST_USED_INTERVAL)
        if api_key.last_used is not None and api_key.last_used > threshold:
            return
        # The conditional UPDATE keeps concurrent workers from all writing.
        APIKey.objects.filter(pk=api_key.pk).filter(
            Q(last_used__isnull=True) | Q(last_used__lte=threshold)
        ).update(last_used=now)
        api_key.last_used = now

    @staticmethod
    def keywords() -> list[str]:
        return list(ibl_settings.API_KEY_KEYWORDS)

    def authenticate_header(self, request: Request) -> str:
        return str(self.keywords()[0])


#: The attribute of an authenticated key holding its user's membership of its platform
#: (``None``: not a member), read with the key (``ibl_core.tenancy.roles``).
OWN_MEMBERSHIP = "_ibl_own_membership"


def _fields(model: Any, prefix: str = "") -> list[str]:
    return [f"{prefix}{field.attname}" for field in model._meta.concrete_fields]


def _key_rows(prefix: Marker) -> QuerySet:
    """The key of a prefix with its user, its platform and the user's membership of
    that platform, as one row (the permission classes read all four)."""
    own = FilteredRelation(
        "user__platform_memberships",
        condition=Q(user__platform_memberships__platform=F("platform")),
    )
    return (
        APIKey.objects.annotate(own_membership=own)
        .filter(prefix=prefix.text)
        .order_by()
        .values_list(
            *_fields(APIKey),
            *_fields(get_user_model(), "user__"),
            *_fields(Platform, "platform__"),
            *_fields(PlatformMembership, "own_membership__"),
        )
    )


_KEY_QUERY = CompiledQuery(APIKey, _key_rows, 1)


def key_with_prefix(prefix: str) -> APIKey | None:
    """The API key of ``prefix`` with its user and platform loaded (as
    ``select_related`` loads them), and its user's membership of its platform kept on
    it (:data:`OWN_MEMBERSHIP`): one statement, compiled once (``ibl_core.sql.compiled``)."""
    alias = router.db_for_read(APIKey) or "default"
    rows = _KEY_QUERY.rows([prefix], using=alias)
    if not rows:
        return None
    row = rows[0]
    models: tuple[Any, ...] = (APIKey, get_user_model(), Platform, PlatformMembership)
    parts, start = [], 0
    for model in models:
        width = len(model._meta.concrete_fields)
        parts.append(row[start : start + width])
        start += width
    api_key = instance(APIKey, alias, parts[0])
    api_key.user = instance(models[1], alias, parts[1])
    api_key.platform = instance(Platform, alias, parts[2])
    membership = parts[3]
    setattr(
        api_key,
        OWN_MEMBERSHIP,
        None if membership[0] is None else instance(PlatformMembership, alias, membership),
    )
    return api_key


def is_our_keyword(scheme: str) -> bool:
    """Whether ``scheme`` is one of ``API_KEY_KEYWORDS``, ignoring case (RFC 7235)."""
    folded = scheme.casefold()
    return any(folded == keyword.casefold() for keyword in APIKeyAuthentication.keywords())


def expected_header() -> str:
    return f"Authorization: {APIKeyAuthentication.keywords()[0]} <key>"


def not_authenticated(request: Request) -> exceptions.NotAuthenticated:
    """The 401 of a request that no authentication class authenticated.

    DRF's "credentials were not provided" is right without an ``Authorization``
    header (a browser without a session). With a header of another scheme
    (``Bearer``, ``Token``, ``Basic``), the credentials were provided, in a form this
    API does not read: say which form it expects.
    """
    header = get_authorization_header(request).decode("latin-1")
    parts = header.split()
    if not parts or is_our_keyword(parts[0]):
        return exceptions.NotAuthenticated()
    scheme = f" {parts[0]!r}" if _SCHEME_PATTERN.fullmatch(parts[0]) else ""
    return exceptions.NotAuthenticated(
        f"Unsupported authorization scheme{scheme}. Use '{expected_header()}'."
    )
