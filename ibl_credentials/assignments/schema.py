"""The OpenAPI text of the assignment endpoints (``extend_schema`` arguments), kept out
of the views. Operation ids are the published client's (``iblai`` 4.202.2)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from ibl_credentials.assignments.serializers import (
    AssignEnvelopeSerializer,
    GroupAssignEnvelopeSerializer,
    GroupAssignmentCreateSerializer,
    GroupAssignmentListEnvelopeSerializer,
    JobEnvelopeSerializer,
    UserAssignmentCreateSerializer,
    UserAssignmentListEnvelopeSerializer,
)
from ibl_credentials.base import ACCESS_ERRORS, PATH_PARAMETERS, enveloped_errors
from ibl_credentials.credentials.schema import PAGE_PARAMETERS

DEPARTMENT_MODE = OpenApiParameter(
    "department_mode",
    OpenApiTypes.BOOL,
    description="Department admins: act on the users and groups of your departments.",
)
PLATFORM_ORG = OpenApiParameter(
    "platform_org",
    OpenApiTypes.STR,
    description="The platform's org (or key); must name the platform of the path.",
)
LOCATION = OpenApiParameter(
    "Location",
    OpenApiTypes.URI,
    OpenApiParameter.HEADER,
    description="The job's URL.",
    response=[202],
)
_WRITE_ERRORS = enveloped_errors(
    e400="Invalid body, unknown credential or group (in the envelope).",
    **ACCESS_ERRORS,
    e404="Unknown platform or path user.",
)

USERS_LIST: dict[str, Any] = {
    "operation_id": "credentials_orgs_users_assignments_users_retrieve",
    "summary": "Completed user assignments, with their assertions",
    "description": (
        "Completed assignments whose assertion is not revoked, newest first, each with "
        "its assertion. Platform admins and DM admins see every user's; department "
        "admins (department_mode=true) their departments' users'; anyone else their own. "
        "`search` matches the username, email, first or last name, or the credential's "
        "name. Paged by `page` and `page_size` (default 10, at most 100). A caller who "
        'may see none: 403 "You don\'t have permission to view these assignments". '
        "Errors use the envelope."
    ),
    "parameters": [
        *PATH_PARAMETERS,
        OpenApiParameter(
            "search", OpenApiTypes.STR, description="Part of the user's or credential's name."
        ),
        PLATFORM_ORG,
        DEPARTMENT_MODE,
        *PAGE_PARAMETERS,
    ],
    "responses": {
        200: UserAssignmentListEnvelopeSerializer,
        **enveloped_errors(
            e400="Invalid query parameter (in the envelope).",
            **ACCESS_ERRORS,
            e404="Unknown platform or path user, or a page past the end.",
        ),
    },
}

USERS_CREATE: dict[str, Any] = {
    "operation_id": "credentials_orgs_users_assignments_users_create",
    "summary": "Assign a credential to users",
    "description": (
        "Platform admins, DM admins, and department admins (department_mode=true) for "
        "users of their departments. One assignment per user, each carried out by "
        "issuing the credential (as a single issue: events, Open Badges documents, "
        "status list). Assigning again changes nothing. user_ids: 1 to 10,000 user ids. "
        "Answers 201 (200 when nothing was new) with successful_assignments, "
        "failed_assignments (user_not_in_department is decided first, then "
        "user_not_found) and a message. More users than the bulk issue's threshold: "
        "202 with the job (Location: its URL), whose result names the users by id."
    ),
    "parameters": [*PATH_PARAMETERS, LOCATION],
    "request": UserAssignmentCreateSerializer,
    "responses": {
        201: OpenApiResponse(AssignEnvelopeSerializer, description="Assigned."),
        200: OpenApiResponse(AssignEnvelopeSerializer, description="Nothing new."),
        202: OpenApiResponse(JobEnvelopeSerializer, description="Accepted: follow the job."),
        **_WRITE_ERRORS,
    },
}

GROUPS_LIST: dict[str, Any] = {
    "operation_id": "credentials_orgs_users_assignments_groups_retrieve",
    "summary": "Group assignments",
    "description": (
        "Platform admins and DM admins: every group assignment; department admins "
        "(department_mode=true): those of groups attached to their departments. Each "
        "with the group's member count now and the status of its job (pending, "
        "completed, failed) and the job's URL. `group_id` keeps one group's. Paged as "
        "the user assignments."
    ),
    "parameters": [
        *PATH_PARAMETERS,
        OpenApiParameter("group_id", OpenApiTypes.INT, description="Only this group's."),
        PLATFORM_ORG,
        DEPARTMENT_MODE,
        *PAGE_PARAMETERS,
    ],
    "responses": {
        200: GroupAssignmentListEnvelopeSerializer,
        **enveloped_errors(
            e400="Invalid query parameter (in the envelope).",
            **ACCESS_ERRORS,
            e404="Unknown platform or path user, or a page past the end.",
        ),
    },
}

GROUPS_CREATE: dict[str, Any] = {
    "operation_id": "credentials_orgs_users_assignments_groups_create",
    "summary": "Assign a credential to user groups",
    "description": (
        "Platform admins, DM admins, and department admins (department_mode=true) for "
        "groups attached to their departments. Always 202: one group assignment per "
        "group and one job (Location) that assigns every current member. With "
        "follow_membership true, users who join a group later are assigned too "
        "(default false: only the members at the time). Assigning a group again "
        "updates follow_membership and assigns its members again (nothing changes for "
        "those assigned)."
    ),
    "parameters": [*PATH_PARAMETERS, LOCATION],
    "request": GroupAssignmentCreateSerializer,
    "responses": {
        202: OpenApiResponse(
            GroupAssignEnvelopeSerializer, description="Accepted: follow the job."
        ),
        **_WRITE_ERRORS,
    },
}

DESTROY: dict[str, Any] = {
    "operation_id": "credentials_orgs_users_assignments_destroy",
    "summary": "Remove an assignment (revokes)",
    "description": (
        "Platform admins, DM admins, and department admins (department_mode=true) for "
        "their departments' users and groups. A user assignment: its assertion is "
        'revoked (reason "assignment removed"), permanently. A group assignment: its '
        "user assignments are removed and their assertions revoked. 204. Another "
        "platform's assignment, or one you do not manage: 404."
    ),
    "parameters": [
        *PATH_PARAMETERS,
        OpenApiParameter(
            "assignment_id",
            OpenApiTypes.STR,
            OpenApiParameter.PATH,
            description="The assignment's id (a user or a group assignment).",
        ),
        DEPARTMENT_MODE,
    ],
    "responses": {
        204: OpenApiResponse(description="Removed."),
        **enveloped_errors(**ACCESS_ERRORS, e404="Unknown platform, path user or assignment."),
    },
}
