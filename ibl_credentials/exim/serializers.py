"""The export document, the import's options and its report.

A serializer's docstring becomes its OpenAPI description: it is written for API users.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from ibl_credentials.credentials.serializers import ExpiresField
from ibl_credentials.envelopes import StrictCharField
from ibl_credentials.exim import selectors
from ibl_credentials.exim.services import FORMAT, VERSION

#: The most credentials one document may carry.
MAX_IMPORT_CREDENTIALS = 1000
COURSE_KEY_MAX_LENGTH = 255
IMAGE_EXPORT_MODES = ("url", "inline")


class StrictIntegerField(serializers.IntegerField):
    """An integer in JSON, not a string or a boolean."""

    def to_internal_value(self, data: Any) -> int:
        if type(data) is not int:
            self.fail("invalid")
        return int(super().to_internal_value(data))


class StrictBooleanField(serializers.BooleanField):
    """true or false in JSON, nothing that merely looks like one."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class ExportQuerySerializer(serializers.Serializer):
    """The export's query parameters."""

    images = serializers.ChoiceField(choices=IMAGE_EXPORT_MODES, required=False, default="url")
    platform = StrictCharField(max_length=255, required=False)

    def validate_platform(self, value: str) -> Any:
        platform = selectors.platform_named(value)
        if platform is None:
            raise serializers.ValidationError(f"No platform {value!r} on this server.")
        return platform


class ImportDocumentSerializer(serializers.Serializer):
    """An export document, as the export answers it, with optional import options:
    `target_course` (another course), `target_platform` (another platform: its key or
    org), `new_ids` (true: import copies under new entityIds)."""

    format = StrictCharField(help_text=f'Always "{FORMAT}".')
    version = StrictIntegerField(help_text=f"The document's format version ({VERSION}).")
    course = StrictCharField(
        max_length=COURSE_KEY_MAX_LENGTH, help_text="The course the document was exported for."
    )
    credentials = serializers.ListField(
        child=serializers.DictField(), max_length=MAX_IMPORT_CREDENTIALS
    )
    target_course = StrictCharField(max_length=COURSE_KEY_MAX_LENGTH, required=False)
    target_platform = StrictCharField(max_length=255, required=False)
    new_ids = StrictBooleanField(required=False, default=False)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {"non_field_errors": ["Expected a JSON object: the document the export answers."]}
            )
        return super().to_internal_value(data)

    def validate_format(self, value: str) -> str:
        if value != FORMAT:
            raise serializers.ValidationError(f'Unknown format {value!r}: expected "{FORMAT}".')
        return value

    def validate_version(self, value: int) -> int:
        if value != VERSION:
            raise serializers.ValidationError(
                f"Unsupported version {value}: this server reads version {VERSION}."
            )
        return value

    def validate_credentials(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: set[str] = set()
        for entry in value:
            entity_id = entry.get("entityId")
            if isinstance(entity_id, str):
                if entity_id in seen:
                    raise serializers.ValidationError(
                        f"The entityId {entity_id!r} appears more than once."
                    )
                seen.add(entity_id)
        return value

    def validate_target_platform(self, value: str) -> Any:
        platform = selectors.platform_named(value)
        if platform is None:
            raise serializers.ValidationError(f"No platform {value!r} on this server.")
        return platform

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """``target_course`` defaults to the path's course; when given, the path must name
        it or the document's course."""
        path_course = self.context["course_id"]
        target = attrs.get("target_course")
        if target is not None and path_course not in (target, attrs["course"]):
            raise serializers.ValidationError(
                {
                    "target_course": [
                        f"The path names course {path_course!r}: it must be the document's "
                        "course or target_course."
                    ]
                }
            )
        attrs["target_course"] = target if target is not None else path_course
        return attrs


# Documentation only (services.export_course and ImportReport build these) ------------


class ImageObjectSerializer(serializers.Serializer):
    """An image: its absolute URL, the SHA-256 of its bytes (null for an external URL),
    and with `images=inline` the bytes as a data URL."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # Built here because a declared field named ``data`` would hide ``Serializer.data``.
        return {
            "url": serializers.URLField(),
            "sha256": serializers.CharField(allow_null=True),
            "data": serializers.CharField(required=False, help_text="data:<type>;base64,..."),
        }


class IssuerReferenceSerializer(serializers.Serializer):
    """The credential's issuer: found on the target platform by entityId, else by name,
    else created from these fields."""

    entityId = serializers.CharField()
    name = serializers.CharField()
    url = serializers.CharField()
    email = serializers.CharField()
    iconImage = ImageObjectSerializer(allow_null=True)
    allowed_template_tags = serializers.ListField(child=serializers.CharField(), allow_null=True)


class ExportedCredentialSerializer(serializers.Serializer):
    """One credential of the document: its definition, issuer, images and links."""

    entityId = serializers.CharField()
    platform = serializers.CharField(help_text="The key of the credential's platform.")
    name = serializers.CharField()
    description = serializers.CharField()
    credentialType = serializers.CharField()
    criteriaUrl = serializers.CharField()
    criteriaNarrative = serializers.CharField()
    signal = serializers.CharField()
    html_template = serializers.CharField()
    css_template = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    metadata = serializers.DictField(help_text="Without `alignment` (see `alignments`).")
    alignments = serializers.ListField(child=serializers.DictField())
    expires = ExpiresField(allow_null=True)
    public = serializers.BooleanField()
    iconImage = ImageObjectSerializer(allow_null=True)
    backgroundImage = ImageObjectSerializer(allow_null=True)
    thumbnailImage = ImageObjectSerializer(allow_null=True)
    issuer = IssuerReferenceSerializer()
    courses = serializers.ListField(child=serializers.CharField())
    programs = serializers.ListField(child=serializers.CharField())
    pathways = serializers.ListField(child=serializers.CharField())
    provider_mappings = serializers.ListField(
        child=serializers.DictField(), help_text="The credential's external provider mappings."
    )


class ExportDocumentSerializer(serializers.Serializer):
    """The export document: format, version, the course, and its credentials."""

    format = serializers.CharField(help_text=f'"{FORMAT}".')
    version = serializers.IntegerField(help_text=str(VERSION))
    course = serializers.CharField()
    exported_at = serializers.DateTimeField()
    credentials = ExportedCredentialSerializer(many=True)


class ImportResultSerializer(serializers.Serializer):
    """The outcome for one credential of the document."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # Built here because a declared field named ``errors`` would hide ``.errors``.
        return {
            "sourceEntityId": serializers.CharField(allow_null=True),
            "entityId": serializers.CharField(
                allow_null=True, help_text="The credential on this server (null: failed)."
            ),
            "platform": serializers.CharField(allow_null=True),
            "status": serializers.CharField(help_text="created, updated, unchanged or failed."),
            "errors": serializers.DictField(
                required=False, help_text="Why it failed, by field (failed only)."
            ),
        }


class ImportReportSerializer(serializers.Serializer):
    """What the import did: counts, and one result per credential, in document order."""

    course = serializers.CharField(help_text="The course the credentials were imported for.")
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    failed = serializers.IntegerField()
    results = ImportResultSerializer(many=True)
