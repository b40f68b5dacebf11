"""One issuer (GET, PUT, DELETE) and the signatories of issuers and credentials.

Access rules live in :mod:`ibl_credentials.permissions`; lookups in
:mod:`ibl_credentials.selectors`, writes in :mod:`ibl_credentials.services`, the
issuer object in :mod:`ibl_credentials.shapes`. Errors are enveloped, as the issuers
list's are.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api import envelope, errors
from ibl_core.api.schema import DETAIL_BODY
from ibl_core.models import Platform
from ibl_core.sql.text import UNSTORABLE
from ibl_credentials import selectors, services, shapes
from ibl_credentials.models import Issuer, Signatory
from ibl_credentials.permissions import ISSUER_DETAIL, SIGNATORIES
from ibl_credentials.serializers import (
    ErrorEnvelopeSerializer,
    IssuerSerializer,
    IssuerUpdateSerializer,
    SignatoryAnswerSerializer,
    SignatoryCreateSerializer,
    StatusOnlySerializer,
)
from ibl_credentials.validators import RESERVED_ENTITY_IDS
from ibl_credentials.views import PATH_PARAMETERS, CredentialsView

DELETED = "Deleted"


def enveloped_errors(**descriptions: str) -> dict[int, OpenApiResponse]:
    """``{status: OpenApiResponse}`` of enveloped errors named ``e404="..."`` etc."""
    return {
        int(name.lstrip("e")): OpenApiResponse(ErrorEnvelopeSerializer, description=text)
        for name, text in descriptions.items()
    }


def not_found(description: str) -> dict[int, OpenApiResponse]:
    """The 404 of a ``{entity_id}`` route: enveloped, except for a literal segment of
    the API in place of the id (``.../issuers`` without its slash), which answers as
    an unknown URL does: ``{"detail": "Not found. This URL ends with a slash: ..."}``."""
    either = PolymorphicProxySerializer(
        component_name="NotFoundEnvelopeOrDetail",
        serializers=[ErrorEnvelopeSerializer, DETAIL_BODY],
        resource_type_field_name=None,
    )
    return {404: OpenApiResponse(either, description=description)}


ACCESS_ERRORS = {
    "e401": "Missing or invalid credentials.",
    "e403": "Not allowed.",
}


def deleted() -> dict[str, Any]:
    """The answer of a delete: a status without a result."""
    return {"status": {"success": True, "description": DELETED}}


class LiteralSegmentsAreNotIds:
    """For a view of ``{entity_id}``: a literal segment of the API (``issuers``,
    ``assertions``...) is never an id, so ``.../issuers`` without its slash answers as an
    unknown URL does (404, naming the URL with the slash), before any other check."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if str(kwargs.get("entity_id", "")).lower() in RESERVED_ENTITY_IDS:
            return errors.page_not_found(request, exceptions.NotFound())
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


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
        return selectors.issuers_of_platform(platform)

    def get_serializer_class(self) -> Any:
        # The browsable API builds its PUT form from the body's serializer.
        return IssuerUpdateSerializer

    def get_object(self) -> Issuer:
        reference = self.kwargs["entity_id"]
        issuer = None
        if not UNSTORABLE.search(reference):
            issuer = selectors.issuer_by_reference(self.get_platform(), reference)
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
        return Response([shapes.issuer_object(self.get_object())])

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
        services.update_issuer(issuer, serializer.validated_data)
        return Response([shapes.issuer_object(issuer)])

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
        services.delete_issuer(self.get_object())
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
        issuer, credential = selectors.signatory_owner(
            platform,
            org=data.get("org"),
            entity_id=data.get("entityId"),
            credential=data.get("credential"),
        )
        signatory, created = services.save_signatory(
            issuer=issuer,
            credential=credential,
            name=data["name"],
            title=data["title"],
            signature=data["signature"],
        )
        return Response(
            {"data": shapes.signatory_object(signatory)},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
