"""The OpenAPI description of :mod:`ibl_credentials.openbadges.views`: one
decorator per operation, so the views hold only what they do."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from ibl_core.api.schema import DETAIL_BODY
from ibl_credentials.openbadges import (
    ob3,
)

FORMAT_3 = OpenApiParameter(
    "format",
    str,
    enum=["json", "jwt"],
    description=(
        "The form to answer with, instead of the Accept header: json (application/vc+ld+json, "
        "an embedded eddsa-rdfc-2022 proof) or jwt (application/vc+jwt, a VC-JWT)."
    ),
)

NOT_FOUND = OpenApiResponse(DETAIL_BODY, description="No such public document.")

DOC_200 = {(200, "application/ld+json"): OpenApiResponse(OpenApiTypes.OBJECT)}

JSON_404 = {(404, "application/json"): NOT_FOUND}

VC_RESPONSES = {
    (200, ob3.MEDIA_TYPE_LDP): OpenApiResponse(
        OpenApiTypes.OBJECT, description="With an embedded eddsa-rdfc-2022 proof."
    ),
    (200, ob3.MEDIA_TYPE_JWT): OpenApiResponse(OpenApiTypes.STR, description="A VC-JWT."),
    (200, "application/jwt"): OpenApiResponse(OpenApiTypes.STR, description="A VC-JWT."),
    404: NOT_FOUND,
}

ASSERTION_GET = extend_schema(
    operation_id="ob_v2_assertion",
    tags=["open badges"],
    summary="An assertion, Open Badges 2.0 hosted (public)",
    description=(
        "No authentication. The Open Badges 2.0 Assertion of a credential awarded: the "
        "recipient is a salted SHA-256 hash of their email, and verification is hosted "
        "(this URL). A revoked assertion answers 410 with revoked and revocationReason. "
        "A client that asks for text/html (a browser) gets the badge page instead; "
        "?format=json forces the JSON-LD."
    ),
    parameters=[
        OpenApiParameter(
            "format",
            str,
            enum=["json", "html"],
            description=(
                "json (application/ld+json, the default) or html (the badge page), "
                "instead of the Accept header."
            ),
        )
    ],
    responses={
        (200, "application/ld+json"): OpenApiResponse(
            OpenApiTypes.OBJECT, description="The Assertion."
        ),
        (410, "application/ld+json"): OpenApiResponse(
            OpenApiTypes.OBJECT, description="Revoked: revoked and revocationReason."
        ),
        (200, "text/html"): OpenApiResponse(
            OpenApiTypes.STR, description="The badge page (for a browser)."
        ),
        (410, "text/html"): OpenApiResponse(
            OpenApiTypes.STR, description="The badge page of a revoked credential."
        ),
        (404, "application/json"): NOT_FOUND,
        (404, "text/html"): OpenApiResponse(
            OpenApiTypes.STR, description="The not-found page (for a browser)."
        ),
    },
)

ASSERTION_IMAGE_GET = extend_schema(
    operation_id="ob_v2_assertion_image",
    tags=["open badges"],
    summary="The badge image baked with its assertion (public)",
    description=(
        "No authentication. The badge image carrying the hosted assertion: a PNG with an "
        "iTXt chunk keyword openbadges, or an SVG with an openbadges:assertion element "
        "whose verify attribute is the assertion's URL. A revoked assertion is 410."
    ),
    parameters=[
        OpenApiParameter(
            "format", str, enum=["png", "svg"], description="png (the default) or svg."
        )
    ],
    responses={
        (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="Baked PNG."),
        (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.STR, description="Baked SVG."),
        404: NOT_FOUND,
        410: OpenApiResponse(DETAIL_BODY, description="The assertion is revoked."),
    },
)

BADGE_GET = extend_schema(
    operation_id="ob_v2_badge",
    tags=["open badges"],
    summary="A credential as an Open Badges 2.0 BadgeClass (public)",
    description="No authentication. The BadgeClass that assertions of this credential name.",
    responses={**DOC_200, **JSON_404},
)

BADGE_IMAGE_GET = extend_schema(
    operation_id="ob_v2_badge_image",
    tags=["open badges"],
    summary="A credential's badge image (public)",
    description=(
        "No authentication. The credential's image as PNG, or a generated default badge "
        "when it has none."
    ),
    responses={
        (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="PNG."),
        404: NOT_FOUND,
    },
)

ISSUER_GET = extend_schema(
    operation_id="ob_v2_issuer",
    tags=["open badges"],
    summary="An issuer as an Open Badges 2.0 Profile (public)",
    description="No authentication. The issuer Profile that badge classes name.",
    responses={**DOC_200, **JSON_404},
)

CREDENTIAL_GET = extend_schema(
    operation_id="ob_v3_credential",
    tags=["open badges"],
    summary="An assertion as a signed Open Badges 3.0 credential (public)",
    description=(
        "No authentication. The OpenBadgeCredential signed with the issuer's Ed25519 key "
        "(a did:key). Accept application/vc+ld+json (the default) for the embedded Data "
        "Integrity proof, or application/vc+jwt for the VC-JWT. A revoked credential is "
        "still served: its credentialStatus entry in the issuer's status list says so. "
        "A revoked credential since deleted is 410."
    ),
    parameters=[FORMAT_3],
    responses={
        **VC_RESPONSES,
        410: OpenApiResponse(DETAIL_BODY, description="Revoked, then deleted."),
    },
)

STATUS_LIST_GET = extend_schema(
    operation_id="ob_v3_status_list",
    tags=["open badges"],
    summary="A revocation list, a signed Bitstring Status List (public)",
    description=(
        "No authentication. A BitstringStatusListCredential: bit n of the "
        "GZIP-compressed, multibase base64url encodedList is 1 when the credential whose "
        "statusListIndex is n is revoked. Signed and served as the credentials are, by "
        "the identity its credentials name as their issuer. The id is the one in the "
        "credentials' statusListCredential; an issuer's first list has the issuer's "
        "entityId."
    ),
    parameters=[FORMAT_3],
    responses=VC_RESPONSES,
)

DID_DOCUMENT_GET = extend_schema(
    operation_id="did_web_path_document",
    tags=["open badges"],
    summary="An issuer's did:web DID document, for a domain with a path (public)",
    description=(
        "No authentication. For an issuer with a did:web domain: its DID document, with "
        "every key it has signed with as a Multikey verification method (a rotation adds "
        "one and keeps the old ones, so what they signed still verifies)."
    ),
    responses={
        (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT),
        404: NOT_FOUND,
    },
)

DID_DOCUMENT_ROOT_GET = extend_schema(
    operation_id="did_web_root_document",
    tags=["open badges"],
    summary="An issuer's did:web DID document, for a bare domain (public)",
    description=(
        "No authentication. The DID document of the issuer whose did:web domain is this "
        "host, with every key it has signed with."
    ),
    responses={
        (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT),
        404: NOT_FOUND,
    },
)
