"""Reads: the assignments a caller may see or remove, the filters of the lists, and
the objects the API answers (built from rows already loaded: no query per row)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from rest_framework import exceptions
from rest_framework.request import Request

from ibl_core.api.representation import utc_text
from ibl_core.models import Platform, UserGroup, UserGroupMember
from ibl_core.sql.text import UNSTORABLE
from ibl_core.tenancy.platforms import department_mode_requested, platform_for_request
from ibl_core.tenancy.roles import managed_user_ids, roles_for
from ibl_credentials.assertions.shapes import assertion_object
from ibl_credentials.assignments.models import AssignmentStatus, GroupAssignment, UserAssignment
from ibl_credentials.models import BulkIssueJob

ASSIGNMENT_NOT_FOUND = "Assignment not found."

#: What :func:`user_assignment_object` reads through foreign keys: one join.
USER_RELATED = (
    "credential",
    "user",
    "group_assignment",
    "assertion__credential__issuer",
    "assertion__recipient",
)
GROUP_RELATED = ("credential", "group", "job")

#: A group assignment's status, from its job's.
JOB_STATUS = {
    BulkIssueJob.Status.QUEUED: AssignmentStatus.PENDING,
    BulkIssueJob.Status.RUNNING: AssignmentStatus.PENDING,
    BulkIssueJob.Status.SUCCEEDED: AssignmentStatus.COMPLETED,
    BulkIssueJob.Status.FAILED: AssignmentStatus.FAILED,
}


# Who sees what ------------------------------------------------------------------------


def managed_groups(request: Request, platform: Platform) -> QuerySet[UserGroup]:
    """The platform's groups the caller may assign to (the catalog's rule): all of them
    for platform and DM admins; for a department admin with ``department_mode=true``,
    those attached to a department they administer; none for anyone else."""
    groups = UserGroup.objects.filter(platform=platform)
    roles = roles_for(request, platform)
    if roles.manages_whole_platform:
        return groups
    if not department_mode_requested(request):
        return groups.none()
    return groups.filter(department_id__in=list(roles.administered_department_ids))


def readable_user_ids(request: Request, platform: Platform) -> QuerySet | None:
    """Whose assignments the caller may read: ``None`` for everyone's (platform and DM
    admins), the department members (department admins, ``department_mode=true``), or
    none (anyone else: they read their own)."""
    return managed_user_ids(request, platform)


def visible_user_assignments(request: Request, platform: Platform) -> QuerySet[UserAssignment]:
    """The user assignments the caller may read: all of the platform's (platform and DM
    admins), their departments' users' (department admins in department_mode), else
    their own."""
    found = UserAssignment.objects.filter(platform=platform)
    scope = readable_user_ids(request, platform)
    if scope is None:
        return found
    if department_mode_requested(request) and roles_for(request, platform).is_department_admin:
        return found.filter(user_id__in=scope)
    return found.filter(user_id=request.user.pk or 0)


def completed_user_assignments(request: Request, platform: Platform) -> QuerySet[UserAssignment]:
    """The list of ``GET assignments/users/``: completed assignments whose assertion is
    not revoked, newest first, with what their objects read."""
    return (
        visible_user_assignments(request, platform)
        .filter(status=AssignmentStatus.COMPLETED, assertion__revoked=False)
        .select_related(*USER_RELATED)
        .order_by("-created", "-id")
    )


def with_member_count(assignments: QuerySet[GroupAssignment]) -> QuerySet[GroupAssignment]:
    """``member_count``: the group's users who are active members of its platform now (a
    correlated subquery: a page counts the members of its own groups only)."""
    counted = (
        UserGroupMember.objects.filter(
            group=OuterRef("group"),
            user__is_active=True,
            user__platform_memberships__platform=OuterRef("platform"),
            user__platform_memberships__active=True,
        )
        .order_by()
        .values("group")
        .annotate(count=Count("*"))
        .values("count")
    )
    return assignments.annotate(
        member_count=Coalesce(Subquery(counted, output_field=IntegerField()), 0)
    )


def visible_group_assignments(request: Request, platform: Platform) -> QuerySet[GroupAssignment]:
    """The group assignments of the groups the caller may manage, newest first, with
    their member counts."""
    found = GroupAssignment.objects.filter(platform=platform)
    if not roles_for(request, platform).manages_whole_platform:
        found = found.filter(group__in=managed_groups(request, platform))
    return with_member_count(found.select_related(*GROUP_RELATED).order_by("-created", "-id"))


def removable_assignment(
    request: Request, platform: Platform, entity_id: str
) -> UserAssignment | GroupAssignment:
    """The assignment ``entity_id`` the caller may remove: a user assignment of a user
    they manage, or a group assignment of a group they manage. 404 otherwise (another
    platform's, or one they do not manage, as an unknown one)."""
    if not UNSTORABLE.search(entity_id):
        users = UserAssignment.objects.filter(platform=platform, entity_id=entity_id)
        scope = managed_user_ids(request, platform)
        if scope is not None:
            users = users.filter(user_id__in=scope)
        found: Any = users.select_related("assertion").first()
        if found is not None:
            return found
        groups = GroupAssignment.objects.filter(
            group__in=managed_groups(request, platform), entity_id=entity_id
        )
        found = groups.first()
        if found is not None:
            return found
    raise exceptions.NotFound(ASSIGNMENT_NOT_FOUND)


# Filters --------------------------------------------------------------------------------


class PlatformOrgFilter(django_filters.FilterSet):
    """``platform_org``: must name the path's platform (its org or key)."""

    platform_org = django_filters.CharFilter(
        method="filter_platform_org",
        max_length=255,
        help_text="The platform's org (or key); must name the platform of the path.",
    )

    def filter_platform_org(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        platform = platform_for_request(self.request, None)  # resolved from the path already
        if value not in (platform.org, platform.key):
            raise exceptions.ValidationError(
                {"platform_org": ["platform_org and the path name different platforms."]}
            )
        return queryset


class UserAssignmentFilter(PlatformOrgFilter):
    """``search``: part of the user's username, email or name, or of the credential's name."""

    search = django_filters.CharFilter(
        method="filter_search",
        max_length=255,
        help_text="Part of the username, email, first or last name, or credential name.",
    )

    class Meta:
        model = UserAssignment
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(user__username__icontains=value)
            | Q(user__email__icontains=value)
            | Q(user__first_name__icontains=value)
            | Q(user__last_name__icontains=value)
            | Q(credential__name__icontains=value)
        )


class GroupAssignmentFilter(PlatformOrgFilter):
    """``group_id``: the assignments of one group."""

    group_id = django_filters.NumberFilter(
        field_name="group_id", min_value=1, help_text="Only this group's assignments."
    )

    class Meta:
        model = GroupAssignment
        fields: list[str] = []


# Objects --------------------------------------------------------------------------------


def user_assignment_object(assignment: UserAssignment) -> dict[str, Any]:
    """A user assignment as the API answers it (loaded with :data:`USER_RELATED`)."""
    assertion = assignment.assertion
    return {
        "id": assignment.entity_id,
        "credential_id": assignment.credential.entity_id,
        "credential_name": assignment.credential.name,
        "user_id": assignment.user_id,
        "username": assignment.user.get_username(),
        "group_assignment_id": (
            assignment.group_assignment.entity_id  # type: ignore[union-attr]
            if assignment.group_assignment_id
            else None
        ),
        "status": assignment.status,
        "assertion": assertion_object(assertion) if assertion is not None else None,
        "created": utc_text(assignment.created),
    }


def job_url(request: Request, credential_id: str, job: BulkIssueJob) -> str:
    """Where the caller follows ``job`` (the credential's bulk issue job URL, with the
    request's platform and path user; ``department_mode=true`` kept when sent)."""
    path = reverse(
        "credentials-bulk-issue-job",
        kwargs={
            "org": request.parser_context["kwargs"]["org"],  # type: ignore[index]
            "user_id": request.parser_context["kwargs"]["user_id"],  # type: ignore[index]
            "entity_id": credential_id,
            "job_id": job.entity_id,
        },
    )
    if department_mode_requested(request):
        path += "?department_mode=true"
    return request.build_absolute_uri(path)


def group_assignment_object(request: Request, assignment: GroupAssignment) -> dict[str, Any]:
    """A group assignment as the API answers it (from :func:`visible_group_assignments`)."""
    job = assignment.job
    return {
        "id": assignment.entity_id,
        "credential_id": assignment.credential.entity_id,
        "group_id": assignment.group_id,
        "group_name": assignment.group.name,
        "member_count": assignment.member_count,  # type: ignore[attr-defined]
        "status": (
            JOB_STATUS[BulkIssueJob.Status(job.status)] if job else AssignmentStatus.COMPLETED
        ).value,
        "job": job_url(request, assignment.credential.entity_id, job) if job else None,
        "created": utc_text(assignment.created),
    }
