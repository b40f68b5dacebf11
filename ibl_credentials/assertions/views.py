"""The assertion endpoints: issue (one, bulk), the lists, one assertion, the public read.

Thin: parse, call a selector or service, build the assertion object (``shapes``).
Access rules live in ``permissions``; the answers are the bare published shapes with
DRF's standard error body (no envelope).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api.memory import paused_cycle_collection
from ibl_core.api.views import PlatformScopedView
from ibl_core.conf import ibl_settings
from ibl_core.models import Platform
from ibl_core.sql.text import UNSTORABLE
from ibl_core.tenancy.platforms import department_mode_requested
from ibl_core.tenancy.roles import managed_user_ids
from ibl_credentials.assertions import jobs, schema, selectors, services
from ibl_credentials.assertions.pagination import AssertionPagination
from ibl_credentials.assertions.permissions import ASSERTION_DETAIL, ISSUERS, USER_ASSERTIONS
from ibl_credentials.assertions.serializers import (
    AssertionUpdateSerializer,
    BulkIssueSerializer,
    IssueSerializer,
)
from ibl_credentials.assertions.shapes import assertion_object, public_assertion_object
from ibl_credentials.base import CredentialsView
from ibl_credentials.models import Assertion, BulkIssueJob, Credential, Revocation
from ibl_credentials.openbadges.links import base_url
from ibl_credentials.providers import selectors as provider_selectors
from ibl_credentials.providers.shapes import external_sync_fields

REVOKED_DETAIL = "This assertion has been revoked."
PUBLIC_NOT_FOUND = "No assertion with this entityId."


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

    @schema.USER_ASSERTIONS_GET
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

    @schema.ASSERTION_DETAIL_GET
    def get(self, request: Request, org: str, user_id: str, entity_id: str) -> Response:
        return Response(self.detail_object(self.get_object()))

    @schema.ASSERTION_DETAIL_PUT
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

    #: The count of the page being read, when the view knows it better than the
    #: paginator's queryset count (``ActiveAssertions``).
    counted: Any = None

    def exact_total(self) -> Any:
        return self.counted

    @schema.CREDENTIAL_ASSERTIONS_GET
    def get(self, request: Request, org: str, user_id: str, entity_id: str) -> Response:
        query = selectors.ListQuery.from_request(request)
        platform = self.get_platform()
        if query == selectors.ListQuery() and managed_user_ids(request, platform) is None:
            # The usual request: every active assertion, for a whole-platform admin. The
            # same rows, read by statements compiled once (selectors.ActiveAssertions).
            credential = selectors.credential_with_issuer(platform, entity_id)
            active = selectors.ActiveAssertions(credential)
            self.counted = active.count
            return self.page_of(active)  # type: ignore[arg-type]
        credential = selectors.credential_of_platform(platform, entity_id)
        assertions = selectors.scoped_to_managed_users(
            request, platform, selectors.assertions_of_credential(credential)
        )
        return self.page_of(query.apply(assertions))

    @schema.CREDENTIAL_ASSERTIONS_POST
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
        recipient = services.recipient_for_issue(
            platform, identity, managed_user_ids(request, platform)
        )
        assertion, created = services.issue_assertion(
            credential=credential,
            recipient=recipient,
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

    @schema.BULK_ISSUE_POST
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

    @schema.BULK_ISSUE_JOB_GET
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

    @schema.PUBLIC_ASSERTION_GET
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
