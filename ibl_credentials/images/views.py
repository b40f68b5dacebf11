"""Uploaded images: search or list a platform's images, upload one.

The checks every image goes through live in :mod:`ibl_credentials.images.pipeline`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api.pagination import CredentialsPagePagination, positive_int_param
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


class ImagePagination(CredentialsPagePagination):
    """The image list without ``query``: ``{next, previous, count, data, num_pages,
    page_number, max_page_size}``, bare (as the image search), ``page``/``page_size``
    with the credential list's sizes (``CREDENTIAL_LIST_PAGE_SIZE``: 10, at most 100)."""

    enveloped = False
    items_description = "Images"


#: The answer of GET images/: the search's array, or without ``query`` a page.
IMAGE_LIST_OR_SEARCH = {
    "oneOf": [
        {"type": "array", "items": {"$ref": "#/components/schemas/UploadedImage"}},
        ImagePagination().get_paginated_response_schema(
            {"type": "array", "items": {"$ref": "#/components/schemas/UploadedImage"}}
        ),
    ]
}


class ImagesView(ImageUploadViewMixin, CredentialsView):
    """GET (search by name, or list) and POST (upload) of a platform's images."""

    permission_classes = CREDENTIALS_MEMBER
    pagination_class = ImagePagination
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
        summary="Search images by name, or list them; newest first",
        description=(
            "Members of {org} (and DM admins). Platform admins and DM admins find every "
            "image of the platform, other members the images they uploaded. With "
            "query: an array of the matching images, at most 100 (configurable). "
            "Without query (the published client sends none): every image, a page at "
            "a time (page, page_size: default 10, at most 100) as "
            "{next, previous, count, data, num_pages, page_number, max_page_size}. A "
            "query sent empty or blank is 400; so is a bad page or page_size, also "
            "with query."
        ),
        parameters=[
            *PATH_PARAMETERS,
            OpenApiParameter(
                "query",
                OpenApiTypes.STR,
                description="Part of the image's name (case-insensitive); without it, a page.",
            ),
            OpenApiParameter(
                "page", OpenApiTypes.INT, description="Without query: the page (default 1)."
            ),
            OpenApiParameter(
                "page_size",
                OpenApiTypes.INT,
                description="Without query: images per page (default 10; above 100: 100).",
            ),
        ],
        responses={
            200: OpenApiResponse(
                IMAGE_LIST_OR_SEARCH,
                description="With query: an array. Without: a page of images.",
            ),
            **_IMAGE_ERRORS,
            404: OpenApiResponse(
                _IMAGE_ERRORS[404].response,
                description="Unknown platform or path user, or a page past the end.",
            ),
        },
    )
    def get(self, request: Request, org: str, user_id: str) -> Response:
        if "query" not in request.query_params:
            return self.list_page()
        # A search is not paged, but a bad page or page_size is still a 400.
        positive_int_param(request, "page", 1)
        positive_int_param(request, "page_size", ImagePagination().default_page_size)
        queryset = self.filter_queryset(self.get_queryset())
        found = queryset.only("id", "name", "file")[: ibl_settings.IMAGE_SEARCH_LIMIT]
        return Response(
            UploadedImageSerializer(found, many=True, context={"request": request}).data
        )

    def list_page(self) -> Response:
        """Every image the caller finds, a page at a time (no ``query``)."""
        visible = OwnImagesUnlessAdmin().filter_queryset(self.request, self.get_queryset(), self)
        page = self.paginate_queryset(visible.only("id", "name", "file"))
        serialized = UploadedImageSerializer(page, many=True, context={"request": self.request})
        return self.get_paginated_response(serialized.data)

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
