"""``POST /api/credentials/verify/``: anyone checks a credential (``docs/verifying.md``).

Public (a token sent along is ignored) and throttled as a write, per address. A JSON
body is read by the bounded parser (413 above ``DATA_UPLOAD_MAX_MEMORY_SIZE``); a
multipart upload keeps at most ``IMAGE_MAX_BYTES`` of its file (the image pipeline's
upload handler), and a body no image could need is refused before it is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api.parsers import LimitedJSONParser, RequestTooLarge
from ibl_core.api.schema import DETAIL_BODY, ERROR_BODY
from ibl_core.api.views import PlatformScopedView
from ibl_credentials.images.pipeline import ImageUploadHandler, refuse_oversized_body
from ibl_credentials.openbadges import links
from ibl_credentials.openbadges.verification import VerificationInputError, verify_submission

CHECKS = inline_serializer(
    "VerificationCheck",
    many=True,
    fields={
        "check": serializers.CharField(
            help_text="structure, signature, key, issuer, dates, status or hosted."
        ),
        "ok": serializers.BooleanField(),
        "detail": serializers.CharField(),
    },
)
RESULT = inline_serializer(
    "VerificationResult",
    fields={
        "valid": serializers.BooleanField(help_text="Every check is ok."),
        "format": serializers.CharField(
            help_text="ob2 (Open Badges 2.0), ob3-ld (3.0 with an embedded proof) or ob3-jwt."
        ),
        "checks": CHECKS,
        "credential": serializers.JSONField(
            allow_null=True, help_text="The credential as read (a JWT's payload), or null."
        ),
    },
)
JSON_REQUEST = inline_serializer(
    "VerificationRequest",
    fields={
        "credential": serializers.JSONField(
            help_text=(
                "An Open Badges 2.0 assertion or an Open Badges 3.0 credential with an "
                "embedded eddsa-rdfc-2022 proof (a JSON object), a compact VC-JWT, or the "
                "URL of an assertion or credential of this server (a string)."
            )
        )
    },
)
UPLOAD_REQUEST = inline_serializer(
    "VerificationUpload",
    fields={
        "file": serializers.FileField(
            required=False, help_text="A baked PNG or SVG badge image (or send credential)."
        ),
        "credential": serializers.CharField(
            required=False,
            help_text="Instead of file: the credential as text (JSON, a VC-JWT or a URL).",
        ),
    },
)
DESCRIPTION = (
    "No authentication. Checks a credential someone hands you and says why it is or is "
    "not valid, one line per check: structure (the fields the specification requires), "
    "signature (eddsa-rdfc-2022 or a VC-JWT signed with EdDSA), key (did:key offline, "
    "did:web of this server; another host's did:web is unresolvable unless the server "
    "allows fetching it), issuer (the issuer is the signing key's DID), dates, status "
    "(revocation: this server's status lists and hosted assertions are read directly; a "
    "list elsewhere is not checked) and, for Open Badges 2.0, hosted. valid is true when "
    "every check is ok. Nothing is downloaded: JSON-LD contexts are the ones shipped, and "
    'URLs are read only when they are this server\'s. Send JSON {"credential": ...} or a '
    "multipart upload of a baked PNG or SVG image in file. A body that holds no "
    "credential is 400."
)


class VerifyCredentialView(PlatformScopedView):
    """Verify a credential: Open Badges 2.0 hosted, 3.0 JSON-LD or VC-JWT, or a baked
    image."""

    authentication_classes: list[Any] = []  # public: a token sent along is ignored
    permission_classes = [AllowAny]
    parser_classes = [LimitedJSONParser, MultiPartParser]
    serializer_class = type(JSON_REQUEST)  # what OPTIONS describes

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # An uploaded file is kept up to IMAGE_MAX_BYTES, whatever its size.
        request.upload_handlers = [ImageUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        operation_id="credentials_verify_create",
        tags=["credentials"],
        summary="Verify a credential (public)",
        description=DESCRIPTION,
        auth=[],
        request={"application/json": JSON_REQUEST, "multipart/form-data": UPLOAD_REQUEST},
        responses={
            200: OpenApiResponse(RESULT, description="The verdict and each check."),
            400: OpenApiResponse(
                ERROR_BODY,
                description=(
                    "No credential: nothing sent, not JSON, not an image, an image without "
                    'a baked credential ({"detail": ...}); a NUL character in the JSON body '
                    "({field: [message]})."
                ),
            ),
            413: OpenApiResponse(DETAIL_BODY, description="The body is too large."),
            415: OpenApiResponse(
                DETAIL_BODY,
                description="A body that is neither JSON nor multipart/form-data.",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        if (request.content_type or "").startswith("multipart/"):
            refuse_oversized_body(request._request)
        try:
            data = request.data
        except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
            # Django's limits on form fields: its bare 400 would not say which.
            raise RequestTooLarge(
                "Request body too large: form fields are limited to "
                f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes and "
                f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields; upload the image as file, "
                "or send the credential as JSON."
            ) from None
        if not isinstance(data, Mapping):
            return _bad_request('The body must be a JSON object: {"credential": ...}.')
        upload = request.FILES.get("file") if hasattr(request, "FILES") else None
        try:
            result = verify_submission(
                credential=data.get("credential"),
                file=upload,
                base=links.base_url(request._request),
            )
        except VerificationInputError as error:
            return _bad_request(str(error))
        return Response(result.as_json())


def _bad_request(detail: str) -> Response:
    return Response({"detail": detail}, status=400)
