"""Credentials (badge classes): list, create, read, change, delete, and the course list."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api import envelope
from ibl_core.api.filter_backends import PlatformFilterBackend
from ibl_core.api.pagination import CredentialsPagePagination
from ibl_core.conf import ibl_settings
from ibl_core.models import Platform
from ibl_core.sql.text import UNSTORABLE
from ibl_credentials.base import (
    ACCESS_ERRORS,
    PATH_PARAMETERS,
    UPDATED,
    CredentialsView,
    LiteralSegmentsAreNotIds,
    deleted,
    enveloped_errors,
    not_found,
)
from ibl_credentials.credentials.filters import CredentialFilter, PublicCredentialsUnlessAdmin
from ibl_credentials.credentials.selectors import credentials_of_platform, linked_to
from ibl_credentials.credentials.serializers import (
    CourseCredentialListEnvelopeSerializer,
    CredentialEnvelopeSerializer,
    CredentialListEnvelopeSerializer,
    CredentialUpdateSerializer,
    CredentialWriteSerializer,
)
from ibl_credentials.credentials.services import (
    create_credential,
    delete_credential,
    update_credential,
)
from ibl_credentials.credentials.shapes import credential_object
from ibl_credentials.envelopes import StatusOnlySerializer
from ibl_credentials.models import Credential, ItemKind
from ibl_credentials.permissions import CREDENTIALS


class CredentialPagePagination(CredentialsPagePagination):
    """``page`` / ``page_size`` in the envelope: ``CREDENTIAL_LIST_PAGE_SIZE`` (10) by
    default, larger than ``CREDENTIAL_LIST_MAX_PAGE_SIZE`` (100) clamped."""

    items_description = "Credentials"

    def __init__(self) -> None:
        # Read per request (a paginator is made per view), so a changed setting counts.
        self.default_page_size = int(ibl_settings.CREDENTIAL_LIST_PAGE_SIZE)
        self.max_page_size = int(ibl_settings.CREDENTIAL_LIST_MAX_PAGE_SIZE)


class CourseCredentialPagination(CredentialPagePagination):
    items_name = "results"


class CredentialQuerysetMixin(CredentialsView):
    """The platform's credentials, each with what its object shows."""

    model = Credential

    def platform_queryset(self, platform: Platform) -> QuerySet:
        return credentials_of_platform(platform)

    def credential_page(self) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        assert page is not None
        return self.get_paginated_response([credential_object(c) for c in page])

    def fetched(self, credential: Credential) -> dict[str, Any]:
        """The object of a credential just written, read back with everything it shows."""
        return credential_object(self.get_queryset().get(pk=credential.pk))


PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="Page number (default 1)."),
    OpenApiParameter(
        "page_size",
        OpenApiTypes.INT,
        description="Results per page (default 10; larger than 100 is clamped).",
    ),
]


FILTER_PARAMETERS = [
    OpenApiParameter(
        "search", OpenApiTypes.STR, description="Part of the name or the description."
    ),
    OpenApiParameter("course", OpenApiTypes.STR, description="A linked course's key."),
    OpenApiParameter("program", OpenApiTypes.STR, description="A linked program's key."),
    OpenApiParameter("pathway", OpenApiTypes.STR, description="A linked pathway's id."),
    OpenApiParameter(
        "platform_org",
        OpenApiTypes.STR,
        description="The platform's org (or key); must name the platform of the path.",
    ),
]


_LIST_ERRORS = enveloped_errors(
    e400="Invalid query parameter (in the envelope).",
    **ACCESS_ERRORS,
    e404="Unknown platform or path user, or a page past the end.",
)


class CredentialListView(envelope.EnvelopeErrorsMixin, CredentialQuerysetMixin):
    """GET (search, filter, paginate) and POST (create) of the platform's credentials."""

    permission_classes = CREDENTIALS
    pagination_class = CredentialPagePagination
    filter_backends = [PublicCredentialsUnlessAdmin, PlatformFilterBackend]
    filterset_class = CredentialFilter

    def get_serializer_class(self) -> Any:
        return CredentialWriteSerializer

    @extend_schema(
        operation_id="credentials_orgs_users_retrieve",
        summary="Search the platform's credentials",
        description=(
            "Members of {org} (and DM admins). Members see public credentials, platform "
            "admins and DM admins every one. Newest first. `search` matches the name or "
            "the description (case-insensitive); `course`, `program`, `pathway` keep the "
            "credentials linked to that item; `platform_org` must name the platform of the "
            "path. Paged by `page` and `page_size` (default 10, at most 100). Errors use the "
            "envelope."
        ),
        parameters=[*PATH_PARAMETERS, *FILTER_PARAMETERS, *PAGE_PARAMETERS],
        responses={200: CredentialListEnvelopeSerializer, **_LIST_ERRORS},
    )
    def get(self, request: Request, org: str, user_id: str) -> Response:
        return self.credential_page()

    @extend_schema(
        operation_id="credentials_orgs_users_create",
        summary="Create a credential (platform admins)",
        description=(
            "Platform admins of {org} and DM admins. `name` is required. `issuer` is the "
            "entityId of an issuer of this platform, by default the platform's default "
            "issuer (its oldest); a platform without an issuer is 400. `courses`, "
            "`programs` and `pathways` list keys of this platform's catalog (an unknown "
            "key is 400). `entityId` is generated when absent; a taken one is 400. The "
            "names with underscores of the published documentation (icon_image, criteria_text, "
            "issuing_signal...) are accepted as aliases. "
            "Errors use the envelope."
        ),
        parameters=PATH_PARAMETERS,
        request=CredentialWriteSerializer,
        responses={
            201: CredentialEnvelopeSerializer,
            **enveloped_errors(
                e400="Invalid field (in the envelope).",
                **ACCESS_ERRORS,
                e404="Unknown platform or path user.",
            ),
        },
    )
    def post(self, request: Request, org: str, user_id: str) -> Response:
        platform = self.get_platform()
        serializer = CredentialWriteSerializer(
            data=request.data, context={"request": request, "platform": platform}
        )
        serializer.is_valid(raise_exception=True)
        credential = create_credential(
            platform=platform, created_by=self.get_path_user(), **serializer.validated_data
        )
        return Response(
            envelope.success(self.fetched(credential), envelope.CREATED),
            status=status.HTTP_201_CREATED,
        )


