"""Shapes in and out of the suggestion endpoints, for every suggestion kind.

A serializer's docstring becomes its OpenAPI description: it is written for API
users. Notes for developers are comments.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ibl_catalog.suggestions.base import SuggestionKind
from ibl_catalog.suggestions.rules import (
    RowRules,
    Rule,
    boolean_rule,
    clean_email,
    clean_group_id,
    clean_metadata,
    clean_user_id,
    rule_field,
    text_rule,
    uuid_rule,
)
from ibl_core.api.renderers import RequiredFieldsForm
from ibl_core.api.representation import timestamp_format, utc_text
from ibl_core.conf import ibl_settings


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "pattern": r"^\d+$"}]})
class UserIdField(serializers.Field):
    """A user id given as an integer or a string of digits (checked by its rule)."""

    def to_representation(self, value: Any) -> int:
        return int(value)


@extend_schema_field({"type": "object", "additionalProperties": {}})
class MetadataField(serializers.JSONField):
    """A JSON object (``{}`` to clear), bounded in size and depth like all stored JSON."""


def row_rules(kind: SuggestionKind) -> RowRules:
    """The fields of one suggestion to write, single or in a bulk row, and their rules.

    The item is named by its identifier; a kind with several identifiers takes any
    of them (at least one).
    """
    several = len(kind.identifiers) > 1
    identifiers = {
        identifier.name: uuid_rule() if identifier.is_uuid else text_rule(255, required=not several)
        for identifier in kind.identifiers
    }
    rules = {
        "user_id": Rule(clean_user_id, UserIdField, required=True),
        "username": text_rule(150),
        "email": Rule(clean_email, serializers.EmailField),
        "accepted": boolean_rule(),
        "visible": boolean_rule(initial=True),
        "direct": boolean_rule(initial=True),
        "metadata": Rule(clean_metadata, MetadataField),
        **identifiers,
    }
    return RowRules(rules, one_of=kind.identifier_names if several else ())


def require_one_of(names: tuple[str, ...]) -> Any:
    """A serializer ``validate`` that needs at least one of ``names``."""

    def validate(self: serializers.Serializer, attrs: dict[str, Any]) -> dict[str, Any]:
        if not any(name in attrs for name in names):
            others = " or ".join(names[1:])
            raise serializers.ValidationError({names[0]: [f"This field or {others} is required."]})
        return attrs

    return validate


#: The single POST's extra field: who suggests, when not the caller.
SUGGESTED_BY_RULE = text_rule(150)


class SuggestionRowFields(serializers.Serializer):
    """One suggestion to create or update: the user, the item (by its key) and the
    fields to set. A bulk row accepts exactly the same fields and values as a single
    POST."""

    # build_serializers adds the fields of row_rules: a bulk row is checked by the
    # same rules without the serializer (rules.clean_row).


class PlatformFields(RequiredFieldsForm, serializers.Serializer):
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


class LearnerAnswerSerializer(RequiredFieldsForm, serializers.Serializer):
    """The learner's answer to a suggestion: accepted=true accepts it, visible=false
    dismisses it (at least one of the two)."""

    suggestion_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    accepted = serializers.BooleanField(required=False)
    visible = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "accepted" not in attrs and "visible" not in attrs:
            raise serializers.ValidationError({"accepted": ["Send accepted, visible or both."]})
        return attrs


class DeleteResultSerializer(serializers.Serializer):
    detail = serializers.CharField()
    suggestion_id = serializers.IntegerField()


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
    write them, without DRF's per-row, per-field path (see :func:`iter_represented`)."""
    return list(iter_represented(serializer_class, rows))


def iter_represented(
    serializer_class: type[serializers.Serializer], rows: Iterable[Mapping[str, Any]]
) -> Iterator[dict[str, Any]]:
    """The output object of each row of ``rows``, one at a time (a bulk write's events
    are encoded as they come, never all held as objects at once).

    A row already holds the output types but the timestamps. Those are written as
    DRF's ``DateTimeField`` writes them (in the current time zone, ISO 8601, ``Z`` for
    UTC); a UTC datetime in a UTC zone is written directly, with the zone read once
    per call instead of twice per timestamp: DRF's path was about a fifth of a
    100-row list request (``docs/performance.md``).
    """
    fields = output_fields(serializer_class)
    names = [name for name, _ in fields]
    stamps = [(name, *timestamp_format(field)) for name, field in fields if field is not None]
    for row in rows:
        item = {name: row[name] for name in names}
        for name, format_timestamp, as_is_zones in stamps:
            value = item[name]
            if value is None:
                continue
            if type(value) is datetime and value.tzinfo in as_is_zones:
                item[name] = utc_text(value)
            else:
                item[name] = format_timestamp(value)
        yield item


def item_output_fields(kind: SuggestionKind) -> dict[str, serializers.Field]:
    """The item's fields of a suggestion object: identifiers, name, platform key."""
    fields: dict[str, serializers.Field] = {
        identifier.name: serializers.UUIDField() if identifier.is_uuid else serializers.CharField()
        for identifier in kind.identifiers
    }
    fields[kind.item_name] = serializers.CharField()
    if kind.platform_key_name:
        fields[kind.platform_key_name] = serializers.CharField()
    return fields


