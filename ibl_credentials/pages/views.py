"""The badge page and the verifier page.

The badge page is built from the same rows the Open Badges documents use (one query),
and says whether the credential is valid now: revoked (410, with its reason), expired,
not yet valid, or valid. It never shows the recipient's email; only their name, when
their account has one. Links in it are absolute, built like the documents' URLs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_safe
from rest_framework.request import Request

from ibl_core.conf import ibl_settings
from ibl_core.ops.throttling import ScopedApiThrottle
from ibl_core.sql.text import UNSTORABLE
from ibl_core.tenancy.scope import user_full_name
from ibl_credentials.models import Assertion, Revocation
from ibl_credentials.openbadges import artifacts, links, ob2
from ibl_credentials.openbadges.verification import VerificationInputError, verify_submission
from ibl_credentials.openbadges.verify_views import VerifyCredentialView


def public_cache_control() -> str:
    """``PUBLIC_MAX_AGE`` seconds a shared cache (a CDN) may keep a public answer without
    asking again (then it revalidates, by ETag); 0 (the default): ask every time."""
    seconds = ibl_settings.PUBLIC_MAX_AGE
    if not seconds:
        return "public, no-cache"
    return f"public, max-age={seconds}, must-revalidate"


#: The pages load nothing from elsewhere; the header makes a browser enforce it.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self' data:{media}; style-src 'self'; script-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
LINKEDIN_ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"


@dataclass(frozen=True)
class Verdict:
    """The live verification result shown on the page."""

    code: str  # valid | expired | revoked | not_yet_valid
    label: str
    detail: str


def verdict_code(
    revoked: bool, issued_on: dt.datetime, expires: dt.datetime | None, now: dt.datetime
) -> str:
    """``valid``, ``expired``, ``revoked`` or ``not_yet_valid``, now."""
    if revoked:
        return "revoked"
    if issued_on > now:
        return "not_yet_valid"
    if expires is not None and expires <= now:
        return "expired"
    return "valid"


def verdict(assertion: Assertion, now: dt.datetime) -> Verdict:
    """What the page says of the credential now, from what the documents say."""
    code = verdict_code(assertion.revoked, assertion.issued_on, assertion.expires, now)
    if code == "revoked":
        return Verdict("revoked", _("Revoked"), assertion.revocation_reason)
    if code == "not_yet_valid":
        return Verdict(
            "not_yet_valid", _("Not yet valid"), _("It becomes valid on its issue date.")
        )
    if code == "expired":
        return Verdict("expired", _("Expired"), _("It was valid until its expiry date."))
    return Verdict(
        "valid",
        _("Valid"),
        _("Issued by the issuer named here, not revoked, and not expired."),
    )


def _own_image(value: str, base: str) -> str:
    """An image of ours (media storage) as an absolute URL; "" for an outside URL,
    which the page does not load (no external requests)."""
    if not value:
        return ""
    url = ob2.image_reference(value, base)
    media = _media_origin()
    if url.startswith(base + "/") or (media and url.startswith(media)):
        return url
    return ""


def _media_origin() -> str:
    parts = urlsplit(str(settings.MEDIA_URL))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def linkedin_url(assertion: Assertion, page_url: str) -> str:
    """LinkedIn's documented add-to-profile link for a certification."""
    credential = assertion.credential
    params = {
        "startTask": "CERTIFICATION_NAME",
        "name": credential.name,
        "organizationName": credential.issuer.name,
        "issueYear": assertion.issued_on.year,
        "issueMonth": assertion.issued_on.month,
        "certUrl": page_url,
        "certId": assertion.entity_id,
    }
    if assertion.expires is not None:
        params["expirationYear"] = assertion.expires.year
        params["expirationMonth"] = assertion.expires.month
    return f"{LINKEDIN_ADD_TO_PROFILE}?{urlencode(params)}"


def badge_context(assertion: Assertion, base: str, now: dt.datetime) -> dict[str, Any]:
    """Everything the badge page shows (``credential__issuer``, ``recipient`` loaded)."""
    credential, issuer = assertion.credential, assertion.credential.issuer
    entity_id = assertion.entity_id
    page_url = base + reverse("ibl-pages:badge", kwargs={"entity_id": entity_id})
    status = verdict(assertion, now)
    revoked = status.code == "revoked"
    baked_png = links.assertion_image_url(entity_id, base, "png")
    baked_svg = links.assertion_image_url(entity_id, base, "svg")
    # A revoked credential's baked image is 410: show (and preview) the badge itself.
    image_url = links.badge_image_url(credential.entity_id, base) if revoked else baked_png
    downloads = [
        (_("Download the badge (PNG)"), baked_png, f"{entity_id}.png"),
        (_("Download the badge (SVG)"), baked_svg, f"{entity_id}.svg"),
    ]
    hosted = links.assertion_url(entity_id, base)
    signed = links.credential_url(entity_id, base)
    documents = [
        (_("Open Badges 2.0 (JSON-LD)"), f"{hosted}?format=json"),
        (_("Open Badges 3.0 (JSON-LD, signed)"), f"{signed}?format=json"),
        (_("Open Badges 3.0 (VC-JWT)"), f"{signed}?format=jwt"),
    ]
    alignment = (credential.metadata or {}).get("alignment")
    alignments = alignment if isinstance(alignment, list) else []
    return {
        "status": status,
        "page_url": page_url,
        "title": credential.name,
        "description": credential.description or credential.name,
        "image_url": image_url,
        "downloads": [] if revoked else downloads,
        "documents": documents,
        "linkedin_url": linkedin_url(assertion, page_url),
        "credential": credential,
        "criteria": ob2.criteria(credential),
        "issuer": issuer,
        "issuer_logo": _own_image(issuer.icon_image, base),
        "recipient_name": user_full_name(assertion.recipient),
        "issued_on": assertion.issued_on,
        "expires": assertion.expires,
        "narrative": assertion.narrative,
        "evidence": [
            item
            for item in assertion.evidence or []
            if isinstance(item, dict) and (item.get("url") or item.get("narrative"))
        ],
        "tags": [tag for tag in credential.tags or [] if isinstance(tag, str)],
        "alignments": [item for item in alignments if isinstance(item, dict)],
        "item_name": assertion.item_name,
    }


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int
) -> HttpResponse:
    """A public page with its validators (ETag: a 304 when it matches) and its
    Content-Security-Policy."""
    return _respond(request, _render(request, template, context), status)


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> bytes:
    return render_to_string(template, context, request=request).encode()


