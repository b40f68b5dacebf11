"""Rendered public artifacts (every public answer, badge images) kept in the cache.

Baking an image or rendering a page costs milliseconds; reading the rows it is built
from costs one query. So each artifact is cached under a key made of everything it is
built from: the ids, the ``modified`` times of the assertion, its credential and issuer
(every change that affects a document bumps one of them, revocation included), the
recipient's name, the base URL, and whatever else the caller names. A change makes a
new key: nothing is invalidated, so nothing stale can be served, on any process or host
sharing the cache. Old keys expire (``ARTIFACT_CACHE_SECONDS``).

The public verification paths (OB 2.0 JSON, baked PNG and SVG, OB 3.0 JSON-LD and
VC-JWT, status lists, the badge page) keep their whole answer (:class:`Answer`: status,
body, ETag, Last-Modified) so a read is one narrow query for the *stamp* (the columns
the answer is built from: :func:`assertion_stamp`, :func:`status_list_stamp`) and one
cache read; nothing is built, serialized or hashed again. Why not a version that writers
bump in the cache: the stamp is read from the database each time, so an answer can
never outlive a change, whatever wrote it (a service, the admin, a queryset update that
sets ``modified``, another host), and a per-process cache (no Redis) is as safe as a
shared one. See ``docs/performance.md``, "Public verification paths".

A cache that fails (Redis down) is skipped: the artifact is built as if not cached.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from typing import Any, NamedTuple

from django.core.cache import caches
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ibl_core.conf import ibl_settings
from ibl_core.sql.compiled import CompiledQuery, Marker

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


class Answer(NamedTuple):
    """A public answer as sent: status, body, its ``ETag`` and ``Last-Modified`` (epoch
    seconds)."""

    status: int
    body: bytes
    etag: str
    last_modified: int


def answer_of(body: bytes | str, status: int, modified: Any) -> Answer:
    raw = body.encode() if isinstance(body, str) else body
    etag = f'"{hashlib.sha256(raw).hexdigest()[:32]}"'
    return Answer(status, raw, etag, int(modified.timestamp()))


def cached_answer(kind: str, parts: tuple[Any, ...], build: Callable[[], Answer]) -> Answer:
    """The answer ``kind`` built from ``parts``: from the cache, else ``build()`` (then
    kept), like :func:`cached_artifact`."""
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
    if isinstance(found, tuple) and len(found) == len(Answer._fields):
        return Answer(*found)
    built = build()
    try:
        cache.set(key, tuple(built), timeout=seconds)
    except Exception:
        logger.warning("artifact cache unavailable", exc_info=True)
    return built


#: What an assertion's public answers are built from, read in one query: its, its
#: credential's and its issuer's ``modified`` (every write sets them, a revoke
#: included), the recipient's name and email, and the dates of the badge page's
#: verdict. The stored 3.0 signature is not in it: it is signed again only when what it
#: says changes, which is a change of one of these rows.
ASSERTION_STAMP = (
    "pk",
    "modified",
    "revoked",
    "issued_on",
    "expires",
    "credential__entity_id",
    "credential__modified",
    "credential__issuer__modified",
    "recipient__first_name",
    "recipient__last_name",
    "recipient__email",
)


def as_datetime(value: Any) -> dt.datetime | None:
    """A date of a stamp as an aware datetime (the driver's text on SQLite)."""
    if value is None or isinstance(value, dt.datetime):
        parsed = value
    else:
        parsed = parse_datetime(str(value))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt.UTC)
    return parsed


def _assertion_rows(marker: Marker) -> Any:
    from ibl_credentials.models import Assertion

    rows = Assertion.objects.filter(entity_id=marker.text).order_by()
    return rows.values_list(*ASSERTION_STAMP)


def _status_list_rows(marker: Marker) -> Any:
    from django.db.models import Subquery

    from ibl_credentials.models import Revocation
    from ibl_credentials.openbadges.models import StatusList

    newest = Subquery(Revocation.objects.order_by("-id").values("id")[:1])
    return (
        StatusList.objects.filter(entity_id=marker.text)
        .order_by()
        .annotate(newest_revocation=newest)
        .values_list("pk", "built_at", "fingerprint", "newest_revocation")
    )


#: The stamps' queries, built and compiled by the ORM once per database alias and then
#: run with the id bound (``ibl_core.sql.compiled``): building and compiling cost about
#: five times what the database takes to answer. Their values come back as the driver
#: reads them (SQLite: text dates, 0/1 flags), which is what a cache key needs;
#: :func:`as_datetime` reads a date among them.
_ASSERTION_STAMP_QUERY: CompiledQuery | None = None
_STATUS_LIST_STAMP_QUERY: CompiledQuery | None = None


def _first(query: CompiledQuery, entity_id: str) -> tuple[Any, ...] | None:
    rows = query.rows([entity_id], limit=1, raw=True)
    return tuple(rows[0]) if rows else None


def assertion_stamp(entity_id: str) -> tuple[Any, ...] | None:
    """The stamp of the assertion ``entity_id`` (:data:`ASSERTION_STAMP`, as the driver
    reads them); ``None`` when it does not exist (then the caller answers uncached: a
    tombstone or a 404)."""
    global _ASSERTION_STAMP_QUERY
    if _ASSERTION_STAMP_QUERY is None:
        from ibl_credentials.models import Assertion

        _ASSERTION_STAMP_QUERY = CompiledQuery(Assertion, _assertion_rows, 1)
    return _first(_ASSERTION_STAMP_QUERY, entity_id)


def status_list_stamp(entity_id: str) -> tuple[Any, ...] | None:
    """The stamp of the status list ``entity_id`` (its id, build, fingerprint) with the
    newest revocation record: every revoke writes one in its transaction, and a record
    is never removed but with its platform, so any revocation anywhere is a new stamp."""
    global _STATUS_LIST_STAMP_QUERY
    if _STATUS_LIST_STAMP_QUERY is None:
        from ibl_credentials.openbadges.models import StatusList

        _STATUS_LIST_STAMP_QUERY = CompiledQuery(StatusList, _status_list_rows, 1)
    return _first(_STATUS_LIST_STAMP_QUERY, entity_id)
