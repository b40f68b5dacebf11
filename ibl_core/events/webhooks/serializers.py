"""Shapes of webhook endpoints and deliveries in the API."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from ibl_core.events.outbox import EVENT_TYPES
from ibl_core.events.webhooks import services


class WebhookEndpointSerializer(serializers.Serializer):
    """A webhook endpoint: where a platform's events are sent."""

    id = serializers.IntegerField(read_only=True)
    url = serializers.URLField(
        max_length=2000,
        help_text="Where events are POSTed: https, on a public address.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES),
        required=False,
        max_length=len(EVENT_TYPES),
        help_text="The event types sent to this URL; empty (the default) for every type.",
    )
    active = serializers.BooleanField(
        required=False, help_text="Off: nothing is sent (also set off after failures or a 410)."
    )
    description = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )
    created = serializers.DateTimeField(read_only=True)

    def validate_url(self, value: str) -> str:
        try:
            services.check_url(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict["url"]) from error
        return value


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    """The endpoint as created or rotated: with its signing secret, shown this once."""

    secret = serializers.CharField(
        read_only=True,
        help_text="The Standard Webhooks signing secret (whsec_...). Store it now: it is "
        "not shown again.",
    )


class RotateSecretSerializer(serializers.Serializer):
    overlap_seconds = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=7 * 24 * 3600,
        help_text="How long the previous secret keeps signing deliveries beside the new "
        "one (default one day; 0 stops it at once).",
    )


class WebhookDeliverySerializer(serializers.Serializer):
    """One event sent (or being sent) to an endpoint, with its last attempt."""

    id = serializers.IntegerField()
    message_id = serializers.CharField(help_text="The webhook-id header of every attempt.")
    event_type = serializers.CharField()
    status = serializers.ChoiceField(choices=["pending", "succeeded", "failed"])
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(
        allow_null=True, help_text="The HTTP status of the last attempt; null: no answer."
    )
    last_latency_ms = serializers.IntegerField(allow_null=True)
    last_response = serializers.CharField(help_text="The start of the last answer's body.")
    last_error = serializers.CharField(help_text="Why the last attempt got no answer, if so.")
    created = serializers.DateTimeField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        attempts = getattr(instance, "recent_attempts", None) or []
        last = attempts[-1] if attempts else None
        instance.last_latency_ms = last.latency_ms if last else None
        instance.last_response = last.response_excerpt if last else ""
        instance.last_error = last.error if last else ""
        return super().to_representation(instance)
