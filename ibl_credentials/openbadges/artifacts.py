"""Rendered public artifacts (baked images, badge images, badge pages) kept in the cache.

Baking an image or rendering a page costs milliseconds; reading the rows it is built
from costs one query. So each artifact is cached under a key made of everything it is
built from: the ids, the ``modified`` times of the assertion, its credential and issuer
(every change that affects a document bumps one of them, revocation included), the
recipient's name, the base URL, and whatever else the caller names. A change makes a
new key: nothing is invalidated, so nothing stale can be served, on any process or host
sharing the cache. Old keys expire (``ARTIFACT_CACHE_SECONDS``).

A cache that fails (Redis down) is skipped: the artifact is built as if not cached.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from django.core.cache import caches

from ibl_core.conf import ibl_settings

logger = logging.getLogger(__name__)


def artifact_key(kind: str, parts: tuple[Any, ...]) -> str:
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return f"ibl:artifact:{kind}:{digest}"


def cached_artifact(kind: str, parts: tuple[Any, ...], build: Callable[[], bytes]) -> bytes:
    """The artifact ``kind`` built from ``parts``: from the cache, else ``build()``
    (then kept). ``ARTIFACT_CACHE_SECONDS`` of 0 turns the cache off."""
    seconds = ibl_settings.ARTIFACT_CACHE_SECONDS
    if not seconds:
        return build()
    cache = caches[ibl_settings.ARTIFACT_CACHE]
    key = artifact_key(kind, parts)
    try:
        found = cache.get(key)
    except Exception:  # a cache that is down must not take the public pages with it
        logger.warning("artifact cache unavailable", exc_info=True)
        return build()
    if isinstance(found, bytes):
        return found
    built = build()
    try:
        cache.set(key, built, timeout=seconds)
    except Exception:
        logger.warning("artifact cache unavailable", exc_info=True)
    return built


def assertion_parts(assertion: Any, base: str) -> tuple[Any, ...]:
    """What every artifact of an assertion is built from (its rows as loaded)."""
    credential = assertion.credential
    issuer = credential.issuer
    recipient = assertion.recipient
    return (
        assertion.entity_id,
        assertion.modified.isoformat(),
        assertion.revoked,
        credential.entity_id,
        credential.modified.isoformat(),
        issuer.modified.isoformat(),
        recipient.first_name,
        recipient.last_name,
        recipient.email,
        base,
    )
