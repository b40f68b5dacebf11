"""The OpenAPI description of :mod:`ibl_credentials.issuers.views`: one
decorator per operation, so the views hold only what they do."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)

from ibl_credentials.base import (
    ACCESS_ERRORS,
    ENVELOPED_ERRORS,
    PATH_PARAMETERS,
    enveloped_errors,
    not_found,
)
from ibl_credentials.envelopes import StatusOnlySerializer
from ibl_credentials.issuers.serializers import (
    IssuerCreateSerializer,
    IssuerEnvelopeSerializer,
    IssuerListEnvelopeSerializer,
    IssuerSerializer,
    IssuerUpdateSerializer,
    SignatoryAnswerSerializer,
    SignatoryCreateSerializer,
)

ISSUER_404 = "Unknown platform, path user or issuer."

ENTITY_ID_PARAMETER = OpenApiParameter(
    "entity_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The issuer's entityId, or the platform's key or org for its default "
    "issuer (the oldest one).",
)

ISSUERS_GET = extend_schema(
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

ISSUERS_POST = extend_schema(
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

ISSUER_DETAIL_GET = extend_schema(
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

ISSUER_DETAIL_PUT = extend_schema(
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

ISSUER_DETAIL_DELETE = extend_schema(
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

SIGNATORIES_POST = extend_schema(
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
        200: OpenApiResponse(SignatoryAnswerSerializer, description="Updated (the name existed)."),
        **enveloped_errors(
            e400="Invalid field, or more than one of org, entityId and credential.",
            **ACCESS_ERRORS,
            e404="Unknown platform, path user, issuer, credential, or no issuer yet.",
        ),
    },
)
