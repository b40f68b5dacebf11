"""The OpenAPI text of the import/export endpoints (kept out of the views)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from ibl_core.api.schema import error_responses
from ibl_credentials.exim.serializers import (
    MAX_IMPORT_CREDENTIALS,
    ExportDocumentSerializer,
    ImportDocumentSerializer,
    ImportReportSerializer,
)

COURSE_ID = OpenApiParameter(
    "course_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="A course key."
)
_ACCESS = {
    "e401": "Missing or invalid credentials.",
    "e403": "Not a DM admin.",
}

EXPORT: dict[str, Any] = {
    "operation_id": "credentials_exim_credentials_course_export_retrieve",
    "summary": "Export a course's credentials (DM admins)",
    "description": (
        "DM admins only. Every credential linked to the course (on every platform, or on "
        "`platform`), as a versioned document that the import reads: the definition, "
        "tags, alignments, expiry rule, issuer reference, images (absolute URL and "
        "SHA-256 of the file), course/program/pathway links and provider mappings. No "
        "assertions, keys or secrets. `images=inline` adds each image's bytes as a data "
        "URL, for a server that cannot reach this one."
    ),
    "parameters": [
        COURSE_ID,
        OpenApiParameter(
            "images",
            OpenApiTypes.STR,
            enum=["url", "inline"],
            description="url (default): URL and hash; inline: also the bytes (data URL).",
        ),
        OpenApiParameter(
            "platform",
            OpenApiTypes.STR,
            description="Only this platform's credentials (its key or org).",
        ),
    ],
    "responses": {
        200: ExportDocumentSerializer,
        **error_responses(e400="Invalid query parameter or unknown platform.", **_ACCESS),
    },
}

IMPORT: dict[str, Any] = {
    "operation_id": "credentials_exim_credentials_course_import_create",
    "summary": "Import a course's credentials (DM admins)",
    "description": (
        "DM admins only. The body is an export document, optionally with `target_course` "
        "(default: the course of the path), `target_platform` (default: each credential's "
        "own platform) and `new_ids` (true: copies under new entityIds, the same ones at "
        "every import). Each credential is created or updated by its entityId, in its own "
        "transaction; the same document imported twice changes nothing. 201 when every "
        "credential was created, 200 when none failed and some were updated or unchanged, "
        "207 with one result per credential when some failed; 400 when the document "
        f"itself is invalid (format, version, more than {MAX_IMPORT_CREDENTIALS} "
        "credentials...), nothing imported."
    ),
    "parameters": [COURSE_ID],
    "request": ImportDocumentSerializer,
    "responses": {
        200: OpenApiResponse(ImportReportSerializer, description="None failed, not all created."),
        201: OpenApiResponse(ImportReportSerializer, description="Every credential created."),
        207: OpenApiResponse(ImportReportSerializer, description="Some credentials failed."),
        **error_responses(
            e400="Invalid document (nothing imported).",
            **_ACCESS,
            e413="Body too large.",
        ),
    },
}
