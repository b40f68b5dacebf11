"""Serializer fields shared by every app.

:class:`BoundedJSONField` is the one place that bounds JSON a client stores. Without a
bound, one bulk row could carry megabytes of metadata that every later list page would
read, sort around and send again.
"""

from __future__ import annotations

import json
from typing import Any

from rest_framework import serializers

from .conf import ibl_settings


def encoded_size(value: Any) -> int:
    """Bytes of ``value`` encoded as compact UTF-8 JSON (how the database stores it)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def nesting_depth(value: Any) -> int:
    """How deeply objects and arrays nest in ``value`` (a scalar is 0, ``{}`` is 1)."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        pending.extend((child, depth + 1) for child in children)
    return deepest


class BoundedJSONField(serializers.JSONField):
    """JSON of at most ``JSON_MAX_BYTES`` once encoded and ``JSON_MAX_DEPTH`` levels deep."""

    default_error_messages = {
        "too_large": "At most {limit} bytes of JSON are accepted; got {size}.",
        "too_deep": "JSON nested at most {limit} levels deep is accepted; got {depth}.",
    }

    def to_internal_value(self, data: Any) -> Any:
        if self.binary or getattr(data, "is_json_string", False):
            data = super().to_internal_value(data)  # JSON text to decode first
        depth_limit = int(ibl_settings.JSON_MAX_DEPTH)
        depth = nesting_depth(data)
        if depth > depth_limit:
            self.fail("too_deep", limit=depth_limit, depth=depth)
        # One encoding both checks that the value is JSON (what the parent class
        # encodes for) and measures it: a bulk of 10,000 rows encodes each once.
        try:
            size = encoded_size(data)
        except (TypeError, ValueError):
            self.fail("invalid")
        size_limit = int(ibl_settings.JSON_MAX_BYTES)
        if size > size_limit:
            self.fail("too_large", limit=size_limit, size=size)
        return data
