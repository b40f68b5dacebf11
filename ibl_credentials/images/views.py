"""Uploaded images: search or list a platform's images, upload one.

The checks every image goes through live in :mod:`ibl_credentials.images.pipeline`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api.pagination import positive_int_param
from ibl_core.conf import ibl_settings
from ibl_core.models import Platform
from ibl_credentials.base import CredentialsView
from ibl_credentials.images import schema
from ibl_credentials.images.filters import ImageSearchFilter, OwnImagesUnlessAdmin
from ibl_credentials.images.pagination import ImagePagination
from ibl_credentials.images.pipeline import UPLOAD_PARSERS, ImageUploadViewMixin
from ibl_credentials.images.selectors import images_of_platform
from ibl_credentials.images.serializers import ImageUploadSerializer, UploadedImageSerializer
from ibl_credentials.images.services import upload_image
from ibl_credentials.models import UploadedImage
from ibl_credentials.permissions import CREDENTIALS_MEMBER


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

    @schema.IMAGES_GET
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

    @schema.IMAGES_POST
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