@dataclass(frozen=True)
class SuggestionSerializers:
    """The serializer classes of one suggestion kind."""

    output: type[serializers.Serializer]
    row: type[serializers.Serializer]
    write: type[serializers.Serializer]
    bulk: type[serializers.Serializer]
    #: The rules of a row's fields (a bulk row is checked with them directly).
    rules: RowRules


def write_form_fields(rules: RowRules) -> dict[str, Any]:
    """The optional fields a write's browsable form shows: the flags with the values a
    new suggestion gets, and the first of several item identifiers (one is needed)."""
    return {
        "accepted": False,
        "visible": True,
        "direct": True,
        **({rules.one_of[0]: ""} if rules.one_of else {}),
    }


@functools.cache
def build_serializers(kind: SuggestionKind) -> SuggestionSerializers:
    """Named serializer classes for ``kind`` (named so the OpenAPI components are too);
    built once per kind (the views and the events share them)."""
    title = kind.label.title()
    output = type(
        f"{title}Suggestion",
        (SuggestionOutputFields,),
        {**item_output_fields(kind), "__module__": __name__},
    )
    rules = row_rules(kind)
    row = type(
        f"{title}SuggestionRow",
        (SuggestionRowFields,),
        {
            **{name: rule_field(rule) for name, rule in rules.items()},
            **({"validate": require_one_of(rules.one_of)} if rules.one_of else {}),
            "__module__": __name__,
        },
    )
    write = type(
        f"{title}SuggestionWrite",
        (row, PlatformFields),
        {
            "suggested_by": rule_field(SUGGESTED_BY_RULE),
            "form_fields": write_form_fields(rules),
            "__doc__": SuggestionRowFields.__doc__,
            "__module__": __name__,
        },
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
    return SuggestionSerializers(output=output, row=row, write=write, bulk=bulk, rules=rules)


# -- group suggestions (manage/group/) ----------------------------------------------


@extend_schema_field({"type": "integer", "minimum": 1})
class GroupIdField(serializers.Field):
    """A group id: an integer (a string of digits is accepted too)."""

    def to_representation(self, value: Any) -> int:
        return int(value)


def group_rules(kind: SuggestionKind) -> RowRules:
    """The fields of a group suggestion to write and their rules: the group, the item
    (by any of its identifiers) and the fields to set."""
    item_rules = {
        name: rule for name, rule in row_rules(kind).items() if name in kind.identifier_names
    }
    rules = {
        "group_id": Rule(clean_group_id, GroupIdField, required=True),
        **item_rules,
        "accepted": boolean_rule(),
        "visible": boolean_rule(initial=True),
        "direct": boolean_rule(initial=True),
        "metadata": Rule(clean_metadata, MetadataField),
        "suggested_by": SUGGESTED_BY_RULE,
    }
    return RowRules(rules, one_of=kind.identifier_names if len(kind.identifiers) > 1 else ())


class GroupSuggestionWriteFields(PlatformFields):
    """A group suggestion to create or update: the group (group_id), the item (by its
    key) and the fields to set. Every member of the group receives the item as a
    suggestion of their own; a member who already has it keeps it unchanged."""


class GroupSuggestionOutputFields(serializers.Serializer):
    """A group suggestion: its group, platform, flags, timestamps and metadata, the
    suggested item's key and name, and the number of active members of the group."""

    # build_group_serializers declares the fields (in the contract's order). Rows are
    # dicts of output types already, formatted as the per-user suggestion's are.

    to_representation = SuggestionOutputFields.to_representation


@dataclass(frozen=True)
class GroupSuggestionSerializers:
    """The serializer classes of one kind's group suggestions."""

    output: type[serializers.Serializer]
    write: type[serializers.Serializer]


@functools.cache
def build_group_serializers(kind: SuggestionKind) -> GroupSuggestionSerializers:
    """Named serializer classes of ``kind``'s group suggestions (built once per kind)."""
    title = kind.label.title()
    # Declared in the order of the contract (DRF orders fields by creation): id,
    # group_id, group_name, platform_key, flags, timestamps, metadata, the item's
    # fields, user_count.
    fields: dict[str, serializers.Field] = {
        "id": serializers.IntegerField(),
        "group_id": serializers.IntegerField(),
        "group_name": serializers.CharField(),
        "platform_key": serializers.CharField(),
        "accepted": serializers.BooleanField(),
        "visible": serializers.BooleanField(),
        "created": serializers.DateTimeField(),
        "modified": serializers.DateTimeField(),
        "metadata": serializers.DictField(),
    }
    fields.update(item_output_fields(kind))
    fields["user_count"] = serializers.IntegerField(help_text="Active members of the group.")
    output = type(
        f"{title}GroupSuggestionDetail",
        (GroupSuggestionOutputFields,),
        {**fields, "__module__": __name__},
    )
    rules = group_rules(kind)
    write = type(
        f"{title}GroupSuggestionCreate",
        (GroupSuggestionWriteFields,),
        {
            **{name: rule_field(rule) for name, rule in rules.items()},
            **({"validate": require_one_of(rules.one_of)} if rules.one_of else {}),
            "form_fields": write_form_fields(rules),
            "__module__": __name__,
        },
    )
    return GroupSuggestionSerializers(output=output, write=write)
