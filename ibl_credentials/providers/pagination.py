"""The provider lists' pages: ``page`` / ``page_size`` (default 50, at most 1000),
answered in the envelope."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator

from ibl_core.api.pagination import CredentialsPagePagination


class ProviderPagination(CredentialsPagePagination):
    """As published for provider configurations and mappings: 50 a page, at most 1000."""

    default_page_size = 50
    max_page_size = 1000
    enveloped = True


class _ListPaginator(Paginator):
    """Django's paginator over a Python list (the providers are not rows)."""

    def __init__(self, object_list: Any, per_page: int, total: Any = None, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)


class ProviderListPagination(ProviderPagination):
    """The providers this server knows: a list in memory, paged the same way."""

    django_paginator_class = _ListPaginator  # type: ignore[assignment]
