"""The credentials envelope: ``{"status": {"success", "description"}, "result": ...}``.

Successes and errors of enveloped endpoints share one shape (contract
``credentials.md``, "Envelope"). An error keeps its status code, its headers (for
example ``WWW-Authenticate`` on a 401) and DRF's error body as ``result``; the
``description`` is a one-line summary of that body.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rest_framework.response import Response

OK = "Ok"
CREATED = "Created"


def success(result: Any, description: str = OK) -> dict[str, Any]:
    """The envelope of a successful answer."""
    return {"status": {"success": True, "description": description}, "result": result}


def failure(error_body: Any) -> dict[str, Any]:
    """The envelope of an error answer wrapping DRF's error body."""
    return {
        "status": {"success": False, "description": summarize_errors(error_body)},
        "result": error_body,
    }


def _first_message(value: Any) -> str:
    while isinstance(value, Sequence) and not isinstance(value, str) and value:
        value = value[0]
    if isinstance(value, Mapping) and value:
        key, nested = next(iter(value.items()))
        return f"{key}: {_first_message(nested)}"
    return str(value)


def summarize_errors(error_body: Any) -> str:
    """One line saying what went wrong: ``detail``, or each field's first message."""
    if isinstance(error_body, Mapping):
        if isinstance(error_body.get("detail"), str):  # extra keys (retry_after) add to it
            summary = str(error_body["detail"])
        else:
            summary = "; ".join(
                f"{field}: {_first_message(messages)}" for field, messages in error_body.items()
            )
    else:
        summary = _first_message(error_body)
    return " ".join(summary.split()) or "Error."


class EnvelopeErrorsMixin:
    """For an ``APIView``: every error it answers (400/401/403/404/405/415...) is enveloped.

    Successes are enveloped by the view (or its pagination class) with :func:`success`.
    """

    def handle_exception(self, exc: Exception) -> Response:
        response: Response = super().handle_exception(exc)  # type: ignore[misc]
        response.data = failure(response.data)
        return response
