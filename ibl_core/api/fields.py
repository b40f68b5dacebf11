"""The bounds on JSON a client stores, and the serializer field that applies them.

:func:`checked_json` is the one place that bounds JSON a client stores (the
suggestion rules and :class:`BoundedJSONField` both call it). Without a bound, one
bulk row could carry megabytes of metadata that every later list page would read,
sort around and send again.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

from rest_framework import serializers

from ibl_core.conf import ibl_settings

#: Compact, UTF-8 as is, no NaN or infinity. Made once: ``json.dumps`` with options
#: builds an encoder per call, which a 10,000-row bulk would feel.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)

#: The C encoder ``json`` builds for each ``encode()`` call (None without the C module).
_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)

INVALID_JSON = "Value must be valid JSON."


class JSONBoundsError(ValueError):
    """JSON a client may not store; the message says why, in the API's words."""


def encode_json(value: Any) -> str:
    """``value`` as compact JSON text, as the database stores it.

    Raises ``ValueError`` or ``TypeError`` for what is not JSON: NaN and infinities
    (a number like ``1e400`` parses as infinity), lone surrogates (no database takes
    them in JSON), anything that is not a JSON type.
    """
    if _make_encoder is None:  # pragma: no cover - CPython has the C encoder
        text = _ENCODER.encode(value)
    else:
        # What _ENCODER.encode runs, without rebuilding its Python closures per call: a
        # bulk encodes 10,000 metadata objects. A fresh one per call (its markers dict
        # detects cycles and must not outlive an error).
        text = "".join(
            _make_encoder(
                {}, _ENCODER.default, encode_basestring, None, ":", ",", False, False, False
            )(value, 0)
        )
    if not text.isascii():
        text.encode()  # UnicodeEncodeError (a ValueError) on a lone surrogate
    return text


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


def checked_json(value: Any) -> str:
    """The JSON text of ``value`` if it is JSON within ``JSON_MAX_DEPTH`` levels and
    ``JSON_MAX_BYTES`` bytes of compact UTF-8; :class:`JSONBoundsError` otherwise."""
    depth_limit = int(ibl_settings.JSON_MAX_DEPTH)
    try:
        text: str | None = encode_json(value)
    except RecursionError:
        text = None  # deeper than Python encodes: refused as too deep below
    except (TypeError, ValueError):
        raise JSONBoundsError(INVALID_JSON) from None
    # Every level costs at least two characters: a short text cannot be too deep.
    if text is None or len(text) > 2 * depth_limit:
        depth = nesting_depth(value)
        if depth > depth_limit:
            raise JSONBoundsError(
                f"JSON nested at most {depth_limit} levels deep is accepted; got {depth}."
            )
    assert text is not None
    size_limit = int(ibl_settings.JSON_MAX_BYTES)
    # A character takes at most 4 bytes: only a text that might be too long is encoded.
    size = len(text) if len(text) * 4 <= size_limit else len(text.encode())
    if size > size_limit:
        raise JSONBoundsError(f"At most {size_limit} bytes of JSON are accepted; got {size}.")
    return text


class BoundedJSONField(serializers.JSONField):
    """JSON within the bounds of :func:`checked_json`."""

    def to_internal_value(self, data: Any) -> Any:
        if self.binary or getattr(data, "is_json_string", False):
            data = super().to_internal_value(data)  # JSON text to decode first
        try:
            checked_json(data)
        except JSONBoundsError as error:
            raise serializers.ValidationError(str(error)) from None
        return data
