"""Issued assertions and created credentials over time, per platform and per course."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api.views import PlatformScopedView
from ibl_core.models import Platform
from ibl_core.tenancy.platforms import platform_for_request
from ibl_credentials.analytics.schema import over_time_schema
from ibl_credentials.analytics.selectors import (
    OverTimeQuery,
    assertions_counted,
    change_meta,
    counts_per_day,
)
from ibl_credentials.analytics.serializers import (
    OverTimeQuerySerializer,
    OverTimeSerializer,
    OvertimeWithChangeInfoSerializer,
)
from ibl_credentials.models import Credential, ItemKind
from ibl_credentials.permissions import CREDENTIALS_MEMBER, IsPlatformAdminOrDMAdmin


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

    @over_time_schema(
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

    @over_time_schema(
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

    @over_time_schema(
        "credentials_orgs_users_course_assertions_over_time_retrieve",
        "Course assertions issued per day",
        "Counts the platform's assertions earned for a course by the day they were "
        "issued, revoked ones included. With department_mode=true and department_id, "
        "only those of the department's current members.",
        OverTimeSerializer,
    )
    def get(self, request: Request, org: str, user_id: str) -> Response:
        return super().get(request, org, user_id)
