"""Request bodies (validated here) and the answers' shapes (for the schema only; the
views build the objects in ``selectors``)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ibl_core.conf import ibl_settings
from ibl_credentials.assertions.serializers import AssertionSerializer, BulkIssueJobSerializer
from ibl_credentials.envelopes import EnvelopeStatusSerializer
from ibl_credentials.models import ENTITY_ID_MAX_LENGTH

#: Ids the databases can hold (a larger one names nobody: 400, not an overflow).
MAX_ID = 2**63 - 1


class IdField(serializers.IntegerField):
    """A database id: an integer, or a string of digits."""

    default_error_messages = {
        "invalid": "An id is an integer (or a string of digits).",
        "min_value": "An id is 1 or more.",
        "max_value": "No such id.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, str) and not (data.isascii() and data.isdigit()):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class BoundedListField(serializers.ListField):
    """A list of 1 to ``BULK_MAX_ROWS`` items (the limit read per request)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_empty=False, **kwargs)

    def to_internal_value(self, data: Any) -> list[Any]:
        limit = int(ibl_settings.BULK_MAX_ROWS)
        if isinstance(data, list) and len(data) > limit:
            raise serializers.ValidationError(f"At most {limit} ids per request.")
        return super().to_internal_value(data)


class UserAssignmentCreateSerializer(serializers.Serializer):
    credential_id = serializers.CharField(
        max_length=ENTITY_ID_MAX_LENGTH, help_text="The credential's entityId."
    )
    user_ids = BoundedListField(
        child=IdField(), help_text="The users' ids (1 to the bulk limit, 10,000 by default)."
    )
    department_mode = serializers.BooleanField(
        required=False,
        help_text="Department admins: true to act on the users and groups of your departments.",
    )


class GroupAssignmentCreateSerializer(serializers.Serializer):
    credential_id = serializers.CharField(
        max_length=ENTITY_ID_MAX_LENGTH, help_text="The credential's entityId."
    )
    group_ids = BoundedListField(
        child=IdField(), help_text="The user groups' ids (strings of digits, or integers)."
    )
    follow_membership = serializers.BooleanField(
        default=False,
        help_text="Also assign users who join the groups later (default false).",
    )
    department_mode = serializers.BooleanField(
        required=False,
        help_text="Department admins: true to act on the users and groups of your departments.",
    )


# Answers (documentation) ------------------------------------------------------------------


class UserAssignmentSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The assignment's id (use it to remove it).")
    credential_id = serializers.CharField()
    credential_name = serializers.CharField()
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    group_assignment_id = serializers.CharField(
        allow_null=True, help_text="The group assignment it came from; null when direct."
    )
    status = serializers.CharField(help_text="pending, completed or failed.")
    assertion = AssertionSerializer(allow_null=True)
    created = serializers.DateTimeField()


class GroupAssignmentSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The assignment's id (use it to remove it).")
    credential_id = serializers.CharField()
    group_id = serializers.IntegerField()
    group_name = serializers.CharField()
    member_count = serializers.IntegerField(help_text="The group's active members now.")
    status = serializers.CharField(help_text="From its job: pending, then completed or failed.")
    job = serializers.URLField(allow_null=True, help_text="The job's URL.")
    created = serializers.DateTimeField()


class FailedAssignmentSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    reason = serializers.CharField(help_text="user_not_found or user_not_in_department.")


class AssignResultSerializer(serializers.Serializer):
    successful_assignments = UserAssignmentSerializer(many=True)
    failed_assignments = FailedAssignmentSerializer(many=True)
    message = serializers.CharField()


class AssignEnvelopeSerializer(serializers.Serializer):
    status = EnvelopeStatusSerializer()
    result = AssignResultSerializer()


class JobEnvelopeSerializer(serializers.Serializer):
    status = EnvelopeStatusSerializer()
    result = BulkIssueJobSerializer()


class GroupAssignResultSerializer(serializers.Serializer):
    group_assignments = GroupAssignmentSerializer(many=True)
    job = BulkIssueJobSerializer()


class GroupAssignEnvelopeSerializer(serializers.Serializer):
    status = EnvelopeStatusSerializer()
    result = GroupAssignResultSerializer()


class UserAssignmentPageSerializer(serializers.Serializer):
    """One page of user assignments (`data`) with its paging fields."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # Built here because a declared field named ``data`` would hide ``.data``.
        return {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "count": serializers.IntegerField(),
            "data": UserAssignmentSerializer(many=True),
            "num_pages": serializers.IntegerField(),
            "page_number": serializers.IntegerField(),
            "max_page_size": serializers.IntegerField(),
        }


class GroupAssignmentPageSerializer(serializers.Serializer):
    """One page of group assignments (`data`) with its paging fields."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "count": serializers.IntegerField(),
            "data": GroupAssignmentSerializer(many=True),
            "num_pages": serializers.IntegerField(),
            "page_number": serializers.IntegerField(),
            "max_page_size": serializers.IntegerField(),
        }


class UserAssignmentListEnvelopeSerializer(serializers.Serializer):
    status = EnvelopeStatusSerializer()
    result = UserAssignmentPageSerializer()


class GroupAssignmentListEnvelopeSerializer(serializers.Serializer):
    status = EnvelopeStatusSerializer()
    result = GroupAssignmentPageSerializer()
