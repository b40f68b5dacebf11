"""Shapes in and out of the suggestion endpoints, for every suggestion kind.

A serializer's docstring becomes its OpenAPI description: it is written for API
users. Notes for developers are comments.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from ibl_core.conf import ibl_settings
from ibl_core.fields import BoundedJSONField

from .base import SuggestionKind


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "pattern": r"^\d+$"}]})
class UserIdField(serializers.Field):
    """A user id given as an integer or a string of digits; always an int afterwards."""

    default_error_messages = {
        "invalid": "A user id (an integer or a string of digits) is required."
    }

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            value = data
        elif isinstance(data, str) and data.strip().isascii() and data.strip().isdigit():
            value = int(data.strip())
        else:
            self.fail("invalid")
        if not 0 < value < 2**63:
            self.fail("invalid")
        return value

    def to_representation(self, value: Any) -> int:
        return int(value)


class MetadataField(BoundedJSONField):
    """A JSON object (``{}`` to clear), bounded in size and depth like all stored JSON."""

    default_error_messages = {"not_an_object": "Must be a JSON object."}

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            self.fail("not_an_object")
        return super().to_internal_value(data)


class SuggestionRowFields(serializers.Serializer):
    """One suggestion to create or update: the user, the item (by its key) and the
    fields to set. A bulk row accepts exactly the same fields and values as a single
    POST."""

    # Bulk rows are validated with these same fields (clean_row); build_serializers
    # adds the item key field (program_key...) per kind.

    user_id = UserIdField()
    username = serializers.CharField(required=False, max_length=150)
    email = serializers.EmailField(required=False)
    accepted = serializers.BooleanField(required=False)
    visible = serializers.BooleanField(required=False, initial=True)
    direct = serializers.BooleanField(required=False, initial=True)
    metadata = MetadataField(required=False)


class PlatformFields(serializers.Serializer):
    """How a body names its platform and asks for department mode."""

    platform_key = serializers.CharField(required=False)
    platform_org = serializers.CharField(required=False)
    department_mode = serializers.BooleanField(required=False)


class RowListField(serializers.ListField):
    """A JSON array of rows kept as sent: each row is checked by the bulk service, so
    one bad row is reported with its code instead of failing the whole request."""

    def run_child_validation(self, data: Any) -> list[Any]:
        return list(data)


class RowListFieldSchema(OpenApiSerializerFieldExtension):
    """Rows are documented with the row schema, yet any item is accepted (and reported
    as ``invalid_row``), so the schema says ``anyOf: [row, anything]``."""

    target_class = RowListField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        row = auto_schema._map_serializer_field(self.target.child, direction)
        items = {"anyOf": [row, {"description": "Any other value: reported as invalid_row."}]}
        return {"type": "array", "minItems": 1, "items": items}


class BulkSuggestionSerializer(PlatformFields):
    """Many suggestions at once: each row of suggestion_data is applied as a single
    POST would be, or reported with its error code."""

    # Rows are validated one by one by the service, so one bad row fails no other.

    suggestion_data = RowListField(allow_empty=False, help_text="Suggestion rows.")

    def validate_suggestion_data(self, rows: list[Any]) -> list[Any]:
        limit = ibl_settings.BULK_MAX_ROWS
        if len(rows) > limit:
            raise serializers.ValidationError(
                f"At most {limit} rows per request; got {len(rows)}. Split the request."
            )
        return rows


class BulkResultSerializer(serializers.Serializer):
    successes = serializers.IntegerField()
    error_codes = serializers.ListField(
        child=serializers.CharField(),
        help_text='"<row index>:<code>", code one of invalid_row, user_not_found, '
        "program_not_found, user_not_in_department, duplicate_row.",
    )


class DeleteResultSerializer(serializers.Serializer):
    detail = serializers.CharField()
    suggestion_id = serializers.IntegerField()


def clean_row(fields: Mapping[str, serializers.Field], row: Any) -> dict[str, Any] | None:
    """Validate one bulk row with the row serializer's fields; ``None`` when invalid."""
    if not isinstance(row, dict):
        return None
    cleaned: dict[str, Any] = {}
    for name, field in fields.items():
        if name not in row:
            if field.required:
                return None
            continue
        try:
            cleaned[name] = field.run_validation(row[name])
        except serializers.ValidationError:
            return None
    return cleaned


