"""Issuers and their signatories: list, create, read, change, delete.

Access rules live in :mod:`ibl_credentials.permissions`; the search in
:mod:`ibl_credentials.issuers.filters`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api import envelope
from ibl_core.api.pagination import CredentialsPagination
from ibl_core.models import Platform
from ibl_core.sql.text import UNSTORABLE
from ibl_credentials.base import (
    ACCESS_ERRORS,
    ENVELOPED_ERRORS,
    PATH_PARAMETERS,
    CredentialsView,
    LiteralSegmentsAreNotIds,
    deleted,
    enveloped_errors,
    not_found,
)
from ibl_credentials.envelopes import StatusOnlySerializer
from ibl_credentials.issuers.filters import IssuerFilter
from ibl_credentials.issuers.selectors import (
    issuer_by_reference,
    issuers_of_platform,
    signatory_owner,
)
from ibl_credentials.issuers.serializers import (
    IssuerCreateSerializer,
    IssuerEnvelopeSerializer,
    IssuerListEnvelopeSerializer,
    IssuerSerializer,
    IssuerUpdateSerializer,
    SignatoryAnswerSerializer,
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

    @extend_schema(
        operation_id="credentials_orgs_users_issuers_retrieve",
        summary="Search the platform's issuers",
        description=(
            "Members of {org} (and DM admins). `q` filters by name (case-insensitive "
            "substring); `limit` (default 50, at most 1000, larger values are clamped) and "
            "`offset` page the list, ordered by name then id. Errors use the envelope too."
        ),
        parameters=[
            *PATH_PARAMETERS,
            OpenApiParameter("q", OpenApiTypes.STR, description="Part of the issuer's name."),
            OpenApiParameter("limit", OpenApiTypes.INT, description="Page size (default 50)."),
            OpenApiParameter("offset", OpenApiTypes.INT, description="First index (default 0)."),
        ],
        responses={200: IssuerListEnvelopeSerializer, **ENVELOPED_ERRORS},
    )
    def get(self, request: Request, org: str, user_id: str) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(IssuerSerializer(page, many=True).data)

    @extend_schema(
        operation_id="credentials_orgs_users_issuers_create",
        summary="Create an issuer (platform admins)",
        description=(
            "Platform admins of {org} and DM admins. `entityId` is generated when absent; "
            "a taken `entityId` is 400. Errors use the envelope too."
        ),
        parameters=PATH_PARAMETERS,
        request=IssuerCreateSerializer,
        responses={201: IssuerEnvelopeSerializer, **ENVELOPED_ERRORS},
    )
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


ISSUER_404 = "Unknown platform, path user or issuer."


ENTITY_ID_PARAMETER = OpenApiParameter(
    "entity_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The issuer's entityId, or the platform's key or org for its default "
    "issuer (the oldest one).",
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

    @extend_schema(
        operation_id="credentials_orgs_users_issuers_retrieve2",
        summary="Get one issuer",
        description=(
            "Members of {org} (and DM admins). Answers a JSON array holding the one issuer. "
            "{entity_id} is the issuer's entityId, or the platform's key or org for its "
            "default issuer (the oldest one). Another platform's issuer is 404. Errors use "
            "the envelope."
        ),
        parameters=[*PATH_PARAMETERS, ENTITY_ID_PARAMETER],
        responses={
            200: IssuerSerializer(many=True),
            **enveloped_errors(**ACCESS_ERRORS),
            **not_found(ISSUER_404),
        },
    )
    def get(self, request: Request, org: str, user_id: str, entity_id: str) -> Response:
        return Response([issuer_object(self.get_object())])

    @extend_schema(
        operation_id="credentials_orgs_users_issuers_update",
        summary="Change an issuer (platform admins)",
        description=(
            "Platform admins of {org} and DM admins. Partial: only the fields sent change, "
            "with the rules of issuer creation; entityId, org and signatories cannot be "
            "changed here and are ignored. Answers a JSON array holding the issuer. Errors "
            "use the envelope."
        ),
        parameters=[*PATH_PARAMETERS, ENTITY_ID_PARAMETER],
        request=IssuerUpdateSerializer,
        responses={
            200: IssuerSerializer(many=True),
            **enveloped_errors(e400="Invalid field (in the envelope).", **ACCESS_ERRORS),
            **not_found(ISSUER_404),
        },
    )
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

    @extend_schema(
        operation_id="credentials_orgs_users_issuers_destroy",
        summary="Delete an issuer (platform admins)",
        description=(
            "Platform admins of {org} and DM admins. Deletes the issuer and its signatories. "
            "An issuer that still has credentials is 409 and nothing is deleted. Errors use "
            "the envelope."
        ),
        parameters=[*PATH_PARAMETERS, ENTITY_ID_PARAMETER],
        responses={
            200: StatusOnlySerializer,
            **enveloped_errors(
                **ACCESS_ERRORS, e409="The issuer still has credentials; nothing was deleted."
            ),
            **not_found(ISSUER_404),
        },
    )
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

    @extend_schema(
        operation_id="credentials_orgs_users_issuers_authority_create",
        summary="Add a signatory (platform admins)",
        description=(
            "Platform admins of {org} and DM admins. At most one of `org` (the platform's "
            "default issuer), `entityId` (an issuer of this platform) and `credential` (a "
            "credential of this platform, which the signatory then signs alone) says whose "
            "signatory it is; none: the platform's default issuer (its oldest). Two or more: "
            "400. An issuer-wide signatory appears in the issuer's `signatories`; every "
            "signatory appears in the `signatories` of the credentials it signs. A name "
            "that issuer (or credential) already has updates its title and signature and "
            "answers 200 instead of 201. Errors use the envelope."
        ),
        parameters=PATH_PARAMETERS,
        request=SignatoryCreateSerializer,
        responses={
            201: OpenApiResponse(SignatoryAnswerSerializer, description="Added."),
            200: OpenApiResponse(
                SignatoryAnswerSerializer, description="Updated (the name existed)."
            ),
            **enveloped_errors(
                e400="Invalid field, or more than one of org, entityId and credential.",
                **ACCESS_ERRORS,
                e404="Unknown platform, path user, issuer, credential, or no issuer yet.",
            ),
        },
    )
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
