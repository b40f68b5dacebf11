"""Shapes in and out of the assertion endpoints.

A serializer's docstring becomes its OpenAPI description: it is written for API users.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ibl_core.api.fields import BoundedJSONField
from ibl_core.api.renderers import RequiredFieldsForm
from ibl_core.conf import ibl_settings
from ibl_credentials.assertions.client_bodies import sent_fields
from ibl_credentials.envelopes import StrictCharField
from ibl_credentials.models import Assertion, ItemKind
from ibl_credentials.validators import validate_http_url

ITEM_FIELDS = tuple(ItemKind.values)  # course, program, pathway
IDENTITY_MAX_LENGTH = 254
MAX_EVIDENCE = 100
NOT_AN_IDENTITY = "A username, an email or a user id is required."


def identity_value(data: Any) -> str | int | None:
    """A recipient as sent, if it can name one: text, or a non-negative integer."""
    if isinstance(data, bool):
        return None
    if isinstance(data, int):
        return data if data >= 0 else None
    if isinstance(data, str) and len(data.strip()) > 0 and len(data) <= IDENTITY_MAX_LENGTH:
        return data
    return None


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "integer", "minimum": 0}]})
class IdentityField(serializers.Field):
    """A username, an email or a user id."""

    def to_internal_value(self, data: Any) -> str:
        value = identity_value(data)
        if value is None:
            raise serializers.ValidationError(NOT_AN_IDENTITY)
        return str(value)

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(
    {
        "type": "array",
        "minItems": 1,
        "maxItems": 10_000,
        "items": {"oneOf": [{"type": "string"}, {"type": "integer", "minimum": 0}]},
    }
)
class UsersField(serializers.Field):
    """Usernames, emails or user ids (at most 10,000 by default)."""

    def to_internal_value(self, data: Any) -> list[str | int]:
        if not isinstance(data, list):
            raise serializers.ValidationError("A list of users is required.")
        limit = int(ibl_settings.BULK_MAX_ROWS)
        if not data:
            raise serializers.ValidationError("At least one user is required.")
        if len(data) > limit:
            raise serializers.ValidationError(
                f"At most {limit} users are accepted; got {len(data)}."
            )
        for position, entry in enumerate(data):
            if identity_value(entry) is None:
                raise serializers.ValidationError(f"Item {position}: {NOT_AN_IDENTITY}")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(
    {
        "type": "string",
        "pattern": "^(Accepted|Rejected)$",
        "description": "The recipient's answer: Accepted or Rejected.",
    }
)
class AnswerField(serializers.ChoiceField):
    """``Accepted`` or ``Rejected``. Documented by a pattern: an enum would be named
    after the field and collide with the three-valued ``acceptance`` of the output."""


NOT_AN_ITEM = "A key, or an object with a key, is required."


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "maxLength": 255},
            {
                "type": "object",
                "properties": {"key": {"type": "string", "maxLength": 255}},
                "required": ["key"],
            },
        ]
    }
)
class ItemReferenceField(StrictCharField):
    """A catalog item's key, as text or as an object with ``key`` (an assertion's own
    ``{"key", "name"}`` sent back: ``name`` is ignored)."""

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, dict):
            if "key" not in data:
                raise serializers.ValidationError(NOT_AN_ITEM)
            data = data["key"]
        return super().to_internal_value(data)


class SentFieldsMixin:
    """Reads a body as :mod:`.client_bodies` says: read-only fields ignored, an empty
    string or object the same as a field not sent."""

    def to_internal_value(self, data: Any) -> Any:
        fields = self.fields  # type: ignore[attr-defined]
        required = frozenset(name for name, field in fields.items() if field.required)
        return super().to_internal_value(sent_fields(data, required))  # type: ignore[misc]


class RecipientSerializer(RequiredFieldsForm, serializers.Serializer):
    """Who receives the assertion."""

    identity = IdentityField(help_text="The recipient: a username, an email or a user id.")


class EvidenceSerializer(serializers.Serializer):
    url = StrictCharField(max_length=500, validators=[validate_http_url])
    narrative = StrictCharField(required=False, allow_blank=True, default="", max_length=10_000)


class IssueFieldsSerializer(SentFieldsMixin, RequiredFieldsForm, serializers.Serializer):
    """What the issued assertions carry: at most one catalog item (course, program or
    pathway: its key, or an object with its key), a narrative, evidence, metadata and
    an expiry date. entityId, issuedOn and credentialDetails are ignored; an empty
    string or object is the same as a field not sent (as the published client sends
    unset fields)."""

    course = ItemReferenceField(
        required=False, max_length=255, help_text="A course key, or an object with its key."
    )
    program = ItemReferenceField(
        required=False, max_length=255, help_text="A program key, or an object with its key."
    )
    pathway = ItemReferenceField(
        required=False, max_length=255, help_text="A pathway key, or an object with its key."
    )
    narrative = StrictCharField(required=False, allow_blank=True, default="", max_length=10_000)
    evidence = serializers.ListField(
        child=EvidenceSerializer(), required=False, max_length=MAX_EVIDENCE
    )
    metadata = BoundedJSONField(required=False, help_text="A JSON object.")
    expires = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When the assertion expires (ISO 8601); default: the credential's rule.",
    )

    department_mode = serializers.BooleanField(
        required=False,
        help_text="Department admins: true to act on the users of your departments.",
    )

    def validate_metadata(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise serializers.ValidationError("A JSON object is required.")
        return value

    def validate_expires(self, value: Any) -> Any:
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Must be in the future.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        sent = [name for name in ITEM_FIELDS if name in attrs]
        if len(sent) > 1:
            raise serializers.ValidationError(
                {sent[1]: ["Send at most one of course, program and pathway."]}
            )
        return attrs


class IssueSerializer(IssueFieldsSerializer):
    """Issue the credential to one member of the platform: the recipient, or else the
    user of the path."""

    recipient = RecipientSerializer(
        required=False, help_text="Who receives it; default: the user of the path."
    )


class BulkIssueSerializer(IssueFieldsSerializer):
    """Issue the credential to many members at once."""

    users = UsersField(help_text="Usernames, emails or user ids (1 to 10,000).")


class AssertionUpdateSerializer(SentFieldsMixin, RequiredFieldsForm, serializers.Serializer):
    """Revoke (issuers: revoked true with a reason) or answer (the recipient: acceptance).
    The assertion's other fields are ignored; an empty string or object is the same as
    a field not sent."""

    revoked = serializers.BooleanField(required=False)
    revocationReason = StrictCharField(
        required=False, allow_blank=True, max_length=10_000, source="revocation_reason"
    )
    acceptance = AnswerField(
        choices=[Assertion.Acceptance.ACCEPTED, Assertion.Acceptance.REJECTED], required=False
    )

    department_mode = serializers.BooleanField(
        required=False,
        help_text="Department admins: true to act on the users of your departments.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.pop("department_mode", None)
        if not attrs:
            raise serializers.ValidationError("Send revoked with revocationReason, or acceptance.")
        if "revocation_reason" in attrs and attrs.get("revoked") is not True:
            raise serializers.ValidationError(
                {"revoked": ["revocationReason is sent only with revoked: true."]}
            )
        if attrs.get("revoked") is True:
            reason = attrs.get("revocation_reason", "").strip()
            if not reason:
                raise serializers.ValidationError(
                    {"revocationReason": ["A reason is required to revoke an assertion."]}
                )
            attrs["revocation_reason"] = reason
        return attrs


# Output (documentation of the dicts built by shapes.py) ----------------------------


class ItemObjectSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()


class AssertionSerializer(serializers.Serializer):
    """An assertion. Every value inside credentialDetails, recipient and
    course/program/pathway is a string; course/program/pathway are {} when the
    assertion was not issued for such an item; expires and revocationReason are ""
    when unset; datetimes are UTC."""

    entityId = serializers.CharField()
    issuedOn = serializers.CharField(help_text="UTC, ISO 8601.")
    expires = serializers.CharField(help_text='UTC, ISO 8601; "" when it never expires.')
    credentialDetails = serializers.DictField(
        child=serializers.CharField(),
        help_text="entityId, name, description, iconImage, credentialType, issuer (its entityId).",
    )
    recipient = serializers.DictField(
        child=serializers.CharField(), help_text="username, email, name, user_id."
    )
    course = serializers.DictField(child=serializers.CharField(), help_text="key, name; or {}.")
    program = serializers.DictField(child=serializers.CharField(), help_text="key, name; or {}.")
    pathway = serializers.DictField(child=serializers.CharField(), help_text="key, name; or {}.")
    metadata = serializers.JSONField()
    narrative = serializers.CharField()
    evidence = EvidenceSerializer(many=True)
    revoked = serializers.BooleanField()
    revocationReason = serializers.CharField()
    acceptance = serializers.ChoiceField(choices=Assertion.Acceptance.choices)


class PublicAssertionSerializer(AssertionSerializer):
    """An assertion as anyone sees it: the recipient is shown by name only."""

    recipient = serializers.DictField(child=serializers.CharField(), help_text="name.")


class BulkIssueResultSerializer(serializers.Serializer):
    issued = serializers.ListField(child=serializers.CharField(), help_text="Users as sent.")
    skipped = serializers.ListField(child=serializers.CharField(), help_text="Users as sent.")
    reasons = serializers.DictField(
        child=serializers.ChoiceField(
            choices=["already_issued", "user_not_found", "user_not_in_department", "duplicate"]
        ),
        help_text="Why each skipped user (as sent) was skipped.",
    )


@extend_schema_field(
    {
        "type": "string",
        "pattern": "^(queued|running|succeeded|failed)$",
        "description": "queued, then running, then succeeded or failed.",
    }
)
class JobStatusField(serializers.CharField):
    """A job's status. Documented by a pattern, as ``AnswerField``: an enum would be
    named after the field and collide with the webhook deliveries' ``status``."""


class BulkIssueJobSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The job's id: follow it at the URL of Location.")
    status = JobStatusField(help_text="queued, then running, then succeeded or failed.")
    credential = serializers.CharField(help_text="The credential's entityId.")
    users = serializers.IntegerField(help_text="How many users the request named.")
    created = serializers.DateTimeField()
    started = serializers.DateTimeField(allow_null=True)
    finished = serializers.DateTimeField(allow_null=True)
    result = BulkIssueResultSerializer(
        allow_null=True,
        help_text="Once succeeded: the answer the request would have given; null before.",
    )
    error = serializers.CharField(
        allow_blank=True, help_text="Once failed: why (nothing was issued); empty otherwise."
    )


class RevokedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    revocationReason = serializers.CharField(required=False)