class SuggestionOutputFields(serializers.Serializer):
    """A suggestion: its user, platform, flags, timestamps and metadata, and the
    suggested item's key and name."""

    # build_serializers adds the item fields per kind.

    id = serializers.IntegerField()
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(help_text='Full name of the user, "" when none.')
    platform_key = serializers.CharField()
    accepted = serializers.BooleanField()
    visible = serializers.BooleanField()
    created = serializers.DateTimeField()
    modified = serializers.DateTimeField()
    metadata = serializers.DictField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        """A row of ``selectors.suggestion_rows`` already holds the output types: only
        the timestamps need formatting (:func:`represent_rows`)."""
        if not isinstance(instance, Mapping):
            return super().to_representation(instance)
        return represent_rows(type(self), [instance])[0]


@functools.cache
def output_fields(
    serializer_class: type[serializers.Serializer],
) -> tuple[tuple[str, serializers.DateTimeField | None], ...]:
    """Each output field of ``serializer_class`` in order, with the field itself when
    it is a timestamp (the only values of a row that need formatting)."""
    fields = serializer_class().fields  # bound once per class, not per request
    return tuple(
        (name, field if isinstance(field, serializers.DateTimeField) else None)
        for name, field in fields.items()
    )


def represent_rows(
    serializer_class: type[serializers.Serializer], rows: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The output objects of ``values()`` rows, exactly as ``serializer_class`` would
    write them, without DRF's per-row, per-field path.

    A row already holds the output types but the timestamps. Those are written as
    DRF's ``DateTimeField`` writes them (in the current time zone, ISO 8601, ``Z`` for
    UTC); a UTC datetime in a UTC zone is written directly, with the zone read once
    per call instead of twice per timestamp: DRF's path was about a fifth of a
    100-row list request (``docs/performance.md``).
    """
    fields = output_fields(serializer_class)
    names = [name for name, _ in fields]
    stamps = [(name, *timestamp_format(field)) for name, field in fields if field is not None]
    output = []
    for row in rows:
        item = {name: row[name] for name in names}
        for name, format_timestamp, as_is_zones in stamps:
            value = item[name]
            if value is None:
                continue
            if type(value) is datetime and value.tzinfo in as_is_zones:
                item[name] = value.isoformat()[:-6] + "Z"  # UTC: "+00:00" becomes "Z"
            else:
                item[name] = format_timestamp(value)
        output.append(item)
    return output


def timestamp_format(
    field: serializers.DateTimeField,
) -> tuple[Callable[[Any], Any], frozenset[tzinfo]]:
    """``field.to_representation``, and the zones whose datetimes it writes as they are
    with ``Z`` for ``+00:00`` (UTC ones, when the field writes ISO 8601 in UTC)."""
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    if zone is None or not isinstance(output_format, str) or output_format.lower() != ISO_8601:
        return field.to_representation, frozenset()
    if zone.utcoffset(datetime(2000, 1, 1)) != timedelta(0) or str(zone) != "UTC":
        return field.to_representation, frozenset()
    # Converting a UTC datetime to UTC changes nothing that isoformat() writes.
    return field.to_representation, frozenset({UTC, zone})


@dataclass(frozen=True)
class SuggestionSerializers:
    """The serializer classes of one suggestion kind."""

    output: type[serializers.Serializer]
    row: type[serializers.Serializer]
    write: type[serializers.Serializer]
    bulk: type[serializers.Serializer]


def build_serializers(kind: SuggestionKind) -> SuggestionSerializers:
    """Named serializer classes for ``kind`` (named so the OpenAPI components are too)."""
    title = kind.label.title()
    output = type(
        f"{title}Suggestion",
        (SuggestionOutputFields,),
        {
            kind.key_name: serializers.CharField(),
            kind.item_name: serializers.CharField(),
            "__module__": __name__,
        },
    )
    item_key = {kind.key_name: serializers.CharField(max_length=255), "__module__": __name__}
    row = type(f"{title}SuggestionRow", (SuggestionRowFields,), dict(item_key))
    write = type(
        f"{title}SuggestionWrite",
        (SuggestionRowFields, PlatformFields),
        {**item_key, "suggested_by": serializers.CharField(required=False, max_length=150)},
    )
    bulk = type(
        f"{title}SuggestionBulk",
        (BulkSuggestionSerializer,),
        {
            "suggestion_data": RowListField(
                child=row(), allow_empty=False, help_text="Rows; each is applied or reported."
            ),
            "__module__": __name__,
        },
    )
    return SuggestionSerializers(output=output, row=row, write=write, bulk=bulk)
