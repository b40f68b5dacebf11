"""Catalog items by key, for apps that must not import the catalog.

``ibl_credentials`` links credentials and assertions to courses, programs and pathways
by their catalog keys, but depends on ``ibl_core`` only. The catalog app registers a
resolver here when it is installed; without one, every key is accepted and named by
itself (a host project without ``ibl_catalog`` keeps its items elsewhere).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from ibl_core.models import Platform

#: course, program, pathway: the kinds a resolver answers for.
ITEM_KINDS = ("course", "program", "pathway")

#: (platform, kind, keys) -> {key: name} for the keys that name an item of the platform.
Resolver = Callable[[Platform, str, Collection[str]], dict[str, str]]

_resolver: Resolver | None = None


def register_resolver(resolver: Resolver | None) -> None:
    """Set (or, with ``None``, remove) the resolver; the catalog app calls it at start-up."""
    global _resolver
    _resolver = resolver


def catalog_installed() -> bool:
    """Whether keys are checked against a catalog."""
    return _resolver is not None


def item_names(platform: Platform, kind: str, keys: Collection[str]) -> dict[str, str]:
    """``{key: name}`` for the keys naming an item of ``kind`` on ``platform``, in one query.

    Unknown keys are absent from the answer. Without a catalog every key names itself.
    """
    if kind not in ITEM_KINDS:
        raise ValueError(f"Unknown catalog item kind: {kind!r}")
    if not keys:
        return {}
    if _resolver is None:
        return {key: key for key in keys}
    return _resolver(platform, kind, keys)
