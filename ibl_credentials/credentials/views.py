"""Credentials (badge classes): list, create, read, change, delete, and the course list."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api import envelope
from ibl_core.api.filter_backends import PlatformFilterBackend
from ibl_core.api.pagination import CredentialsPagePagination
from ibl_core.models import Platform
from ibl_core.sql.text import UNSTORABLE
from ibl_credentials.base import (
    UPDATED,
    CredentialsView,
    LiteralSegmentsAreNotIds,
    deleted,
)
from ibl_credentials.credentials import schema
from ibl_credentials.credentials.filters import CredentialFilter, PublicCredentialsUnlessAdmin
from ibl_credentials.credentials.selectors import credentials_of_platform, linked_to
from ibl_credentials.credentials.serializers import (
    CredentialUpdateSerializer,
    CredentialWriteSerializer,
)
from ibl_credentials.credentials.services import (
    create_credential,
    delete_credential,
    update_credential,
)
from ibl_credentials.credentials.shapes import credential_object
from ibl_credentials.models import Credential, ItemKind
from ibl_credentials.permissions import CREDENTIALS


class CredentialPagePagination(CredentialsPagePagination):
    """``page`` / ``page_size`` in the envelope: ``CREDENTIAL_LIST_PAGE_SIZE`` (10) by
    default, larger than ``CREDENTIAL_LIST_MAX_PAGE_SIZE`` (100) clamped."""

    items_description = "Credentials"


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


class CredentialListView(envelope.EnvelopeErrorsMixin, CredentialQuerysetMixin):
    """GET (search, filter, paginate) and POST (create) of the platform's credentials."""

    permission_classes = CREDENTIALS
    pagination_class = CredentialPagePagination
    filter_backends = [PublicCredentialsUnlessAdmin, PlatformFilterBackend]
    filterset_class = CredentialFilter

    def get_serializer_class(self) -> Any:
        return CredentialWriteSerializer

    @schema.CREDENTIAL_LIST_GET
    def get(self, request: Request, org: str, user_id: str) -> Response:
        return self.credential_page()

    @schema.CREDENTIAL_LIST_POST
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

    @schema.CREDENTIAL_DETAIL_GET
    def get(self, request: Request, org: str, user_id: str, entity_id: str) -> Response:
        return Response(envelope.success(credential_object(self.get_object())))

    @schema.CREDENTIAL_DETAIL_PUT
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

    @schema.CREDENTIAL_DETAIL_DELETE
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

    @schema.COURSE_CREDENTIALS_GET
    def get(self, request: Request, org: str, user_id: str) -> Response:
        return self.credential_page()
