"""The public Open Badges endpoints: no authentication, cacheable, a fixed cost per read.

Every answer carries an ``ETag`` (a hash of the exact body) and ``Last-Modified``;
``If-None-Match`` / ``If-Modified-Since`` get a 304. ``Cache-Control: no-cache`` lets
caches keep a copy but ask again each time, so a revocation shows at once.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.http import Http404, HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ibl_core.api.parsers import API_PARSERS
from ibl_core.api.schema import DETAIL_BODY, ThrottledAutoSchema
from ibl_core.ops.throttling import ScopedApiThrottle
from ibl_core.sql.text import UNSTORABLE
from ibl_credentials.models import Assertion, Credential, Issuer, Revocation
from ibl_credentials.openbadges import (
    artifacts,
    baking,
    links,
    ob2,
    ob3,
    resolution,
    signing,
    status,
)
from ibl_credentials.openbadges.models import IssuerKey, StatusList
from ibl_credentials.pages.views import badge_response


class _BodyRenderer(BaseRenderer):
    """Renders a prepared body (text or bytes) as is; an error object as JSON."""

    charset: str | None = "utf-8"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        if isinstance(data, bytes):
            return data
        if isinstance(data, str):
            return data.encode()
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


class LdJsonRenderer(_BodyRenderer):
    media_type = "application/ld+json"
    format = "ld+json"


class VcLdJsonRenderer(_BodyRenderer):
    media_type = ob3.MEDIA_TYPE_LDP
    format = "vc+ld+json"


class VcJwtRenderer(_BodyRenderer):
    media_type = ob3.MEDIA_TYPE_JWT
    format = "vc+jwt"


class JwtRenderer(_BodyRenderer):
    media_type = "application/jwt"
    format = "jwt"


class PngRenderer(_BodyRenderer):
    media_type = "image/png"
    format = "png"
    charset = None


class BadgePageRenderer(_BodyRenderer):
    """``text/html``: the badge page, for a browser that follows a ``verifyUrl``."""

    media_type = "text/html"
    format = "html"


class SvgRenderer(_BodyRenderer):
    media_type = "image/svg+xml"
    format = "svg"


#: ``?format=`` values of the two 3.0 forms (``+`` in a query string arrives as a space).
_FORMATS: dict[str, type[BaseRenderer]] = {
    "json": VcLdJsonRenderer,
    "ldp": VcLdJsonRenderer,
    "vc+ld+json": VcLdJsonRenderer,
    "vc ld json": VcLdJsonRenderer,
    "jwt": VcJwtRenderer,
    "vc+jwt": VcJwtRenderer,
    "vc jwt": VcJwtRenderer,
}


class PublicDocumentSchema(ThrottledAutoSchema):
    """Errors are JSON whatever the document's type (a revoked 2.0 assertion excepted),
    and the badge page's own 404 and 410 pages for a browser (``text/html``)."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code, response in responses.items():
            content = response.get("content") or {}
            revoked_document = code == "410" and "application/ld+json" in content
            if int(code) >= 400 and content and not revoked_document:
                kept = {"application/json": next(iter(content.values()))}
                if "text/html" in content:
                    kept["text/html"] = content["text/html"]
                response["content"] = kept
        return responses


NOT_FOUND = OpenApiResponse(DETAIL_BODY, description="No such public document.")
FORMAT_3 = OpenApiParameter(
    "format",
    str,
    enum=["json", "jwt"],
    description=(
        "The form to answer with, instead of the Accept header: json (application/vc+ld+json, "
        "an embedded eddsa-rdfc-2022 proof) or jwt (application/vc+jwt, a VC-JWT)."
    ),
)


