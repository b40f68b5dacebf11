"""The OpenAPI description of :mod:`ibl_core.events.webhooks.views`: one
decorator per operation, so the views hold only what they do."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from ibl_core.api.schema import error_responses
from ibl_core.events.webhooks.serializers import (
    RotateSecretSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointSerializer,
    WebhookEndpointWithSecretSerializer,
)

TAGS = ["webhooks"]

ACCESS = {
    "e401": "Missing or invalid credentials.",
    "e403": "Not a platform admin of this platform (nor a DM admin).",
    "e404": "Unknown platform, or no such endpoint on it.",
}

READ_ERRORS = error_responses(**ACCESS)

WRITE_ERRORS = error_responses(e400="Invalid field.", **ACCESS)

CREATE_ERRORS = error_responses(
    e400="Invalid field, or the platform has its maximum number of endpoints already.",
    **ACCESS,
)

WEBHOOK_LIST_GET = extend_schema(
    tags=TAGS,
    summary="List the platform's webhook endpoints",
    responses={200: WebhookEndpointSerializer(many=True), **READ_ERRORS},
)

WEBHOOK_LIST_POST = extend_schema(
    tags=TAGS,
    summary="Create a webhook endpoint",
    description="Answers the endpoint with its signing secret, shown this once.",
    request=WebhookEndpointSerializer,
    responses={201: WebhookEndpointWithSecretSerializer, **CREATE_ERRORS},
)

WEBHOOK_DETAIL_GET = extend_schema(
    tags=TAGS,
    summary="One webhook endpoint",
    responses={200: WebhookEndpointSerializer, **READ_ERRORS},
)

WEBHOOK_DETAIL_PATCH = extend_schema(
    tags=TAGS,
    summary="Change a webhook endpoint",
    description="Changes the fields sent. Turning an endpoint on again clears why it "
    "was turned off.",
    request=WebhookEndpointSerializer(partial=True),
    responses={200: WebhookEndpointSerializer, **WRITE_ERRORS},
)

WEBHOOK_DETAIL_DELETE = extend_schema(
    tags=TAGS, summary="Delete a webhook endpoint", responses={204: None, **READ_ERRORS}
)

WEBHOOK_ROTATE_SECRET_POST = extend_schema(
    tags=TAGS,
    summary="Rotate the signing secret",
    description="A new secret, shown this once. The previous one keeps signing "
    "deliveries beside it for overlap_seconds, so receivers can switch without "
    "refusing any.",
    request=RotateSecretSerializer,
    responses={200: WebhookEndpointWithSecretSerializer, **WRITE_ERRORS},
)

WEBHOOK_TEST_POST = extend_schema(
    tags=TAGS,
    summary="Send a test event",
    description="Queues a webhook.test event to the endpoint, attempted once (no "
    "retries) by a background worker, and answers 202 at once with the delivery "
    "(status pending, no attempts yet) and its URL in the Location header: poll it "
    "for the receiver's answer. A test event is sent even to an endpoint that is "
    "parked after timeouts (it is how to find out that it answers again); not to "
    "one that is off.",
    request=None,
    parameters=[
        OpenApiParameter(
            "Location",
            OpenApiTypes.URI,
            OpenApiParameter.HEADER,
            description="The delivery's URL, to poll.",
            response=[202],
        )
    ],
    responses={
        202: OpenApiResponse(
            WebhookDeliverySerializer, description="Queued; poll the Location URL."
        ),
        **READ_ERRORS,
    },
)

WEBHOOK_DELIVERIES_GET = extend_schema(
    tags=TAGS,
    summary="Recent deliveries to an endpoint",
    description="Newest first.",
    parameters=[OpenApiParameter("limit", int, description="How many (1-100, default 50).")],
    responses={200: WebhookDeliverySerializer(many=True), **WRITE_ERRORS},
)

WEBHOOK_DELIVERY_GET = extend_schema(
    tags=TAGS,
    summary="One delivery to an endpoint",
    responses={200: WebhookDeliverySerializer, **READ_ERRORS},
)
