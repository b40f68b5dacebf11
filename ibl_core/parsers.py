"""Request body parsers with a size limit.

DRF's JSON parser reads the whole body however large it is; Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE`` only guards ``request.body`` and form data. This
parser refuses an oversized body with 413 before reading it, and a view can raise
its own limit (``max_body_bytes``), e.g. for bulk requests.
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser


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


class LimitedJSONParser(JSONParser):
    """JSON parser that answers 413 for bodies above the view's limit."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        limit = body_limit(parser_context.get("view"))
        request = parser_context.get("request")
        declared = 0
        if request is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except (TypeError, ValueError):
                declared = 0
        too_large = RequestTooLarge(f"Request body too large: at most {limit} bytes are accepted.")
        if declared > limit:
            raise too_large
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise too_large
        return super().parse(io.BytesIO(body), media_type, parser_context)
