"""Accredible (https://www.accredible.com): an assertion becomes one Accredible credential.

The calls are those of Accredible's public API reference (the OpenAPI file of the
``accredible/api-documentation`` repository): ``POST /v1/credentials`` creates,
``PUT /v1/credentials/{id}`` updates, ``DELETE /v1/credentials/{id}`` deletes, each
authenticated by ``Authorization: Token token=<API key>``, with JSON bodies
``{"credential": {...}}``. The base URL is ``ACCREDIBLE_BASE_URL``; every call gives up
after ``PROVIDER_TIMEOUT`` seconds without an answer. Redirects are not followed.

Errors are mapped to :class:`ProviderError`: 429 (with its ``Retry-After``), 5xx, a
timeout and a refused connection may be retried; any other 4xx will not succeed by
itself (a wrong key, an unknown group) and is not. The message carries the status and
Accredible's own error text (``errors``, ``error``, ``data`` or ``message``), never the key.
"""

from __future__ import annotations

import email.utils
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ibl_core.conf import ibl_settings
from ibl_credentials.providers.base import MirroredAssertion, ProviderError

USER_AGENT = "ibl-data-manager-providers"
#: Bytes of an error answer read to find its message.
ERROR_BODY_LIMIT = 16 * 1024
#: Longest error message kept (the sync records it).
MESSAGE_LIMIT = 500
#: Statuses worth trying again besides 5xx.
RETRYABLE_STATUSES = frozenset({408, 425, 429})


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx is answered as an error


_OPENER = urllib.request.build_opener(_NoRedirects)


class AccredibleClient:
    """Creates, updates and deletes Accredible credentials with one platform's key."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._authorization = f"Token token={config['accredible_api_key']}"
        self.base_url = str(ibl_settings.ACCREDIBLE_BASE_URL).rstrip("/")
        self.timeout = float(ibl_settings.PROVIDER_TIMEOUT)

    def __repr__(self) -> str:  # never the key
        return f"AccredibleClient({self.base_url!r})"

    def create(self, assertion: MirroredAssertion) -> str:
        answer = self._call("POST", "/v1/credentials", {"credential": credential_body(assertion)})
        try:
            return str(answer["credential"]["id"])
        except (KeyError, TypeError):
            raise ProviderError("Accredible answered without a credential id.") from None

    def update(self, external_id: str, assertion: MirroredAssertion) -> None:
        body = {"credential": credential_body(assertion)}
        self._call("PUT", f"/v1/credentials/{quote(external_id, safe='')}", body)

    def delete(self, external_id: str) -> None:
        try:
            self._call("DELETE", f"/v1/credentials/{quote(external_id, safe='')}", None)
        except ProviderError as error:
            if error.status != 404:  # already gone: what a delete wants
                raise

    def _call(self, method: str, path: str, body: Any) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={
                "Authorization": self._authorization,
                "Accept": "application/json",
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
            },
        )
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise _http_error(error) from None
        except TimeoutError:
            raise ProviderError(
                f"Timeout: Accredible did not answer within {self.timeout:g} s.", retryable=True
            ) from None
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(reason, TimeoutError | socket.timeout):
                raise ProviderError(
                    f"Timeout: Accredible did not answer within {self.timeout:g} s.",
                    retryable=True,
                ) from None
            raise ProviderError(f"Cannot reach Accredible: {reason}", retryable=True) from None
        except OSError as error:
            raise ProviderError(f"Cannot reach Accredible: {error}", retryable=True) from None
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            raise ProviderError("Accredible answered with something else than JSON.") from None


def credential_body(assertion: MirroredAssertion) -> dict[str, Any]:
    """The ``credential`` object of a create or an update."""
    body: dict[str, Any] = {
        "recipient": {
            "name": assertion.recipient_name,
            "email": assertion.recipient_email,
            "id": assertion.recipient_id,
        },
        "name": assertion.credential_name,
        "description": assertion.credential_description,
        "issued_on": assertion.issued_on.isoformat(),
        "expired_on": assertion.expires_on.isoformat() if assertion.expires_on else None,
        "private": assertion.private,
        "course_link": assertion.url,
        "meta_data": {
            **{str(key): value for key, value in assertion.metadata.items()},
            "ibl_assertion_id": assertion.entity_id,
            "ibl_platform": assertion.platform_key,
        },
    }
    if assertion.group.isdigit():
        body["group_id"] = int(assertion.group)
    elif assertion.group:
        body["group_name"] = assertion.group
    return body


def _http_error(error: urllib.error.HTTPError) -> ProviderError:
    status = error.code
    try:
        raw = error.read(ERROR_BODY_LIMIT)
    except OSError:
        raw = b""
    finally:
        error.close()
    detail = _error_text(raw)
    message = f"Accredible answered {status}" + (f": {detail}" if detail else ".")
    return ProviderError(
        message[:MESSAGE_LIMIT],
        status=status,
        retryable=status >= 500 or status in RETRYABLE_STATUSES,
        retry_after=retry_after_seconds(error.headers.get("Retry-After")),
    )


def _error_text(raw: bytes) -> str:
    """Accredible's own words: ``errors`` (text or field -> messages), ``error``,
    ``data``, ``message``; else the body's text (their 401 is plain text)."""
    text = raw.decode("utf-8", "replace").strip()
    try:
        body = json.loads(text)
    except ValueError:
        return " ".join(text.split())
    if isinstance(body, dict):
        for key in ("errors", "error", "data", "message"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, dict) and value:
                return "; ".join(
                    f"{field} {', '.join(map(str, v)) if isinstance(v, list) else v}"
                    for field, v in value.items()
                )
    return " ".join(text.split())


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds from now: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
