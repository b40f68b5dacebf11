"""The OpenAPI description of :mod:`ibl_credentials.assertions.views`: one
decorator per operation, so the views hold only what they do."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from ibl_core.api.schema import error_responses
from ibl_credentials.assertions.serializers import (
    AssertionSerializer,
    AssertionUpdateSerializer,
    BulkIssueJobSerializer,
    BulkIssueResultSerializer,
    BulkIssueSerializer,
    IssueSerializer,
    PublicAssertionSerializer,
    RevokedSerializer,
)
from ibl_credentials.base import PATH_PARAMETERS
from ibl_credentials.providers.serializers import AssertionWithSyncSerializer

ENTITY_ID = OpenApiParameter(
    "entity_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The assertion's entityId."
)

CREDENTIAL_ID = OpenApiParameter(
    "entity_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The credential's entityId."
)

DEPARTMENT_MODE = OpenApiParameter(
    "department_mode",
    OpenApiTypes.BOOL,
    description="Department admins: act on the users of the departments you administer.",
)


LIST_PARAMETERS = [
    OpenApiParameter("course", OpenApiTypes.STR, description="Only assertions for this course."),
    OpenApiParameter(
        "include_revoked", OpenApiTypes.BOOL, description="Also revoked assertions (default false)."
    ),
    OpenApiParameter(
        "include_expired", OpenApiTypes.BOOL, description="Also expired assertions (default false)."
    ),
    DEPARTMENT_MODE,
]

_ISSUE_ERRORS = error_responses(
    e400="Invalid body, unknown user (not for department admins), or an item that is not in "
    "the catalog or not linked to the credential.",
    e401="Missing or invalid credentials.",
    e403="Not allowed, or (department admins) a recipient outside your departments.",
    e404="Unknown platform, path user or credential.",
)

USER_ASSERTIONS_GET = extend_schema(
    operation_id="credentials_orgs_users_assertions_retrieve",
    summary="A user's assertions",
    description=(
        "The assertions of the user in the path, newest first: the user themself, "
        "platform admins, DM admins, and department admins (department_mode=true) "
        "for users of their departments. Revoked and expired assertions are left "
        "out unless asked for."
    ),
    parameters=[*PATH_PARAMETERS, *LIST_PARAMETERS],
    responses={
        200: AssertionSerializer(many=True),
        **error_responses(
            e400="Invalid query parameter.",
            e401="Missing or invalid credentials.",
            e403="Not allowed.",
            e404="Unknown platform or path user, or a page past the end.",
        ),
    },
)

ASSERTION_DETAIL_GET = extend_schema(
    operation_id="credentials_orgs_users_assertions_retrieve2",
    summary="One assertion",
    description=(
        "Its recipient, and admins who manage the recipient (platform admins, DM "
        "admins, department admins with department_mode=true). Anyone else: 404."
    ),
    parameters=[*PATH_PARAMETERS, ENTITY_ID],
    responses={
        200: AssertionWithSyncSerializer,
        **error_responses(
            e401="Missing or invalid credentials.",
            e403="Not allowed.",
            e404="Unknown platform, path user or assertion.",
        ),
    },
)

ASSERTION_DETAIL_PUT = extend_schema(
    operation_id="credentials_orgs_users_assertions_update",
    summary="Revoke or answer an assertion",
    description=(
        'Admins who manage the recipient revoke it with {"revoked": true, '
        '"revocationReason": "..."} (a reason is required; revoking again changes '
        "nothing and keeps the first reason; un-revoking is 400). The recipient "
        'accepts or rejects it with {"acceptance": "Accepted" | "Rejected"}. Sending '
        "a field you may not change is 403. Answers the assertion."
    ),
    parameters=[*PATH_PARAMETERS, ENTITY_ID],
    request=AssertionUpdateSerializer,
    responses={
        200: AssertionWithSyncSerializer,
        **error_responses(
            e400="Invalid body, un-revoking, or answering a revoked assertion.",
            e401="Missing or invalid credentials.",
            e403="Not allowed to revoke, or not the recipient.",
            e404="Unknown platform, path user or assertion.",
        ),
    },
)

CREDENTIAL_ASSERTIONS_GET = extend_schema(
    operation_id="credentials_orgs_users_assertions_retrieve3",
    summary="A credential's assertions",
    description=(
        "Platform admins and DM admins see every assertion of the credential; "
        "department admins (department_mode=true) those of users of their "
        "departments. Same parameters and page as a user's assertions."
    ),
    parameters=[*PATH_PARAMETERS, CREDENTIAL_ID, *LIST_PARAMETERS],
    responses={
        200: AssertionSerializer(many=True),
        **error_responses(
            e400="Invalid query parameter.",
            e401="Missing or invalid credentials.",
            e403="Not allowed.",
            e404="Unknown platform, path user or credential, or a page past the end.",
        ),
    },
)

CREDENTIAL_ASSERTIONS_POST = extend_schema(
    operation_id="credentials_orgs_users_assertions_create",
    summary="Issue the credential to a member",
    description=(
        "Platform admins, DM admins, and department admins (department_mode=true in "
        "the body) for users of their departments. The recipient is a username, an "
        "email or a user id of a member; without recipient, the user of the path "
        "receives it (a platform admin names the learner in the path; anyone else "
        "may only name themself). At most one of course, program, pathway: a key of "
        "the platform's catalog (or an object with that key), and one of the "
        "credential's own items of that kind when it lists any. expires defaults to "
        "the credential's rule. entityId, issuedOn and credentialDetails are "
        "ignored; an empty string or object is the same as a field not sent (the "
        "published client sends its unset fields so). "
        "201 with the new assertion; 200 with the recipient's active assertion for "
        "the same item when there is one (an expired one is replaced)."
    ),
    parameters=[*PATH_PARAMETERS, CREDENTIAL_ID],
    request=IssueSerializer,
    responses={
        201: OpenApiResponse(AssertionSerializer, description="Issued."),
        200: OpenApiResponse(AssertionSerializer, description="Already held: that one."),
        **_ISSUE_ERRORS,
    },
)

BULK_ISSUE_POST = extend_schema(
    operation_id="credentials_orgs_users_assertions_bulk_create",
    summary="Issue the credential to many members",
    description=(
        "Who may: as for issuing one. users: 1 to 10,000 usernames, emails or user "
        "ids; plus the fields of a single issue (one item, narrative, evidence, "
        "metadata, expires). Answers the users as sent: issued, skipped, and the "
        "reason of each skipped one: already_issued, user_not_found, "
        "user_not_in_department (department admins: outside your departments, "
        "unknown or not a member), duplicate (the same user named again).\n\n"
        "A request naming more users than the server's threshold (by default "
        "10,000, so never unless the server lowers it), or sent with the header "
        "Prefer: respond-async, is answered 202 Accepted with a job (status "
        "queued) and a Location header: the job's URL. The users are issued in "
        "the background; GET the job until its status is succeeded (its result is "
        "then the body this request would have answered with 200) or failed "
        "(nothing was issued; error says why). Prefer: respond-async is confirmed "
        "with Preference-Applied: respond-async. Invalid requests are answered "
        "4xx at once, with no job."
    ),
    parameters=[
        *PATH_PARAMETERS,
        CREDENTIAL_ID,
        OpenApiParameter(
            "Prefer",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            description="respond-async: answer 202 with a job whatever the size.",
        ),
        OpenApiParameter(
            "Location",
            OpenApiTypes.URI,
            OpenApiParameter.HEADER,
            description="The job's URL.",
            response=[202],
        ),
        OpenApiParameter(
            "Preference-Applied",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            description="respond-async, when the request preferred it.",
            response=[202],
        ),
    ],
    request=BulkIssueSerializer,
    responses={
        200: BulkIssueResultSerializer,
        202: OpenApiResponse(
            BulkIssueJobSerializer,
            description="Accepted: the job to follow, at the URL of Location.",
        ),
        **_ISSUE_ERRORS,
        **error_responses(e413="Request body too large."),
    },
)

BULK_ISSUE_JOB_GET = extend_schema(
    operation_id="credentials_orgs_users_assertions_bulk_job_retrieve",
    summary="A bulk issue running in the background",
    description=(
        "The job a bulk issue answered 202 with (its Location). status: queued, "
        "running, succeeded (result: the body the bulk issue answers with 200: "
        "issued, skipped, reasons) or failed (error says why; nothing was issued). "
        "The job keeps its result. Who may: whoever may bulk-issue the credential; "
        "department admins (department_mode=true) see the jobs they sent. Another "
        "platform's job, or another requester's for a department admin, is 404, as "
        "an unknown one."
    ),
    parameters=[
        *PATH_PARAMETERS,
        CREDENTIAL_ID,
        OpenApiParameter(
            "job_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The job's id."
        ),
        DEPARTMENT_MODE,
    ],
    responses={
        200: BulkIssueJobSerializer,
        **error_responses(
            e400="Invalid query parameter.",
            e401="Missing or invalid credentials.",
            e403="Not allowed.",
            e404="Unknown platform, path user, credential or job.",
        ),
    },
)

PUBLIC_ASSERTION_GET = extend_schema(
    operation_id="credentials_public_assertions_retrieve",
    summary="An assertion, publicly",
    description=(
        "No authentication. The recipient is shown by name only. An unknown "
        "assertion is 404 with a detail; a revoked one is 404 with the reason, also "
        "once it has been deleted. Answers whatever the state of the assertion's "
        "platform, as the Open Badges documents do."
    ),
    parameters=[ENTITY_ID],
    auth=[],
    responses={
        200: PublicAssertionSerializer,
        404: OpenApiResponse(
            RevokedSerializer,
            description="Revoked (with revocationReason), or unknown (detail only).",
        ),
    },
)