CREDENTIAL_ENTITY_ID = OpenApiParameter(
    "entity_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The credential's entityId.",
)


_DETAIL_404 = "Unknown platform, path user or credential (a private one, for members)."


class CredentialDetailView(
    LiteralSegmentsAreNotIds, envelope.EnvelopeErrorsMixin, CredentialQuerysetMixin
):
    """GET, PUT (partial) and DELETE of one credential."""

    permission_classes = CREDENTIALS

    def get_serializer_class(self) -> Any:
        return CredentialUpdateSerializer

    def get_object(self) -> Credential:
        entity_id = self.kwargs["entity_id"]
        credential = None
        if not UNSTORABLE.search(entity_id):
            visible = PublicCredentialsUnlessAdmin().filter_queryset(
                self.request, self.get_queryset(), self
            )
            credential = visible.filter(entity_id=entity_id).first()
        if credential is None:
            raise exceptions.NotFound(f"Credential {entity_id!r} not found.")
        return credential

    @extend_schema(
        operation_id="credentials_orgs_users_retrieve2",
        summary="Get one credential",
        description=(
            "Members of {org} (and DM admins). A private credential is 404 for members. "
            "Errors use the envelope."
        ),
        parameters=[*PATH_PARAMETERS, CREDENTIAL_ENTITY_ID],
        responses={
            200: CredentialEnvelopeSerializer,
            **enveloped_errors(**ACCESS_ERRORS),
            **not_found(_DETAIL_404),
        },
    )
    def get(self, request: Request, org: str, user_id: str, entity_id: str) -> Response:
        return Response(envelope.success(credential_object(self.get_object())))

    @extend_schema(
        operation_id="credentials_orgs_users_update",
        summary="Change a credential (platform admins)",
        description=(
            "Platform admins of {org} and DM admins. Partial: only the fields sent change, "
            "with the rules of creation. `metadata` is merged into the stored object (its "
            "top-level keys); `courses`, `programs` and `pathways` replace their list when "
            "sent. entityId cannot be changed and is ignored. Errors use the envelope."
        ),
        parameters=[*PATH_PARAMETERS, CREDENTIAL_ENTITY_ID],
        request=CredentialUpdateSerializer,
        responses={
            200: CredentialEnvelopeSerializer,
            **enveloped_errors(e400="Invalid field (in the envelope).", **ACCESS_ERRORS),
            **not_found(_DETAIL_404),
        },
    )
    def put(self, request: Request, org: str, user_id: str, entity_id: str) -> Response:
        credential = self.get_object()
        serializer = CredentialUpdateSerializer(
            data=request.data,
            partial=True,
            context={"request": request, "platform": self.get_platform()},
        )
        serializer.is_valid(raise_exception=True)
        credential = update_credential(credential, **serializer.validated_data)
        return Response(envelope.success(self.fetched(credential), UPDATED))

    @extend_schema(
        operation_id="credentials_orgs_users_destroy",
        summary="Delete a credential (platform admins)",
        description=(
            "Platform admins of {org} and DM admins. Deletes the credential with its "
            "links, its own signatories and its past assertions. While it has active "
            "assertions (not revoked, not superseded, not expired): 409, nothing deleted. "
            "Errors use the envelope."
        ),
        parameters=[*PATH_PARAMETERS, CREDENTIAL_ENTITY_ID],
        responses={
            200: StatusOnlySerializer,
            **enveloped_errors(
                **ACCESS_ERRORS, e409="The credential has active assertions; nothing was deleted."
            ),
            **not_found(_DETAIL_404),
        },
    )
    def delete(self, request: Request, org: str, user_id: str, entity_id: str) -> Response:
        delete_credential(self.get_object())
        return Response(deleted())


class CourseCredentialsView(envelope.EnvelopeErrorsMixin, CredentialQuerysetMixin):
    """GET: the platform's credentials linked to at least one course."""

    permission_classes = CREDENTIALS
    pagination_class = CourseCredentialPagination
    filter_backends = [PublicCredentialsUnlessAdmin]

    def platform_queryset(self, platform: Platform) -> QuerySet:
        return credentials_of_platform(platform).filter(linked_to(ItemKind.COURSE))

    @extend_schema(
        operation_id="credentials_orgs_users_course_credentials_list",
        summary="Credentials linked to courses",
        description=(
            "Members of {org} (and DM admins): the credentials linked to at least one "
            "course, newest first (members: public ones). Paged by `page` and `page_size` "
            "(default 10, at most 100); this list names its items `results`. Errors use the "
            "envelope."
        ),
        parameters=[*PATH_PARAMETERS, *PAGE_PARAMETERS],
        responses={
            200: OpenApiResponse(CourseCredentialListEnvelopeSerializer),
            **_LIST_ERRORS,
        },
    )
    def get(self, request: Request, org: str, user_id: str) -> Response:
        return self.credential_page()
