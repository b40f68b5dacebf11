"""The image search, and its scope: a caller who is not an admin sees their own uploads."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

from ibl_credentials.models import UploadedImage
from ibl_credentials.permissions import IsPlatformAdminOrDMAdmin


class ImageSearchFilter(django_filters.FilterSet):
    """``query``: case-insensitive substring of the image's name. Used only when the
    request sends ``query`` (without it the view lists every image), so an empty or
    blank one is a 400."""

    query = django_filters.CharFilter(
        field_name="name",
        lookup_expr="icontains",
        required=True,
        max_length=254,
        help_text="Part of the image's name (not blank when sent).",
    )

    class Meta:
        model = UploadedImage
        fields: list[str] = []


class OwnImagesUnlessAdmin(BaseFilterBackend):
    """Platform admins and DM admins find every image of the platform; others their own."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        if IsPlatformAdminOrDMAdmin().has_permission(request, view):
            return queryset
        return queryset.filter(uploaded_by=request.user)
