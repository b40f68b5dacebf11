"""Request body parsers with a size limit.

DRF 3.18 reads a ``JSONParser`` body through ``request.body``, so every JSON body
counts against Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` and an oversized one gets
Django's bare 400 page. This parser is deliberately NOT a ``JSONParser`` subclass:
it reads the raw stream itself, refuses an oversized body with a 413 and a JSON
message before reading it, and lets a view raise its own limit
(``max_body_bytes``), e.g. for bulk requests.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import exceptions, renderers, status
from rest_framework.parsers import BaseParser
from rest_framework.settings import api_settings
from rest_framework.utils import json

from ibl_core.api.memory import paused_cycle_collection
from ibl_core.sql.text import find_unstorable_text, json_may_hold_unstorable_text


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "request_too_large"


def body_limit(view: Any) -> int:
    """The largest body ``view`` accepts: its ``max_body_bytes`` or Django's setting."""
    limit = getattr(view, "max_body_bytes", None)
    if callable(limit):
        limit = limit()
    if limit is None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440
    return int(limit)


def declared_length(request: Any) -> int:
    """The request's ``Content-Length`` (0 when absent or garbage)."""
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except (TypeError, ValueError):
        return 0


class LimitedJSONParser(BaseParser):
    """JSON bodies up to the view's limit; 413 above it, 400 for malformed JSON."""

    media_type = "application/json"
    renderer_class = renderers.JSONRenderer

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        limit = body_limit(parser_context.get("view"))
        request = parser_context.get("request")
        too_large = RequestTooLarge(f"Request body too large: at most {limit} bytes are accepted.")
        if request is not None and declared_length(request) > limit:
            raise too_large
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise too_large
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            "".encode(encoding)  # text codecs only: no bz2/zlib "charsets" that inflate
            text = body.decode(encoding)
        except (LookupError, UnicodeError):
            raise exceptions.ParseError(
                f"Body is not valid text in the charset {encoding!r}."
            ) from None
        parse_constant = json.strict_constant if api_settings.STRICT_JSON else None
        try:
            # A bulk body is tens of thousands of objects: see memory.py.
            with paused_cycle_collection():
                data = json.loads(text, parse_constant=parse_constant)
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        if json_may_hold_unstorable_text(text):
            path = find_unstorable_text(data)
            if path is not None:  # the database could not store it: say where it is
                field = path[0] if path and isinstance(data, dict) else "non_field_errors"
                message = "Null characters are not allowed."  # DRF's words for a field
                if len(path) > 1 or field == "non_field_errors":
                    message = f"Null characters are not allowed (in {'.'.join(path) or 'body'})."
                raise exceptions.ValidationError({field: [message]})
        return data


#: The parsers of every API view of the apps (``PlatformScopedView`` and the public
#: documents); only the image upload views take multipart bodies as well.
API_PARSERS: list[type[BaseParser]] = [LimitedJSONParser]
