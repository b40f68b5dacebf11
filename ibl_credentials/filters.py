"""Query parameters of the credentials lists, and the image search scope."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from rest_framework import exceptions
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

from ibl_core.platforms import platform_for_request

from .models import Credential, Issuer, ItemKind, UploadedImage
from .permissions import IsPlatformAdminOrDMAdmin
from .selectors import linked_to


class IssuerFilter(django_filters.FilterSet):
    """``q``: case-insensitive substring of the issuer's name."""

    q = django_filters.CharFilter(
        field_name="name",
        lookup_expr="icontains",
        max_length=255,
        help_text="Part of the issuer's name.",
    )

    class Meta:
        model = Issuer
        fields: list[str] = []


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


class CredentialFilter(django_filters.FilterSet):
    """``search`` (name or description), ``course`` / ``program`` / ``pathway`` (a linked
    item's key), ``platform_org`` (must name the path's platform)."""

    search = django_filters.CharFilter(
        method="filter_search", max_length=255, help_text="Part of the name or description."
    )
    course = django_filters.CharFilter(
        method="filter_item", max_length=255, help_text="Credentials linked to this course key."
    )
    program = django_filters.CharFilter(
        method="filter_item", max_length=255, help_text="Credentials linked to this program key."
    )
    pathway = django_filters.CharFilter(
        method="filter_item", max_length=255, help_text="Credentials linked to this pathway id."
    )
    platform_org = django_filters.CharFilter(
        method="filter_platform_org",
        max_length=255,
        help_text="The platform's org (or key); must name the platform of the path.",
    )

    class Meta:
        model = Credential
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))

    def filter_item(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(linked_to(ItemKind(name), value))

    def filter_platform_org(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        platform = platform_for_request(self.request, None)  # resolved from the path already
        if value not in (platform.org, platform.key):
            raise exceptions.ValidationError(
                {"platform_org": ["platform_org and the path name different platforms."]}
            )
        return queryset


class PublicCredentialsUnlessAdmin(BaseFilterBackend):
    """Platform admins and DM admins see every credential of the platform; other
    members the public ones (a private one is "not found" for them)."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        if IsPlatformAdminOrDMAdmin().has_permission(request, view):
            return queryset
        return queryset.filter(public=True)
