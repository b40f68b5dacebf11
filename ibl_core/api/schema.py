"""OpenAPI pieces shared by every app: the API-key security scheme and error bodies."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from ibl_core.api.envelope import EnvelopeErrorsMixin
from ibl_core.conf import DEFAULTS

#: Shown in Swagger UI's "Authorize" dialog, where users paste the header's value.
API_KEY_SCHEME_DESCRIPTION = (
    "Every request sends `Authorization: Api-Token <key>`. In the Authorize dialog, enter "
    "the whole value: the word `Api-Token`, one space, then your key (64 hexadecimal "
    "characters), for example `Api-Token 3f9a...`. The word is case-insensitive and "
    "`Api-Key` is a synonym; `Bearer` or `Token` are refused. An administrator issues "
    "keys (Django admin, API keys) and each key is shown once."
)


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """``Authorization: Api-Token <key>`` as an ``apiKey`` security scheme."""

    target_class = "ibl_core.tenancy.authentication.APIKeyAuthentication"
    name = "PlatformApiKeyAuthentication"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": API_KEY_SCHEME_DESCRIPTION,
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


_SCOPES = ", ".join(sorted(DEFAULTS["THROTTLE_RATES"]))
THROTTLED_BODY = inline_serializer(
    "Throttled",
    fields={
        "detail": serializers.CharField(),
        "retry_after": serializers.IntegerField(
            min_value=1, help_text="Seconds to wait before retrying (as Retry-After)."
        ),
        "scope": serializers.CharField(help_text=f"The limit that was reached: {_SCOPES}."),
    },
)
THROTTLED_ENVELOPE = inline_serializer(
    "ThrottledEnvelope",
    fields={
        "status": inline_serializer(
            "ThrottledEnvelopeStatus",
            fields={"success": serializers.BooleanField(), "description": serializers.CharField()},
        ),
        "result": THROTTLED_BODY,
    },
)
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before retrying.",
)
_THROTTLED_TEXT = (
    "Too many requests of this kind (scope) from this caller (its API key, else its "
    "user, else its address): retry after Retry-After seconds."
)


class ThrottledAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus the 429 (body and ``Retry-After``) of every
    operation of a throttled view."""

    def _throttled(self) -> bool:
        return bool(getattr(self.view, "throttle_classes", None))

    # extend_schema's responses replace get_response_serializers(), so the 429 joins
    # the responses once they are built.
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if self._throttled() and "429" not in responses:
            body = (
                THROTTLED_ENVELOPE if isinstance(self.view, EnvelopeErrorsMixin) else THROTTLED_BODY
            )
            throttled = OpenApiResponse(body, _THROTTLED_TEXT)
            responses["429"] = self._get_response_for_code(throttled, "429", direction=direction)
        return responses

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        return [*parameters, RETRY_AFTER] if self._throttled() else parameters
