"""Counts per day of a platform's assertions and credentials (contract
``credentials-lifecycle.md``, "Analytics").

Every answer is one grouped query (rows per UTC day between two dates), zero-filled
in Python, so the cost does not grow with the number of days asked for. The
``meta`` of ``assertions-over-time`` adds one aggregate with a conditional count per
period it compares.

Days are UTC days whatever ``TIME_ZONE`` says: an assertion issued at 23:30 UTC on
1 March counts on 1 March everywhere. Issuance is an event: assertions revoked or
superseded since are still counted on the day they were issued.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api.schema import error_responses
from ibl_core.api.views import PlatformScopedView
from ibl_core.models import Department, DepartmentMember, Platform
from ibl_core.tenancy.platforms import platform_for_request
from ibl_credentials.models import Assertion, Credential, ItemKind
from ibl_credentials.permissions import CREDENTIALS_MEMBER, IsPlatformAdminOrDMAdmin
from ibl_credentials.views import PATH_PARAMETERS

UTC = dt.UTC
DEFAULT_DAYS = 30
MAX_DAYS = 366
EARLIEST_DATE = dt.date(1900, 1, 1)
_MAX_ID = 2**63 - 1

UNKNOWN_DEPARTMENT = "Not a department of this platform."
DEPARTMENT_NEEDS_MODE = "department_id filters only with department_mode=true."


def utc_today() -> dt.date:
    """Today's date in UTC: the default end of a range."""
    return dt.datetime.now(UTC).date()


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=UTC)


def day_end(day: dt.date) -> dt.datetime:
    # The last instant of the day rather than the next midnight: 9999-12-31 has no next day.
    return dt.datetime.combine(day, dt.time.max, tzinfo=UTC)


def within(field: str, first: dt.date, last: dt.date) -> Q:
    """``field`` falls on one of the UTC days from ``first`` to ``last``, both included."""
    return Q(**{f"{field}__gte": day_start(first), f"{field}__lte": day_end(last)})


# Query parameters ------------------------------------------------------------------


@dataclass(frozen=True)
class OverTimeQuery:
    """What one over-time request asks for, validated."""

    start: dt.date
    end: dt.date
    department: Department | None

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1)]


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
        if 1 <= value <= _MAX_ID:  # the database cannot look up a larger id
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
            end = utc_today()
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


# Counting ------------------------------------------------------------------------------


def counts_per_day(queryset: QuerySet, field: str, query: OverTimeQuery) -> dict[str, int]:
    """``{"YYYY-MM-DD": n}`` for every day of the range, in order: one grouped query."""
    rows = (
        queryset.filter(within(field, query.start, query.end))
        .annotate(day=TruncDate(field, tzinfo=UTC))
        .values("day")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("day", "count")
    )
    found = dict(rows)
    return {day.isoformat(): found.get(day, 0) for day in query.days}


def change_percent(later: int, earlier: int) -> float | None:
    """How much ``later`` grew from ``earlier``, in percent of it (two decimals).

    From nothing to nothing is no change (0.0); from nothing to something has no
    percentage (``None``).
    """
    if earlier == 0:
        return 0.0 if later == 0 else None
    return round((later - earlier) * 100 / earlier, 2)


def change_meta(queryset: QuerySet, field: str, query: OverTimeQuery, in_range: int) -> dict:
    """The ``meta`` of ``assertions-over-time``: one aggregate query.

    Each period is compared with the equally long one just before it: the range, and
    the last 7 and 30 days ending on ``end_date``.
    """
    end, length = query.end, len(query.days)

    def days_before(first: dt.date, count: int) -> Q:
        return within(field, first - dt.timedelta(days=count), first - dt.timedelta(days=1))

    last_7, last_30 = end - dt.timedelta(days=6), end - dt.timedelta(days=29)
    counts = queryset.filter(**{f"{field}__lte": day_end(end)}).aggregate(
        total=Count("pk"),
        before_range=Count("pk", filter=days_before(query.start, length)),
        last_7=Count("pk", filter=within(field, last_7, end)),
        before_7=Count("pk", filter=days_before(last_7, 7)),
        last_30=Count("pk", filter=within(field, last_30, end)),
        before_30=Count("pk", filter=days_before(last_30, 30)),
    )
    return {
        "total": counts["total"],
        "change_range": in_range - counts["before_range"],
        "change_last_seven_days": counts["last_7"] - counts["before_7"],
        "change_last_thirty_days": counts["last_30"] - counts["before_30"],
        "change_last_seven_days_percent": change_percent(counts["last_7"], counts["before_7"]),
        "change_last_thirty_days_percent": change_percent(counts["last_30"], counts["before_30"]),
        "change_range_percent": change_percent(in_range, counts["before_range"]),
    }


