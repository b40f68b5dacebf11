"""The OpenAPI description of :mod:`ibl_credentials.images.views`: one
decorator per operation, so the views hold only what they do."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from ibl_core.api.schema import error_responses
from ibl_credentials.base import PATH_PARAMETERS
from ibl_credentials.images.pagination import ImagePagination
from ibl_credentials.images.serializers import ImageUploadSerializer, UploadedImageSerializer

_IMAGE_ERRORS = error_responses(
    e400="Invalid request or refused image.",
    e401="Missing or invalid credentials.",
    e403="Not allowed.",
    e404="Unknown platform or path user.",
)

#: The answer of GET images/: the search's array, or without ``query`` a page.
IMAGE_LIST_OR_SEARCH = {
    "oneOf": [
        {"type": "array", "items": {"$ref": "#/components/schemas/UploadedImage"}},
        ImagePagination().get_paginated_response_schema(
            {"type": "array", "items": {"$ref": "#/components/schemas/UploadedImage"}}
        ),
    ]
}

IMAGES_GET = extend_schema(
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

IMAGES_POST = extend_schema(
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
        **error_responses(e413="Request body too large.", e415="Not a multipart/form-data body."),
    },
)
