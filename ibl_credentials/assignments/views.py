"""The assignment endpoints: parse, call a selector or service, build the objects.

Thin: who may call is in ``permissions``, reads in ``selectors``, writes in
``services``, the OpenAPI text in ``schema``. Answers and errors use the credentials'
envelope; lists are paged as the credential list is.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api import envelope
from ibl_core.api.filter_backends import PlatformFilterBackend
from ibl_core.models import Platform
from ibl_core.tenancy.platforms import department_mode_requested
from ibl_core.tenancy.roles import managed_user_ids
from ibl_credentials.assertions import jobs
from ibl_credentials.assignments import schema, selectors, services
from ibl_credentials.assignments.models import GroupAssignment, UserAssignment
from ibl_credentials.assignments.permissions import ASSIGNERS, ASSIGNMENT_READERS
from ibl_credentials.assignments.serializers import (
    GroupAssignmentCreateSerializer,
    UserAssignmentCreateSerializer,
)
from ibl_credentials.base import CredentialsView
from ibl_credentials.credentials.views import CredentialPagePagination
from ibl_credentials.models import BulkIssueJob, Credential
from ibl_credentials.openbadges.links import base_url

ACCEPTED = "Accepted"


class AssignmentPagination(CredentialPagePagination):
    items_description = "Assignments"


class AssignmentsView(envelope.EnvelopeErrorsMixin, CredentialsView):
    """What the assignment endpoints share: the envelope, the paging, ``department_mode``."""

    pagination_class = AssignmentPagination
    filter_backends = [PlatformFilterBackend]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        department_mode_requested(request)  # malformed: 400 for every caller

    def page_of(self, queryset: QuerySet, build: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(queryset))
        return self.get_paginated_response([build(item) for item in page or []])

    def accepted(self, result: Any, credential: Credential, job: BulkIssueJob) -> Response:
        """202 in the envelope, with the job's URL in Location."""
        location = selectors.job_url(self.request, credential.entity_id, job)
        return Response(
            envelope.success(result, ACCEPTED),
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location},
        )


class UserAssignmentsView(AssignmentsView):
    """GET the completed user assignments; POST to assign a credential to users."""

    model = UserAssignment
    filterset_class = selectors.UserAssignmentFilter

    def get_permissions(self) -> list[Any]:
        readers = ASSIGNMENT_READERS if self.request.method == "GET" else ASSIGNERS
        return [permission() for permission in readers]

    def platform_queryset(self, platform: Platform) -> QuerySet:
        return selectors.completed_user_assignments(self.request, platform)

    def get_serializer_class(self) -> Any:
        return UserAssignmentCreateSerializer  # the browsable API's POST form

    @extend_schema(**schema.USERS_LIST)
    def get(self, request: Request, org: str, user_id: str) -> Response:
        return self.page_of(self.get_queryset(), selectors.user_assignment_object)

    @extend_schema(**schema.USERS_CREATE)
    def post(self, request: Request, org: str, user_id: str) -> Response:
        platform = self.get_platform()
        body = UserAssignmentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        credential = services.credential_for_assignment(platform, data["credential_id"])
        user_ids = list(dict.fromkeys(data["user_ids"]))
        assigner = self.get_path_user()
        prefer_async = jobs.prefers_respond_async(request)
        if jobs.runs_as_job(len(user_ids), prefer_async=prefer_async):
            job = services.queue_user_assignment(
                credential=credential,
                user_ids=user_ids,
                assigned_by_id=assigner.pk,
                requested_by_id=request.user.pk,
                department_mode=department_mode_requested(request),
                base_url=base_url(request),
            )
            return self.accepted(jobs.job_object(job, credential), credential, job)
        outcome = services.assign_users(
            credential=credential,
            user_ids=user_ids,
            assigned_by_id=assigner.pk,
            scope=managed_user_ids(request, platform),
        )
        assignments = services.assignments_of(credential, outcome.assigned)
        result = {
            "successful_assignments": [selectors.user_assignment_object(a) for a in assignments],
            "failed_assignments": [
                {"user_id": failed_id, "reason": reason} for failed_id, reason in outcome.failed
            ],
            "message": services.outcome_message(outcome),
        }
        if outcome.changed:
            return Response(
                envelope.success(result, envelope.CREATED), status=status.HTTP_201_CREATED
            )
        return Response(envelope.success(result))


class GroupAssignmentsView(AssignmentsView):
    """GET the group assignments; POST to assign a credential to groups (a job)."""

    model = GroupAssignment
    permission_classes = ASSIGNERS
    filterset_class = selectors.GroupAssignmentFilter

    def platform_queryset(self, platform: Platform) -> QuerySet:
        return selectors.visible_group_assignments(self.request, platform)

    def get_serializer_class(self) -> Any:
        return GroupAssignmentCreateSerializer  # the browsable API's POST form

    def group_object(self, assignment: GroupAssignment) -> dict[str, Any]:
        return selectors.group_assignment_object(self.request, assignment)

    @extend_schema(**schema.GROUPS_LIST)
    def get(self, request: Request, org: str, user_id: str) -> Response:
        return self.page_of(self.get_queryset(), self.group_object)

    @extend_schema(**schema.GROUPS_CREATE)
    def post(self, request: Request, org: str, user_id: str) -> Response:
        platform = self.get_platform()
        body = GroupAssignmentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        credential = services.credential_for_assignment(platform, data["credential_id"])
        groups = services.groups_for_assignment(
            selectors.managed_groups(request, platform), data["group_ids"]
        )
        assignments, job = services.assign_groups(
            credential=credential,
            groups=groups,
            follow_membership=data["follow_membership"],
            assigned_by_id=self.get_path_user().pk,
            requested_by_id=request.user.pk,
            department_mode=department_mode_requested(request),
            base_url=base_url(request),
        )
        order = {assignment.pk: n for n, assignment in enumerate(assignments)}
        found = self.get_queryset().filter(pk__in=list(order))
        result = {
            "group_assignments": [
                self.group_object(a) for a in sorted(found, key=lambda a: order[a.pk])
            ],
            "job": jobs.job_object(job, credential),
        }
        return self.accepted(result, credential, job)


class AssignmentDetailView(AssignmentsView):
    """DELETE a user or group assignment (revoking what it issued)."""

    model = UserAssignment
    permission_classes = ASSIGNERS
    pagination_class: Any = None

    def platform_queryset(self, platform: Platform) -> QuerySet:
        return UserAssignment.objects.filter(platform=platform)

    @extend_schema(**schema.DESTROY)
    def delete(self, request: Request, org: str, user_id: str, assignment_id: str) -> Response:
        assignment = selectors.removable_assignment(request, self.get_platform(), assignment_id)
        services.remove_assignment(assignment)
        return Response(status=status.HTTP_204_NO_CONTENT)
