"""Issuers and their signatories: list, create, read, change, delete.

Access rules live in :mod:`ibl_credentials.permissions`; the search in
:mod:`ibl_credentials.issuers.filters`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api import envelope
from ibl_core.api.pagination import CredentialsPagination
from ibl_core.models import Platform
from ibl_core.sql.text import UNSTORABLE
from ibl_credentials.base import (
    CredentialsView,
    LiteralSegmentsAreNotIds,
    deleted,
)
from ibl_credentials.issuers import schema
from ibl_credentials.issuers.filters import IssuerFilter
from ibl_credentials.issuers.selectors import (
    issuer_by_reference,
    issuers_of_platform,
    signatory_owner,
)
from ibl_credentials.issuers.serializers import (
    IssuerCreateSerializer,
    IssuerSerializer,
    IssuerUpdateSerializer,
    SignatoryCreateSerializer,
)
from ibl_credentials.issuers.services import (
    create_issuer,
    delete_issuer,
    save_signatory,
    update_issuer,
)
from ibl_credentials.issuers.shapes import issuer_object, signatory_object
from ibl_credentials.models import Issuer, Signatory
from ibl_credentials.permissions import ISSUER_DETAIL, ISSUERS, SIGNATORIES


class IssuersView(envelope.EnvelopeErrorsMixin, CredentialsView):
    """GET (search, paginated) and POST (create) of a platform's issuers, in the envelope."""

    permission_classes = ISSUERS
    pagination_class = CredentialsPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = IssuerFilter
    model = Issuer

    def platform_queryset(self, platform: Platform) -> QuerySet:
        return issuers_of_platform(platform)

    def get_serializer_class(self) -> Any:
        # The browsable API builds its POST form from the body's serializer.
        if self.request is not None and self.request.method == "POST":
            return IssuerCreateSerializer
        return IssuerSerializer

    @schema.ISSUERS_GET
    def get(self, request: Request, org: str, user_id: str) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(IssuerSerializer(page, many=True).data)

    @schema.ISSUERS_POST
    def post(self, request: Request, org: str, user_id: str) -> Response:
        serializer = IssuerCreateSerializer(
            data=request.data, context={"request": request, "platform": self.get_platform()}
        )
        serializer.is_valid(raise_exception=True)
        issuer = create_issuer(
            platform=self.get_platform(),
            created_by=self.get_path_user(),
            **serializer.validated_data,
        )
        return Response(
            envelope.success(IssuerSerializer(issuer).data, envelope.CREATED),
            status=status.HTTP_201_CREATED,
        )


class IssuerDetailView(LiteralSegmentsAreNotIds, envelope.EnvelopeErrorsMixin, CredentialsView):
    """GET, PUT (partial) and DELETE of one issuer of the platform."""

    permission_classes = ISSUER_DETAIL
    model = Issuer

    def platform_queryset(self, platform: Platform) -> QuerySet:
        return issuers_of_platform(platform)

    def get_serializer_class(self) -> Any:
        # The browsable API builds its PUT form from the body's serializer.
        return IssuerUpdateSerializer

    def get_object(self) -> Issuer:
        reference = self.kwargs["entity_id"]
        issuer = None
        if not UNSTORABLE.search(reference):
            issuer = issuer_by_reference(self.get_platform(), reference)
        if issuer is None:
            raise exceptions.NotFound(f"Issuer {reference!r} not found.")
        return issuer

    @schema.ISSUER_DETAIL_GET
    def get(self, request: Request, org: str, user_id: str, entity_id: str) -> Response:
        return Response([issuer_object(self.get_object())])

    @schema.ISSUER_DETAIL_PUT
    def put(self, request: Request, org: str, user_id: str, entity_id: str) -> Response:
        issuer = self.get_object()
        serializer = IssuerUpdateSerializer(
            data=request.data,
            partial=True,
            context={"request": request, "platform": self.get_platform()},
        )
        serializer.is_valid(raise_exception=True)
        update_issuer(issuer, serializer.validated_data)
        return Response([issuer_object(issuer)])

    @schema.ISSUER_DETAIL_DELETE
    def delete(self, request: Request, org: str, user_id: str, entity_id: str) -> Response:
        delete_issuer(self.get_object())
        return Response(deleted())


class SignatoriesView(envelope.EnvelopeErrorsMixin, CredentialsView):
    """POST: add (or update by name) a signatory of an issuer or of one credential."""

    permission_classes = SIGNATORIES
    model = Signatory

    def platform_queryset(self, platform: Platform) -> QuerySet:
        return Signatory.objects.filter(issuer__platform=platform)

    def get_serializer_class(self) -> Any:
        return SignatoryCreateSerializer

    @schema.SIGNATORIES_POST
    def post(self, request: Request, org: str, user_id: str) -> Response:
        platform = self.get_platform()
        serializer = SignatoryCreateSerializer(
            data=request.data, context={"request": request, "platform": platform}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        issuer, credential = signatory_owner(
            platform,
            org=data.get("org"),
            entity_id=data.get("entityId"),
            credential=data.get("credential"),
        )
        signatory, created = save_signatory(
            issuer=issuer,
            credential=credential,
            name=data["name"],
            title=data["title"],
            signature=data["signature"],
        )
        return Response(
            {"data": signatory_object(signatory)},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