def assertions_counted(platform: Platform, query: OverTimeQuery) -> QuerySet[Assertion]:
    """The platform's assertions, of the department's current members when one is asked."""
    assertions = Assertion.objects.filter(platform=platform)
    if query.department is not None:
        members = DepartmentMember.objects.filter(department=query.department)
        assertions = assertions.filter(recipient_id__in=members.values("user_id"))
    return assertions


# Response shapes (documentation) -----------------------------------------------------------


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


# Views -----------------------------------------------------------------------------------

_ERRORS = error_responses(
    e400="Invalid start_date, end_date, department_mode or department_id.",
    e401="Missing or invalid credentials.",
    e403="Not a platform admin of {org} (nor a DM admin).",
    e404="Unknown platform, or unknown path user.",
)
_ACCESS = (
    "Platform admins of {org} and DM admins. Days are UTC days; start_date and end_date "
    f"are both included (default: the last {DEFAULT_DAYS} days ending today; at most "
    f"{MAX_DAYS} days). "
)


def _schema(operation_id: str, summary: str, description: str, response: Any) -> Any:
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=_ACCESS + description,
        parameters=[*PATH_PARAMETERS, OverTimeQuerySerializer],
        responses={200: response, **_ERRORS},
    )


class OverTimeView(PlatformScopedView):
    """A count per day of the platform's rows between two dates."""

    permission_classes = [*CREDENTIALS_MEMBER, IsPlatformAdminOrDMAdmin]
    #: The datetime column whose UTC day a row counts on.
    date_field = "created"

    def counted(self, platform: Platform, query: OverTimeQuery) -> QuerySet:
        """The rows to count (not yet limited to the range)."""
        raise NotImplementedError

    def answer(self, request: Request) -> tuple[QuerySet, OverTimeQuery, dict[str, Any]]:
        platform = platform_for_request(request, self)
        # A plain dict, not the QueryDict: DRF reads "" in form-like data as "not
        # given", and the schema promises a date (an empty date is a 400 here).
        parameters = OverTimeQuerySerializer(
            data=request.query_params.dict(), context={"platform": platform}
        )
        parameters.is_valid(raise_exception=True)
        query: OverTimeQuery = parameters.validated_data["query"]
        rows = self.counted(platform, query)
        data = counts_per_day(rows, self.date_field, query)
        return rows, query, {"data": data, "total": sum(data.values())}

    def get(self, request: Request, org: str, user_id: str) -> Response:
        _, _, body = self.answer(request)
        return Response(body)


class AssertionsOverTimeView(OverTimeView):
    """Assertions issued per day, with the changes from the periods before."""

    date_field = "issued_on"

    def counted(self, platform: Platform, query: OverTimeQuery) -> QuerySet:
        return assertions_counted(platform, query)

    @_schema(
        "credentials_orgs_users_assertions_over_time_retrieve",
        "Assertions issued per day",
        "Counts the platform's assertions by the day they were issued, revoked ones "
        "included. With department_mode=true and department_id, only those of the "
        "department's current members. `meta` compares the range, and the last 7 and 30 "
        "days ending on end_date, with the equally long periods just before them.",
        OvertimeWithChangeInfoSerializer,
    )
    def get(self, request: Request, org: str, user_id: str) -> Response:
        rows, query, body = self.answer(request)
        body["meta"] = change_meta(rows, self.date_field, query, body["total"])
        return Response(body)


class CredentialsOverTimeView(OverTimeView):
    """Credentials (badge classes) created per day."""

    def counted(self, platform: Platform, query: OverTimeQuery) -> QuerySet:
        # A credential belongs to the platform, not to a department: never filtered.
        return Credential.objects.filter(platform=platform)

    @_schema(
        "credentials_orgs_users_credentials_over_time_retrieve",
        "Credentials created per day",
        "Counts the platform's credentials (badge classes) by the day they were created. "
        "Credentials belong to the whole platform: department_id is checked but does not "
        "filter them.",
        OverTimeSerializer,
    )
    def get(self, request: Request, org: str, user_id: str) -> Response:
        return super().get(request, org, user_id)


class CourseAssertionsOverTimeView(OverTimeView):
    """Assertions issued per day for completing a course."""

    date_field = "issued_on"

    def counted(self, platform: Platform, query: OverTimeQuery) -> QuerySet:
        return assertions_counted(platform, query).filter(item_kind=ItemKind.COURSE)

    @_schema(
        "credentials_orgs_users_course_assertions_over_time_retrieve",
        "Course assertions issued per day",
        "Counts the platform's assertions earned for a course by the day they were "
        "issued, revoked ones included. With department_mode=true and department_id, "
        "only those of the department's current members.",
        OverTimeSerializer,
    )
    def get(self, request: Request, org: str, user_id: str) -> Response:
        return super().get(request, org, user_id)
