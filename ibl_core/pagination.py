"""Pagination styles of the contract (``README.md``: "Pagination styles")."""

from __future__ import annotations

from typing import Any

from django.core.paginator import InvalidPage
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from .conf import ibl_settings


def positive_int_param(request: Request, name: str, default: int) -> int:
    """Read a 1-based integer query parameter; anything else is a 400 naming it."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise exceptions.ValidationError({name: ["A positive integer is required."]}) from None
    if value < 1:
        raise exceptions.ValidationError({name: ["A positive integer is required."]})
    return value


class CatalogPagination(PageNumberPagination):
    """``page`` / ``page_size``: bad values are 400, page_size is clamped, past the end 404."""

    page_query_param = "page"
    page_size_query_param = "page_size"

    def get_page_size(self, request: Request) -> int:
        requested = positive_int_param(request, self.page_size_query_param, ibl_settings.PAGE_SIZE)
        return min(requested, ibl_settings.MAX_PAGE_SIZE)

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        page_size = self.get_page_size(request)
        page_number = positive_int_param(request, self.page_query_param, 1)
        paginator = self.django_paginator_class(queryset, page_size)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage:
            raise exceptions.NotFound("Invalid page.") from None
        self.request = request
        return list(self.page)
