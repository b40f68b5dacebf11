"""One structured log line per request, on the ``ibl.request`` logger.

The line is a JSON object: method, path, status, duration in milliseconds, the user
id and the API key's platform when the request was authenticated, and the remote
address. It never carries headers (``Authorization``, cookies), nor the value of a
query-string parameter whose name looks sensitive or whose value looks like a key.

Reading the user must not cost a query: the user is logged only when something
(DRF authentication, a view, the admin) already resolved it during the request.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import empty

from ibl_core.models import APIKey

logger = logging.getLogger("ibl.request")

#: A query-string parameter is sensitive when a word of its name is one of these...
SENSITIVE_WORDS = frozenset(
    {
        "token", "secret", "password", "passwd", "pwd", "pass", "auth", "authorization",
        "signature", "sig", "credential", "credentials", "session", "sessionid", "cookie",
        "apikey", "jwt", "otp",
    }
)  # fmt: skip
#: ... or its name is one of these (``platform_key`` is an identifier, ``key`` is not) ...
SENSITIVE_NAMES = frozenset({"key", "code"})
#: ... or its name, words joined, ends with one of these (``API_KEY``, ``csrftoken``).
SENSITIVE_SUFFIXES = (
    "apikey", "accesskey", "secretkey", "privatekey", "token", "secret", "password",
)  # fmt: skip
#: Values that look like a secret (an API key is 64 hex characters) whatever their name.
SECRET_LIKE_VALUE = re.compile(r"[0-9a-fA-F]{32,}|[A-Za-z0-9_\-+/=]{40,}")
REDACTED = "[redacted]"
MAX_FIELD_LENGTH = 1000


class RequestLogMiddleware:
    """Log each request on ``ibl.request`` once it has an answer (see the module doc)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        start = time.perf_counter()
        response = self.get_response(request)
        if logger.isEnabledFor(logging.INFO):
            duration_ms = (time.perf_counter() - start) * 1000
            fields = request_log_fields(request, response.status_code, duration_ms)
            logger.info(json.dumps(fields, separators=(",", ":")), extra={"request_log": fields})
        return response


def request_log_fields(request: HttpRequest, status: int, duration_ms: float) -> dict[str, Any]:
    """The logged fields of one request; nothing here can trigger a database query."""
    fields: dict[str, Any] = {
        "method": request.method,
        "path": request.path[:MAX_FIELD_LENGTH],
        "status": status,
        "duration_ms": round(duration_ms, 1),
        "user_id": _resolved_user_id(request),
        "platform": _api_key_platform(request),
        "remote_addr": request.META.get("REMOTE_ADDR"),
    }
    query = redacted_query(request.META.get("QUERY_STRING", ""))
    if query:
        fields["query"] = query[:MAX_FIELD_LENGTH]
    return fields


def redacted_query(query_string: str) -> str:
    """``query_string`` with the value of every sensitive-looking parameter replaced."""
    if not query_string:
        return ""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return urlencode(
        [(name, REDACTED if _is_sensitive(name, value) else value) for name, value in pairs],
        safe="[]",
    )


def _is_sensitive(name: str, value: str) -> bool:
    return is_sensitive_name(name) or bool(SECRET_LIKE_VALUE.search(value))


def is_sensitive_name(name: str) -> bool:
    """Whether the value of a parameter called ``name`` may be a secret."""
    # Words of snake_case, kebab-case, dotted and camelCase names, lower-cased.
    words = re.findall(r"[a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower())
    joined = "".join(words)
    return (
        joined in SENSITIVE_NAMES
        or any(word in SENSITIVE_WORDS for word in words)
        or joined.endswith(SENSITIVE_SUFFIXES)
    )


def _resolved_user_id(request: HttpRequest) -> Any:
    # ``AuthenticationMiddleware`` sets a lazy user that loads the session (a query)
    # when touched; DRF replaces it with the real user once it authenticated one.
    user = request.__dict__.get("user")
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None


def _api_key_platform(request: HttpRequest) -> str | None:
    # DRF copies ``request.auth`` onto the Django request; APIKeyAuthentication loads
    # the key with its platform (``select_related``), so this reads no row.
    api_key = request.__dict__.get("auth")
    if not isinstance(api_key, APIKey):
        return None
    if not APIKey._meta.get_field("platform").is_cached(api_key):
        return None
    return str(api_key.platform.key)
