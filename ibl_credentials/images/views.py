"""Uploaded images: search a platform's images, upload one.

The checks every image goes through live in :mod:`ibl_credentials.images.pipeline`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api.schema import error_responses
from ibl_core.conf import ibl_settings
from ibl_core.models import Platform
from ibl_credentials.base import PATH_PARAMETERS, CredentialsView
from ibl_credentials.images.filters import ImageSearchFilter, OwnImagesUnlessAdmin
from ibl_credentials.images.pipeline import UPLOAD_PARSERS, ImageUploadViewMixin
from ibl_credentials.images.selectors import images_of_platform
from ibl_credentials.images.serializers import ImageUploadSerializer, UploadedImageSerializer
from ibl_credentials.images.services import upload_image
from ibl_credentials.models import UploadedImage
from ibl_credentials.permissions import CREDENTIALS_MEMBER

_IMAGE_ERRORS = error_responses(
    e400="Invalid request or refused image.",
    e401="Missing or invalid credentials.",
    e403="Not allowed.",
    e404="Unknown platform or path user.",
)


class ImagesView(ImageUploadViewMixin, CredentialsView):
    """GET (search by name) and POST (upload) of a platform's images."""

    permission_classes = CREDENTIALS_MEMBER
    parser_classes = UPLOAD_PARSERS
    write_throttle_scope = "uploads"
    filter_backends = [OwnImagesUnlessAdmin, DjangoFilterBackend]
    filterset_class = ImageSearchFilter
    model = UploadedImage

    def platform_queryset(self, platform: Platform) -> QuerySet:
        return images_of_platform(platform)

    def get_serializer_class(self) -> Any:
        # The browsable API builds its upload form from the body's serializer.
        if self.request is not None and self.request.method == "POST":
            return ImageUploadSerializer
        return UploadedImageSerializer

    @extend_schema(
        operation_id="credentials_orgs_users_images_retrieve",
        summary="Search images by name, newest first",
        description=(
            "Members of {org} (and DM admins). Platform admins and DM admins find every "
            "image of the platform, other members the images they uploaded. At most "
            "100 items (configurable), newest first."
        ),
        parameters=[
            *PATH_PARAMETERS,
            OpenApiParameter(
                "query",
                OpenApiTypes.STR,
                required=True,
                description="Part of the image's name (case-insensitive).",
            ),
        ],
        responses={200: UploadedImageSerializer(many=True), **_IMAGE_ERRORS},
    )
    def get(self, request: Request, org: str, user_id: str) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        found = queryset.only("id", "name", "file")[: ibl_settings.IMAGE_SEARCH_LIMIT]
        return Response(
            UploadedImageSerializer(found, many=True, context={"request": request}).data
        )

    @extend_schema(
        operation_id="credentials_orgs_users_images_create",
        summary="Upload an image",
        description=(
            "Members of {org} (and DM admins). The file is decoded and re-encoded without "
            "metadata, a JPEG at its own quality. SVG, HTML, truncated or corrupt files, "
            "files over 5 MiB (configurable) before or after re-encoding, images over "
            "4096x4096 pixels (WEBP: over 1024x1024) and JPEGs of more than 100 scans are "
            "400. A body larger than any valid upload is 413."
        ),
        parameters=PATH_PARAMETERS,
        request={"multipart/form-data": ImageUploadSerializer},
        responses={
            201: UploadedImageSerializer,
            **_IMAGE_ERRORS,
            **error_responses(
                e413="Request body too large.", e415="Not a multipart/form-data body."
            ),
        },
    )
    def post(self, request: Request, org: str, user_id: str) -> Response:
        serializer = ImageUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        image = upload_image(
            platform=self.get_platform(),
            uploaded_by=self.get_path_user(),
            **serializer.validated_data,
        )
        return Response(
            UploadedImageSerializer(image, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )
