"""The credentials envelope's serializers, and the strict text fields every credentials
serializer uses: ``{"status": {"success", "description"}, "result": ...}``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A ``CharField`` that refuses numbers and booleans instead of turning them into text."""

    default_error_messages = {"invalid": "Not a valid string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictEmailField(serializers.EmailField):
    """An ``EmailField`` that refuses non-strings."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class EnvelopeStatusSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    description = serializers.CharField()


class ErrorEnvelopeSerializer(serializers.Serializer):
    """An error in the envelope: `status.success` is false, `status.description` sums
    the error up, and `result` holds the error body (`{"detail": "..."}`, or each
    invalid field with its messages)."""

    # Documentation only (envelope.EnvelopeErrorsMixin builds it).

    status = EnvelopeStatusSerializer()
    result = serializers.DictField()


class StatusOnlySerializer(serializers.Serializer):
    """An answer without a result: `{"status": {"success": true, "description": ...}}`."""

    status = EnvelopeStatusSerializer()
