"""The OpenAPI description of :mod:`ibl_credentials.credentials.views`: one
decorator per operation, so the views hold only what they do."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from ibl_credentials.base import (
    ACCESS_ERRORS,
    PATH_PARAMETERS,
    enveloped_errors,
    not_found,
)
from ibl_credentials.credentials.serializers import (
    CourseCredentialListEnvelopeSerializer,
    CredentialEnvelopeSerializer,
    CredentialListEnvelopeSerializer,
    CredentialUpdateSerializer,
    CredentialWriteSerializer,
)
from ibl_credentials.envelopes import StatusOnlySerializer

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

CREDENTIAL_ENTITY_ID = OpenApiParameter(
    "entity_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The credential's entityId.",
)

_DETAIL_404 = "Unknown platform, path user or credential (a private one, for members)."

CREDENTIAL_LIST_GET = extend_schema(
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

CREDENTIAL_LIST_POST = extend_schema(
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

CREDENTIAL_DETAIL_GET = extend_schema(
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

CREDENTIAL_DETAIL_PUT = extend_schema(
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

CREDENTIAL_DETAIL_DELETE = extend_schema(
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

COURSE_CREDENTIALS_GET = extend_schema(
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
