"""The over-time query parameters and answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers

from ibl_core.models import Department, Platform
from ibl_credentials.analytics import selectors
from ibl_credentials.analytics.selectors import (
    DEFAULT_DAYS,
    DEPARTMENT_NEEDS_MODE,
    EARLIEST_DATE,
    MAX_DAYS,
    MAX_ID,
    UNKNOWN_DEPARTMENT,
    OverTimeQuery,
)


class OverTimeQuerySerializer(serializers.Serializer):
    """The query parameters of the over-time analytics."""

    start_date = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text=(
            "First day counted (YYYY-MM-DD, UTC, included). Default: 29 days before "
            "end_date, so that 30 days are counted. Alone, it counts up to today."
        ),
    )
    end_date = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text=(
            "Last day counted (YYYY-MM-DD, UTC, included). Default: today (UTC). "
            f"At most {MAX_DAYS} days from start_date to end_date, both included."
        ),
    )
    department_mode = serializers.BooleanField(
        required=False,
        default=False,
        help_text="With department_id: count only what concerns that department's members.",
    )
    department_id = serializers.IntegerField(
        required=False,
        help_text=(
            "A department of this platform (with department_mode=true): count only the "
            "assertions of users who are members of it now. Credentials are the "
            "platform's and are not filtered."
        ),
    )

    def validate_start_date(self, value: dt.date) -> dt.date:
        return _not_too_early(value)

    def validate_end_date(self, value: dt.date) -> dt.date:
        return _not_too_early(value)

    def validate_department_id(self, value: int) -> Department:
        platform: Platform = self.context["platform"]
        department = None
        if 1 <= value <= MAX_ID:  # the database cannot look up a larger id
            department = Department.objects.filter(platform=platform, pk=value).first()
        if department is None:  # missing and another platform's: the same answer
            raise serializers.ValidationError(UNKNOWN_DEPARTMENT)
        return department

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        department = attrs.get("department_id")
        if department is not None and not attrs["department_mode"]:
            raise serializers.ValidationError({"department_id": [DEPARTMENT_NEEDS_MODE]})
        start, end = attrs.get("start_date"), attrs.get("end_date")
        # The errors name a parameter the caller sent.
        if end is None:
            end = selectors.utc_today()  # through the module: tests pin today
            blamed = "start_date"
        else:
            blamed = "end_date"
        if start is None:
            start = end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if end < start:
            message = (
                "end_date must not be before start_date."
                if blamed == "end_date"
                else "start_date must not be after today (the default end_date)."
            )
            raise serializers.ValidationError({blamed: [message]})
        span = (end - start).days + 1
        if span > MAX_DAYS:
            raise serializers.ValidationError(
                {
                    blamed: [
                        f"A range spans at most {MAX_DAYS} days (both dates included); "
                        f"this one spans {span}."
                    ]
                }
            )
        return {"query": OverTimeQuery(start=start, end=end, department=department)}


def _not_too_early(value: dt.date) -> dt.date:
    if value < EARLIEST_DATE:
        raise serializers.ValidationError(
            f"Dates before {EARLIEST_DATE.isoformat()} are not accepted."
        )
    return value


class OverTimeSerializer(serializers.Serializer):
    """Counts per UTC day of the range, zero-filled, and their sum."""

    data = serializers.DictField(  # type: ignore[assignment]  # the API's name for it
        child=serializers.IntegerField(),
        help_text='Every day of the range, in order, with its count: {"2026-03-01": 4, ...}.',
    )
    total = serializers.IntegerField(help_text="The sum of the counts of the range.")


class OvertimeMetaSerializer(serializers.Serializer):
    """Totals and changes: each period is compared with the equally long period just
    before it. A percentage is relative to that earlier period, with two decimals; 0.0
    when both are 0, null when only the earlier one is 0."""

    total = serializers.IntegerField(
        help_text="Every assertion counted, issued on or before end_date (not only in the range)."
    )
    change_range = serializers.IntegerField(
        help_text="Assertions of the range minus those of the equally long period before it."
    )
    change_last_seven_days = serializers.IntegerField(
        help_text="The 7 days ending on end_date minus the 7 days before them."
    )
    change_last_thirty_days = serializers.IntegerField(
        help_text="The 30 days ending on end_date minus the 30 days before them."
    )
    change_last_seven_days_percent = serializers.FloatField(
        allow_null=True, help_text="change_last_seven_days in percent of the 7 days before."
    )
    change_last_thirty_days_percent = serializers.FloatField(
        allow_null=True, help_text="change_last_thirty_days in percent of the 30 days before."
    )
    change_range_percent = serializers.FloatField(
        allow_null=True, help_text="change_range in percent of the period before the range."
    )


class OvertimeWithChangeInfoSerializer(OverTimeSerializer):
    """Counts per UTC day of the range, zero-filled, their sum, and how they changed."""

    meta = OvertimeMetaSerializer()
