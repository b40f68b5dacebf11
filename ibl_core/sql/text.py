"""Text that the databases cannot store.

PostgreSQL refuses NUL characters in text and in jsonb, and neither database can
encode an unpaired UTF-16 surrogate (JSON allows ``"\\ud800"``). Such input must be
a 400, found before it reaches a query.
"""

from __future__ import annotations

import re
from typing import Any

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# How those characters appear in JSON text: \u0000 and \uD800-\uDFFF escapes.
_JSON_CANDIDATE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def find_unstorable_text(value: Any) -> list[str] | None:
    """The path to the first unstorable string in ``value`` (dict keys included, at any
    depth), e.g. ``["suggestion_data", "3", "metadata"]``; ``None`` when there is none."""
    stack: list[tuple[Any, list[str]]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                if UNSTORABLE.search(str(key)):
                    return [*path, "<key>"]
                stack.append((child, [*path, str(key)]))
        elif isinstance(item, list):
            stack.extend((child, [*path, str(index)]) for index, child in enumerate(item))
    return None


def json_may_hold_unstorable_text(text: str) -> bool:
    """A cheap pre-check on JSON text: can its decoded strings hold unstorable text?"""
    return "\x00" in text or _JSON_CANDIDATE.search(text) is not None