class PublicDocumentView(APIView):
    """Public, unauthenticated, throttled like any read."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = API_PARSERS
    throttle_classes = [ScopedApiThrottle]
    schema = PublicDocumentSchema()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # An id no database can store (a NUL, a lone surrogate) names nothing: a 404
        # here, not the database's error.
        if any(UNSTORABLE.search(str(value)) for value in kwargs.values()):
            raise Http404

    #: ``?format=`` values of this view's own forms, beside the 3.0 ones.
    format_aliases: dict[str, type[BaseRenderer]] = {}

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        wanted = request.query_params.get("format")
        if wanted is not None:
            renderer = {**_FORMATS, **self.format_aliases}.get(wanted.lower())
            if renderer is not None and renderer in self.renderer_classes:
                return renderer(), renderer.media_type
        return super().perform_content_negotiation(request, force)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any):
        response = super().finalize_response(request, response, *args, **kwargs)
        if (
            isinstance(response, Response)
            and response.status_code >= 400
            and not (
                response.status_code == 410
                and isinstance(getattr(response, "accepted_renderer", None), LdJsonRenderer)
            )
        ):
            # An error object is JSON, whatever form of the document was asked for.
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
        return response

    def cached(
        self, request: Request, body: bytes | str, status_code: int = 200, *, modified: Any
    ) -> HttpResponse:
        """``body`` as the negotiated type, with validators; a 304 when they match."""
        raw = body.encode() if isinstance(body, str) else body
        etag = f'"{hashlib.sha256(raw).hexdigest()[:32]}"'
        timestamp = int(modified.timestamp())
        renderer = request.accepted_renderer
        content_type = renderer.media_type + (
            f"; charset={renderer.charset}" if renderer.charset else ""
        )
        response = HttpResponse(raw, status=status_code, content_type=content_type)
        response["ETag"] = etag
        response["Last-Modified"] = http_date(timestamp)
        response["Cache-Control"] = "public, no-cache"
        response["Access-Control-Allow-Origin"] = "*"
        patch_vary_headers(response, ["Accept"])
        if status_code == 200:
            conditional = get_conditional_response(
                request._request, etag=etag, last_modified=timestamp, response=response
            )
            if conditional is not None and conditional is not response:
                for header in ("Cache-Control", "Access-Control-Allow-Origin", "Vary"):
                    conditional[header] = response[header]
                return conditional
        return response


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


class Gone(Exception):
    """The assertion was revoked, then deleted: its :class:`Revocation` answers for it."""

    def __init__(self, revocation: Revocation) -> None:
        self.revocation = revocation


def _assertion(entity_id: str, *related: str) -> Assertion:
    """The assertion, whatever its platform's state (issued credentials stay
    verifiable); ``Gone`` when only its revocation remains; else a 404."""
    try:
        return Assertion.objects.select_related("credential__issuer", "recipient", *related).get(
            entity_id=entity_id
        )
    except Assertion.DoesNotExist:
        revocation = Revocation.objects.filter(entity_id=entity_id).first()
        if revocation is None:
            raise Http404 from None
        raise Gone(revocation) from None


REVOKED_IMAGE = {"detail": "This assertion is revoked."}


def _modified(assertion: Assertion) -> Any:
    credential = assertion.credential
    return max(assertion.modified, credential.modified, credential.issuer.modified)


DOC_200 = {(200, "application/ld+json"): OpenApiResponse(OpenApiTypes.OBJECT)}
JSON_404 = {(404, "application/json"): NOT_FOUND}


class AssertionView(PublicDocumentView):
    # JSON-LD first: the answer to */* and to machines. A browser, which asks for
    # text/html, gets the badge page (the same URL is the credential's verifyUrl).
    renderer_classes = [LdJsonRenderer, BadgePageRenderer]
    format_aliases = {
        "json": LdJsonRenderer,
        "ld+json": LdJsonRenderer,
        "ld json": LdJsonRenderer,
        "html": BadgePageRenderer,
    }

    @extend_schema(
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
    def get(self, request: Request, entity_id: str) -> HttpResponse:
        if isinstance(request.accepted_renderer, BadgePageRenderer):
            response = badge_response(request._request, entity_id)
            patch_vary_headers(response, ["Accept"])
            return response
        base = links.base_url(request._request)
        try:
            assertion = _assertion(entity_id)
        except Gone as gone:
            revocation = gone.revocation
            body = _dump(ob2.revoked_document_of(entity_id, revocation.revocation_reason, base))
            return self.cached(request, body, 410, modified=revocation.revoked_at)
        if assertion.revoked:
            body = _dump(ob2.revoked_document(assertion, base))
            return self.cached(request, body, 410, modified=_modified(assertion))
        body = _dump(ob2.assertion_document(assertion, base))
        return self.cached(request, body, modified=_modified(assertion))


class AssertionImageView(PublicDocumentView):
    renderer_classes = [PngRenderer, SvgRenderer]

    @extend_schema(
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
    def get(self, request: Request, entity_id: str) -> HttpResponse:
        try:
            assertion = _assertion(entity_id)
        except Gone:
            return Response(REVOKED_IMAGE, status=410)
        if assertion.revoked:
            return Response(REVOKED_IMAGE, status=410)
        base = links.base_url(request._request)
        fmt = "svg" if isinstance(request.accepted_renderer, SvgRenderer) else "png"
        image = artifacts.cached_artifact(
            f"baked-{fmt}",
            artifacts.assertion_parts(assertion, base),
            lambda: baking.baked(
                assertion.credential, ob2.assertion_document(assertion, base), fmt
            ),
        )
        return self.cached(request, image, modified=_modified(assertion))


class BadgeView(PublicDocumentView):
    renderer_classes = [LdJsonRenderer]

    @extend_schema(
        operation_id="ob_v2_badge",
        tags=["open badges"],
        summary="A credential as an Open Badges 2.0 BadgeClass (public)",
        description="No authentication. The BadgeClass that assertions of this credential name.",
        responses={**DOC_200, **JSON_404},
    )
    def get(self, request: Request, entity_id: str) -> HttpResponse:
        credential = _credential(entity_id)
        body = _dump(ob2.badge_document(credential, links.base_url(request._request)))
        modified = max(credential.modified, credential.issuer.modified)
        return self.cached(request, body, modified=modified)


def _credential(entity_id: str) -> Credential:
    try:
        return Credential.objects.select_related("issuer").get(entity_id=entity_id)
    except Credential.DoesNotExist:
        raise Http404 from None


class BadgeImageView(PublicDocumentView):
    renderer_classes = [PngRenderer]

    @extend_schema(
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
    def get(self, request: Request, entity_id: str) -> HttpResponse:
        credential = _credential(entity_id)
        parts = (
            credential.entity_id,
            credential.modified.isoformat(),
            credential.issuer.modified.isoformat(),  # the initials on the default badge
            links.base_url(request._request),  # an upload named by its full URL
        )
        image = artifacts.cached_artifact("badge-png", parts, lambda: baking.badge_png(credential))
        return self.cached(request, image, modified=credential.modified)


class IssuerView(PublicDocumentView):
    renderer_classes = [LdJsonRenderer]

    @extend_schema(
        operation_id="ob_v2_issuer",
        tags=["open badges"],
        summary="An issuer as an Open Badges 2.0 Profile (public)",
        description="No authentication. The issuer Profile that badge classes name.",
        responses={**DOC_200, **JSON_404},
    )
    def get(self, request: Request, entity_id: str) -> HttpResponse:
        try:
            issuer = Issuer.objects.get(entity_id=entity_id)
        except Issuer.DoesNotExist:
            raise Http404 from None
        body = _dump(ob2.issuer_document(issuer, links.base_url(request._request)))
        return self.cached(request, body, modified=issuer.modified)


VC_RESPONSES = {
    (200, ob3.MEDIA_TYPE_LDP): OpenApiResponse(
        OpenApiTypes.OBJECT, description="With an embedded eddsa-rdfc-2022 proof."
    ),
    (200, ob3.MEDIA_TYPE_JWT): OpenApiResponse(OpenApiTypes.STR, description="A VC-JWT."),
    (200, "application/jwt"): OpenApiResponse(OpenApiTypes.STR, description="A VC-JWT."),
    404: NOT_FOUND,
}


class CredentialView(PublicDocumentView):
    renderer_classes = [VcLdJsonRenderer, VcJwtRenderer, JwtRenderer]

    @extend_schema(
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
    def get(self, request: Request, entity_id: str) -> HttpResponse:
        try:
            assertion = _assertion(entity_id, "ob_signed")
        except Gone:
            return Response(REVOKED_IMAGE, status=410)
        signed = ob3.signed_credential(assertion, links.base_url(request._request))
        ldp = isinstance(request.accepted_renderer, VcLdJsonRenderer)
        text = signed.ldp if ldp else signed.jwt
        return self.cached(request, text, modified=signed.signed_at)


class StatusListView(PublicDocumentView):
    renderer_classes = [VcLdJsonRenderer, VcJwtRenderer, JwtRenderer]

    @extend_schema(
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
    def get(self, request: Request, entity_id: str) -> HttpResponse:
        found = (
            StatusList.objects.select_related("issuer", "key").filter(entity_id=entity_id).first()
        )
        if found is None:
            # An issuer that has signed nothing yet: its (empty) first list.
            issuer = Issuer.objects.filter(entity_id=entity_id).first()
            if issuer is None or issuer.ob_status_lists.exists():
                raise Http404
            found = status.list_for_issuer(issuer)
        built = status.status_list(found, links.base_url(request._request))
        ldp = isinstance(request.accepted_renderer, VcLdJsonRenderer)
        text = built.ldp if ldp else built.jwt
        return self.cached(request, text, modified=built.built_at)


class DidDocumentView(PublicDocumentView):
    """The DID document of an issuer's did:web, on the host and path the DID names."""

    renderer_classes = [JSONRenderer]

    @extend_schema(
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
    def get(self, request: Request, did_path: str = "") -> HttpResponse:
        host = request._request.get_host().lower()
        domain = f"{host}/{did_path}" if did_path else host
        did = signing.did_web(domain)
        issuer = resolution.issuer_of_did_web(did, domain)
        if issuer is None:
            raise Http404
        keys = list(IssuerKey.objects.filter(issuer=issuer).order_by("created", "id"))
        body = _dump(signing.did_document(did, keys))
        modified = max([issuer.modified, *(key.created for key in keys)])
        return self.cached(request, body, modified=modified)


class DidDocumentRootView(DidDocumentView):
    """The DID document of a did:web that is a bare host: ``/.well-known/did.json``."""

    @extend_schema(
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
    def get(self, request: Request, did_path: str = "") -> HttpResponse:
        return super().get(request, did_path)
