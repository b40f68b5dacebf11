"""OpenAPI pieces shared by every app: the API-key security scheme and error bodies."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """``Authorization: Api-Token <key>`` as an ``apiKey`` security scheme."""

    target_class = "ibl_core.authentication.APIKeyAuthentication"
    name = "PlatformApiKeyAuthentication"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Token <64 hex characters>` (`Api-Key` is a synonym).",
        }


#: DRF's error bodies: ``{"detail": "..."}`` or ``{"field": ["message", ...]}``.
ERROR_BODY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [
            {"type": "string"},
            {"type": "array", "items": {}},
            {"type": "object"},
        ]
    },
}

DETAIL_BODY = inline_serializer("Detail", fields={"detail": serializers.CharField()})


def error_responses(**descriptions: str) -> dict[int, OpenApiResponse]:
    """``{status: OpenApiResponse}`` for error statuses named ``e400="..."`` etc."""
    responses = {}
    for name, text in descriptions.items():
        status = int(name.lstrip("e"))
        body = ERROR_BODY if status == 400 else DETAIL_BODY
        responses[status] = OpenApiResponse(body, description=text)
    return responses


def platform_parameters(*, required: bool = True) -> list[OpenApiParameter]:
    """``platform_key`` / ``platform_org`` / ``department_mode`` query parameters."""
    return [
        OpenApiParameter(
            "platform_key", str, required=required,
            description="The platform (its key). platform_org may name it instead.",
        ),
        OpenApiParameter(
            "platform_org", str, description="The platform's org; must agree with platform_key."
        ),
        OpenApiParameter(
            "department_mode", bool,
            description="Act as a department admin (only over users of your departments).",
        ),
    ]  # fmt: skip
