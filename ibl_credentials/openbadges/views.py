"""The public Open Badges endpoints: no authentication, cacheable, a fixed cost per read.

Every answer carries an ``ETag`` (a hash of the exact body) and ``Last-Modified``;
``If-None-Match`` / ``If-Modified-Since`` get a 304. ``Cache-Control: no-cache`` lets
caches keep a copy but ask again each time, so a revocation shows at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ibl_core.api.parsers import API_PARSERS
from ibl_core.api.schema import ThrottledAutoSchema
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
    schema,
    signing,
    status,
)
from ibl_credentials.openbadges.models import IssuerKey, StatusList
from ibl_credentials.pages.views import badge_response, public_cache_control


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


#: (view class, format suffix, ``?format=``, ``Accept``, forced) -> (renderer class,
#: media type), for every negotiation that succeeded (a 406 is raised again each time).
#: Cleared when full.
NEGOTIATED: dict[tuple[Any, ...], tuple[type, str]] = {}
NEGOTIATED_MAX = 512


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
        """The renderer for ``?format=`` and ``Accept``, worked out once per view, format
        and ``Accept`` value (:data:`NEGOTIATED`): DRF parses the header and ranks the
        media types on every request, a third of a cached answer's time in the view."""
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        wanted = request.query_params.get("format")
        key = (type(self), getattr(self, "format_kwarg", None), wanted, accept, force)
        found = NEGOTIATED.get(key)
        if found is None:
            found = self.negotiate(request, wanted, force)
            if len(NEGOTIATED) >= NEGOTIATED_MAX:  # headers are the client's: bounded
                NEGOTIATED.clear()
            NEGOTIATED[key] = found
        renderer_class, media_type = found
        return renderer_class(), media_type

    def negotiate(self, request: Request, wanted: str | None, force: bool) -> tuple[type, str]:
        if wanted is not None:
            renderer = {**_FORMATS, **self.format_aliases}.get(wanted.lower())
            if renderer is not None and renderer in self.renderer_classes:
                return renderer, renderer.media_type
        renderer_instance, media_type = super().perform_content_negotiation(request, force)
        return type(renderer_instance), media_type

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
        return self.answer(request, artifacts.answer_of(body, status_code, modified))

    def answer(self, request: Request, answer: artifacts.Answer) -> HttpResponse:
        """``answer`` as the negotiated type, with its validators; a 304 when they match."""
        renderer = request.accepted_renderer
        content_type = renderer.media_type + (
            f"; charset={renderer.charset}" if renderer.charset else ""
        )
        response = HttpResponse(answer.body, status=answer.status, content_type=content_type)
        response["ETag"] = answer.etag
        response["Last-Modified"] = http_date(answer.last_modified)
        response["Cache-Control"] = public_cache_control()
        response["Access-Control-Allow-Origin"] = "*"
        patch_vary_headers(response, ["Accept"])
        if answer.status == 200:
            conditional = get_conditional_response(
                request._request,
                etag=answer.etag,
                last_modified=answer.last_modified,
                response=response,
            )
            if conditional is not None and conditional is not response:
                for header in ("Cache-Control", "Access-Control-Allow-Origin", "Vary"):
                    conditional[header] = response[header]
                return conditional
        return response

    def stamped(
        self,
        request: Request,
        kind: str,
        stamp: tuple[Any, ...],
        build: Callable[[], artifacts.Answer],
    ) -> HttpResponse:
        """The answer ``kind`` in the negotiated form for the rows as ``stamp`` shows
        them: kept whole in the cache (``artifacts``), built once."""
        parts = (*stamp, request.accepted_renderer.format, links.base_url(request._request))
        return self.answer(request, artifacts.cached_answer(kind, parts, build))


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

    @schema.ASSERTION_GET
    def get(self, request: Request, entity_id: str) -> HttpResponse:
        if isinstance(request.accepted_renderer, BadgePageRenderer):
            response = badge_response(request._request, entity_id)
            patch_vary_headers(response, ["Accept"])
            return response
        stamp = artifacts.assertion_stamp(entity_id)
        base = links.base_url(request._request)

        def build() -> artifacts.Answer:
            return artifacts.answer_of(*_ob2_answer(entity_id, base))

        if stamp is None:  # a tombstone or a 404: not cached
            return self.answer(request, build())
        return self.stamped(request, "ob2", stamp, build)


def _ob2_answer(entity_id: str, base: str) -> tuple[str, int, Any]:
    """(body, status, modified) of the hosted 2.0 document (410: revoked or gone)."""
    try:
        assertion = _assertion(entity_id)
    except Gone as gone:
        revocation = gone.revocation
        body = _dump(ob2.revoked_document_of(entity_id, revocation.revocation_reason, base))
        return body, 410, revocation.revoked_at
    if assertion.revoked:
        return _dump(ob2.revoked_document(assertion, base)), 410, _modified(assertion)
    return _dump(ob2.assertion_document(assertion, base)), 200, _modified(assertion)


