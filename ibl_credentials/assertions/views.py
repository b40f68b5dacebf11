"""The assertion endpoints: issue (one, bulk), the lists, one assertion, the public read.

Thin: parse, call a selector or service, build the assertion object (``shapes``).
Access rules live in ``permissions``; the answers are the bare published shapes with
DRF's standard error body (no envelope).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api.memory import paused_cycle_collection
from ibl_core.api.schema import error_responses
from ibl_core.api.views import PlatformScopedView
from ibl_core.conf import ibl_settings
from ibl_core.models import Platform
from ibl_core.sql.text import UNSTORABLE
from ibl_core.tenancy.platforms import department_mode_requested
from ibl_core.tenancy.roles import managed_user_ids
from ibl_credentials.assertions import jobs, selectors, services
from ibl_credentials.assertions.pagination import AssertionPagination
from ibl_credentials.assertions.permissions import ASSERTION_DETAIL, ISSUERS, USER_ASSERTIONS
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
from ibl_credentials.assertions.shapes import assertion_object, public_assertion_object
from ibl_credentials.base import PATH_PARAMETERS, CredentialsView
from ibl_credentials.models import Assertion, BulkIssueJob, Credential, Revocation
from ibl_credentials.openbadges.links import base_url
from ibl_credentials.providers import selectors as provider_selectors
from ibl_credentials.providers.serializers import AssertionWithSyncSerializer
from ibl_credentials.providers.shapes import external_sync_fields

REVOKED_DETAIL = "This assertion has been revoked."
PUBLIC_NOT_FOUND = "No assertion with this entityId."

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


class AssertionsView(CredentialsView):
    """What the assertion endpoints under ``users/{user_id}/`` share."""

    model = Assertion
    pagination_class: Any = AssertionPagination

    def platform_queryset(self, platform: Platform) -> QuerySet:
        return selectors.assertions_of_platform(platform)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # A malformed department_mode is a 400 for every caller, not only for the
        # department admins whose permission class reads it.
        department_mode_requested(request)

    def page_of(self, assertions: QuerySet[Assertion]) -> Response:
        page = self.paginate_queryset(assertions)
        return self.get_paginated_response([assertion_object(a) for a in page or []])


class UserAssertionsView(AssertionsView):
    """GET: the path user's assertions."""

    permission_classes = USER_ASSERTIONS

    @extend_schema(
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
    def get(self, request: Request, org: str, user_id: str) -> Response:
        query = selectors.ListQuery.from_request(request)
        user = self.get_path_user()
        return self.page_of(query.apply(self.get_queryset().filter(recipient=user)))


class AssertionDetailView(AssertionsView):
    """GET one assertion; PUT to revoke it (issuers) or answer it (the recipient)."""

    permission_classes = ASSERTION_DETAIL
    pagination_class = None

    def get_serializer_class(self) -> Any:
        return AssertionUpdateSerializer  # the browsable API's PUT form

    def get_object(self) -> Assertion:
        assertion = selectors.visible_assertion(
            self.request, self.get_platform(), self.kwargs["entity_id"]
        )
        self.check_object_permissions(self.request, assertion)
        return assertion

    def detail_object(self, assertion: Assertion) -> dict[str, Any]:
        """The assertion object, with its mirrors at external providers when it has any."""
        syncs = provider_selectors.syncs_of_assertion(assertion)
        return {**assertion_object(assertion), **external_sync_fields(syncs)}

    @extend_schema(
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
    def get(self, request: Request, org: str, user_id: str, entity_id: str) -> Response:
        return Response(self.detail_object(self.get_object()))

    @extend_schema(
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
    def put(self, request: Request, org: str, user_id: str, entity_id: str) -> Response:
        assertion = self.get_object()
        body = AssertionUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        assertion = services.update_assertion(assertion, body.validated_data)
        return Response(self.detail_object(assertion))


class CredentialAssertionsView(AssertionsView):
    """GET a credential's assertions; POST to issue it to one member."""

    permission_classes = ISSUERS

    def get_serializer_class(self) -> Any:
        return IssueSerializer  # the browsable API's POST form

    @extend_schema(
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
    def get(self, request: Request, org: str, user_id: str, entity_id: str) -> Response:
        query = selectors.ListQuery.from_request(request)
        platform = self.get_platform()
        credential = selectors.credential_of_platform(platform, entity_id)
        assertions = selectors.scoped_to_managed_users(
            request, platform, selectors.assertions_of_credential(credential)
        )
        return self.page_of(query.apply(assertions))

    @extend_schema(
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
    def post(self, request: Request, org: str, user_id: str, entity_id: str) -> Response:
        platform = self.get_platform()
        credential = selectors.credential_of_platform(platform, entity_id)
        body = IssueSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        path_user = self.get_path_user()
        if "recipient" in data:  # the path user issues, as themself
            identity, issued_by = data["recipient"]["identity"], path_user
        else:  # the published client's body: the path user receives it
            identity, issued_by = path_user.get_username(), request.user
        recipient_id = services.recipient_for_issue(
            platform, identity, managed_user_ids(request, platform)
        )
        assertion, created = services.issue_assertion(
            credential=credential,
            recipient_id=recipient_id,
            details=services.issue_details(platform, credential, data),
            issued_by=issued_by,
        )
        return Response(
            assertion_object(assertion),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class BulkIssueView(AssertionsView):
    """POST: issue a credential to many members at once."""

    permission_classes = ISSUERS
    pagination_class = None
    write_throttle_scope = "bulk"

    def max_body_bytes(self) -> int:
        return int(ibl_settings.BULK_MAX_BODY_BYTES)

    def get_serializer_class(self) -> Any:
        return BulkIssueSerializer  # the browsable API's POST form

    @extend_schema(
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
    def post(self, request: Request, org: str, user_id: str, entity_id: str) -> Response:
        platform = self.get_platform()
        credential = selectors.credential_of_platform(platform, entity_id)
        with paused_cycle_collection():  # thousands of users: see ibl_core/api/memory.py
            body = BulkIssueSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            data = body.validated_data
            details = services.issue_details(platform, credential, data)
            prefer_async = jobs.prefers_respond_async(request)
            if jobs.runs_as_job(len(data["users"]), prefer_async=prefer_async):
                job = jobs.queue_bulk_issue(
                    credential=credential,
                    identities=data["users"],
                    details=details,
                    issued_by_id=self.get_path_user().pk,
                    requested_by_id=request.user.pk,
                    department_mode=department_mode_requested(request),
                    base_url=base_url(request),
                )
                return self.accepted(job, credential, prefer_async=prefer_async)
            outcome = services.bulk_issue(
                credential=credential,
                identities=data["users"],
                details=details,
                issued_by_id=self.get_path_user().pk,
                scope=managed_user_ids(request, platform),
            )
        return Response(
            {"issued": outcome.issued, "skipped": outcome.skipped, "reasons": outcome.reasons}
        )

    def accepted(
        self, job: BulkIssueJob, credential: Credential, *, prefer_async: bool
    ) -> Response:
        """202 with the job, where to follow it, and the preference honoured. A
        department admin's Location keeps ``department_mode=true``: their GET needs it."""
        path = reverse(
            "credentials-bulk-issue-job",
            kwargs={**self.kwargs, "entity_id": credential.entity_id, "job_id": job.entity_id},
        )
        if job.request["department_mode"]:
            path += "?department_mode=true"
        headers = {"Location": self.request.build_absolute_uri(path)}
        if prefer_async:
            headers["Preference-Applied"] = "respond-async"
        return Response(
            jobs.job_object(job, credential), status=status.HTTP_202_ACCEPTED, headers=headers
        )


class BulkIssueJobView(AssertionsView):
    """GET a bulk issue job answered 202: its status, then its result."""

    permission_classes = ISSUERS
    pagination_class = None

    @extend_schema(
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
    def get(
        self, request: Request, org: str, user_id: str, entity_id: str, job_id: str
    ) -> Response:
        platform = self.get_platform()
        credential = selectors.credential_of_platform(platform, entity_id)
        job = jobs.job_of_credential(credential, job_id, jobs.visible_jobs(request, platform))
        return Response(jobs.job_object(job, credential))


class PublicAssertionView(PlatformScopedView):
    """GET an assertion without authentication (a credential's public page)."""

    authentication_classes: list[Any] = []  # a token sent along is ignored, never a 401
    permission_classes = [AllowAny]

    @extend_schema(
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
    def get(self, request: Request, entity_id: str) -> Response:
        assertion = None
        if not UNSTORABLE.search(entity_id):
            assertion = selectors.public_assertions().filter(entity_id=entity_id).first()
        if assertion is None:
            revocation = None
            if not UNSTORABLE.search(entity_id):
                revocation = Revocation.objects.filter(entity_id=entity_id).first()
            if revocation is None:
                return Response({"detail": PUBLIC_NOT_FOUND}, status=status.HTTP_404_NOT_FOUND)
            return Response(
                {"detail": REVOKED_DETAIL, "revocationReason": revocation.revocation_reason},
                status=status.HTTP_404_NOT_FOUND,
            )
        if assertion.revoked:
            return Response(
                {"detail": REVOKED_DETAIL, "revocationReason": assertion.revocation_reason},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(public_assertion_object(assertion))
