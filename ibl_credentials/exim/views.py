"""The course credential export (GET) and import (POST). Thin: parse, call the service.

The answers are bare (the document is meant to be saved and sent back as it is), with
DRF's standard error body, like the assertion endpoints.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api.views import PlatformScopedView
from ibl_core.conf import ibl_settings
from ibl_credentials.exim import schema, services
from ibl_credentials.exim.permissions import EXIM
from ibl_credentials.exim.serializers import ExportQuerySerializer, ImportDocumentSerializer


class CourseExportView(PlatformScopedView):
    """GET: the export document of a course's credentials."""

    permission_classes = EXIM

    @extend_schema(**schema.EXPORT)
    def get(self, request: Request, course_id: str) -> Response:
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        document = services.export_course(
            course_id,
            platform=query.validated_data.get("platform"),
            absolute=request.build_absolute_uri,
            site_media_url=services.site_media(request),
            inline_images=query.validated_data["images"] == "inline",
        )
        return Response(document)


class CourseImportView(PlatformScopedView):
    """POST: import an export document for a course."""

    permission_classes = EXIM
    write_throttle_scope = "bulk"

    def max_body_bytes(self) -> int:
        return int(ibl_settings.BULK_MAX_BODY_BYTES)  # inline images make large documents

    def get_serializer_class(self) -> Any:
        return ImportDocumentSerializer  # the browsable API's POST form

    @extend_schema(**schema.IMPORT)
    def post(self, request: Request, course_id: str) -> Response:
        document = ImportDocumentSerializer(data=request.data, context={"course_id": course_id})
        document.is_valid(raise_exception=True)
        data = document.validated_data
        target = services.ImportTarget(
            source_course=data["course"],
            course=data["target_course"],
            platform=data.get("target_platform"),
            new_ids=data["new_ids"],
        )
        report = services.import_document(
            data["credentials"], target, user=request.user, request=request
        )
        return Response(report.as_dict(), status=report.status_code)
