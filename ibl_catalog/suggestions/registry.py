"""The suggestion kinds being served, filled by the declarations when the app is ready.

The engine (fan-out to groups, counts) needs every kind, and the declarations
import the models, which import the engine's base classes. Rather than the engine
importing the declarations late, the declarations register here and
``IblCatalogConfig.ready`` imports them, so the engine only reads this list.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from ibl_catalog.suggestions.base import SuggestionKind

_kinds: dict[str, SuggestionKind] = {}


def register(*kinds: SuggestionKind) -> None:
    """Serve ``kinds``; registering the same declaration again changes nothing."""
    for kind in kinds:
        known = _kinds.setdefault(kind.label, kind)
        if known is not kind:
            raise ImproperlyConfigured(f"Two suggestion kinds are labelled {kind.label!r}.")


def suggestion_kinds() -> list[SuggestionKind]:
    """Every registered kind, in the order of registration."""
    return list(_kinds.values())


def group_suggestion_kinds() -> list[SuggestionKind]:
    """The registered kinds that have group suggestions."""
    return [kind for kind in _kinds.values() if kind.group_model is not None]