def _respond(
    request: HttpRequest, body: bytes, status: int, etag: str | None = None
) -> HttpResponse:
    """``body`` as a public page: validators (a 304 when the ETag matches) and the
    Content-Security-Policy. ``etag``: the body's, when it is already known."""
    response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    media = _media_origin()
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.format(
        media=f" {media}" if media else ""
    )
    response["Cache-Control"] = "public, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "strict-origin-when-cross-origin"
    patch_vary_headers(response, ["Accept", "Accept-Language"])
    if status == 200 and request.method in ("GET", "HEAD"):
        response["ETag"] = etag or f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        conditional = get_conditional_response(request, etag=response["ETag"], response=response)
        if conditional is not None and conditional is not response:
            return conditional
    return response


def badge_response(request: HttpRequest, entity_id: str) -> HttpResponse:
    """The badge page of ``entity_id``: 200, 410 when revoked (also once deleted), or
    the not-found page (404)."""
    base = links.base_url(request)
    stamp = None if UNSTORABLE.search(entity_id) else artifacts.assertion_stamp(entity_id)
    if stamp is None:
        revocation = None
        if not UNSTORABLE.search(entity_id):
            revocation = Revocation.objects.filter(entity_id=entity_id).first()
        if revocation is None:
            missing = _page(request, "ibl_credentials/pages/badge_missing.html", {}, 404)
            missing["Cache-Control"] = public_cache_control()
            return missing
        gone = {"reason": revocation.revocation_reason, "revoked_at": revocation.revoked_at}
        tombstone = _page(request, "ibl_credentials/pages/badge_gone.html", gone, 410)
        tombstone["Cache-Control"] = public_cache_control()
        return tombstone
    now = timezone.now()
    row = dict(zip(artifacts.ASSERTION_STAMP, stamp, strict=True))
    issued_on = artifacts.as_datetime(row["issued_on"])
    assert issued_on is not None  # a required column
    code = verdict_code(bool(row["revoked"]), issued_on, artifacts.as_datetime(row["expires"]), now)

    def build() -> artifacts.Answer:
        assertion = (
            Assertion.objects.select_related("credential__issuer", "recipient")
            .filter(pk=row["pk"])
            .first()
        )
        if assertion is None:  # deleted since the stamp was read: as it was then
            raise Http404
        body = _render(
            request, "ibl_credentials/pages/badge.html", badge_context(assertion, base, now)
        )
        return artifacts.answer_of(body, 410 if assertion.revoked else 200, assertion.modified)

    # The page as rendered for these rows, this verdict (expiry moves with the clock)
    # and this language: cached whole, never stale (``artifacts``).
    parts = (*stamp, code, base)
    try:
        answer = artifacts.cached_answer(f"page-{translation.get_language()}", parts, build)
    except Http404:
        return badge_response(request, entity_id)
    response = _respond(request, answer.body, answer.status, answer.etag)
    response["Cache-Control"] = public_cache_control()
    return response


@require_safe
def badge_page(request: HttpRequest, entity_id: str) -> HttpResponse:
    """``/badges/{entityId}``: the page a learner shares."""
    return badge_response(request, entity_id)


@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    """``/verify/``: upload a baked image, or paste a credential (JSON, a VC-JWT or the
    URL of one of ours), and see each check. It calls the verifier the API uses."""
    context: dict[str, Any] = {"pasted": ""}
    if request.method == "POST":
        # The API's budget, per address: the page is the same verifier, not a way round
        # its throttle.
        throttle = ScopedApiThrottle()
        if not throttle.allow_request(Request(request), VerifyCredentialView()):
            context["error"] = _("Too many verifications from your address: try again later.")
            response = _page(request, "ibl_credentials/pages/verify.html", context, 429)
            response["Retry-After"] = str(max(1, math.ceil(throttle.wait())))
            return response
        pasted = request.POST.get("credential", "").strip()
        upload = request.FILES.get("file")
        context["pasted"] = pasted
        try:
            if upload is None and not pasted:
                raise VerificationInputError(_("Choose a badge image, or paste a credential."))
            context["result"] = verify_submission(
                credential=pasted or None, file=upload, base=links.base_url(request)
            )
        except VerificationInputError as error:
            context["error"] = str(error)
            return _page(request, "ibl_credentials/pages/verify.html", context, 400)
    return _page(request, "ibl_credentials/pages/verify.html", context, 200)