class AssertionImageView(PublicDocumentView):
    renderer_classes = [PngRenderer, SvgRenderer]

    @schema.ASSERTION_IMAGE_GET
    def get(self, request: Request, entity_id: str) -> HttpResponse:
        stamp = artifacts.assertion_stamp(entity_id)
        if stamp is None:
            try:
                _assertion(entity_id)  # a 404
            except Gone:  # a tombstone
                return Response(REVOKED_IMAGE, status=410)
            stamp = artifacts.assertion_stamp(entity_id)  # created since: read again
            if stamp is None:
                raise Http404
        if stamp[ASSERTION_REVOKED]:
            return Response(REVOKED_IMAGE, status=410)
        fmt = "svg" if isinstance(request.accepted_renderer, SvgRenderer) else "png"
        base = links.base_url(request._request)

        def build() -> artifacts.Answer:
            assertion = _assertion(entity_id)
            image = baking.baked(assertion.credential, ob2.assertion_document(assertion, base), fmt)
            return artifacts.answer_of(image, 200, _modified(assertion))

        try:
            return self.stamped(request, "baked", stamp, build)
        except Gone:  # revoked and deleted since the stamp was read
            return Response(REVOKED_IMAGE, status=410)


#: Where ``revoked`` is in an assertion's stamp.
ASSERTION_REVOKED = artifacts.ASSERTION_STAMP.index("revoked")


class BadgeView(PublicDocumentView):
    renderer_classes = [LdJsonRenderer]

    @schema.BADGE_GET
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

    @schema.BADGE_IMAGE_GET
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

    @schema.ISSUER_GET
    def get(self, request: Request, entity_id: str) -> HttpResponse:
        try:
            issuer = Issuer.objects.get(entity_id=entity_id)
        except Issuer.DoesNotExist:
            raise Http404 from None
        body = _dump(ob2.issuer_document(issuer, links.base_url(request._request)))
        return self.cached(request, body, modified=issuer.modified)


class CredentialView(PublicDocumentView):
    renderer_classes = [VcLdJsonRenderer, VcJwtRenderer, JwtRenderer]

    @schema.CREDENTIAL_GET
    def get(self, request: Request, entity_id: str) -> HttpResponse:
        stamp = artifacts.assertion_stamp(entity_id)
        ldp = isinstance(request.accepted_renderer, VcLdJsonRenderer)
        base = links.base_url(request._request)

        def build() -> artifacts.Answer:
            assertion = _assertion(entity_id, "ob_signed")
            signed = ob3.signed_credential(assertion, base)
            return artifacts.answer_of(signed.ldp if ldp else signed.jwt, 200, signed.signed_at)

        try:
            if stamp is None:  # a 404 or a tombstone, or (created since) uncached
                return self.answer(request, build())
            return self.stamped(request, "ob3", stamp, build)
        except Gone:
            return Response(REVOKED_IMAGE, status=410)


class StatusListView(PublicDocumentView):
    renderer_classes = [VcLdJsonRenderer, VcJwtRenderer, JwtRenderer]

    @schema.STATUS_LIST_GET
    def get(self, request: Request, entity_id: str) -> HttpResponse:
        ldp = isinstance(request.accepted_renderer, VcLdJsonRenderer)
        base = links.base_url(request._request)

        def build(found: StatusList) -> artifacts.Answer:
            built = status.status_list(found, base)
            return artifacts.answer_of(built.ldp if ldp else built.jwt, 200, built.built_at)

        stamp = artifacts.status_list_stamp(entity_id)
        if stamp is not None:

            def stored() -> artifacts.Answer:
                lists = StatusList.objects.select_related("issuer", "key")
                found = lists.filter(pk=stamp[0]).first()
                if found is None:  # deleted since (with its platform)
                    raise Http404
                return build(found)

            return self.stamped(request, "status", stamp, stored)
        # An issuer that has signed nothing yet: its (empty) first list.
        issuer = Issuer.objects.filter(entity_id=entity_id).first()
        if issuer is None or issuer.ob_status_lists.exists():
            raise Http404
        return self.answer(request, build(status.list_for_issuer(issuer)))


class DidDocumentView(PublicDocumentView):
    """The DID document of an issuer's did:web, on the host and path the DID names."""

    renderer_classes = [JSONRenderer]

    @schema.DID_DOCUMENT_GET
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

    @schema.DID_DOCUMENT_ROOT_GET
    def get(self, request: Request, did_path: str = "") -> HttpResponse:
        return super().get(request, did_path)
