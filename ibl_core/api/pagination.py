"""Pagination styles of the contract (docs/api.md, "Pagination")."""

from __future__ import annotations

import math
import re
from typing import Any

from django.core.paginator import InvalidPage
from rest_framework import exceptions
from rest_framework.pagination import LimitOffsetPagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api import envelope
from ibl_core.api.paginator import ExactCountPaginator
from ibl_core.conf import ibl_settings

#: Larger values cannot be ids or offsets in a 64-bit column.
MAX_INT_PARAM = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")


def int_param(request: Request, name: str, default: int, *, minimum: int) -> int:
    """Read an integer query parameter of at least ``minimum``; else a 400 naming it."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    message = (
        "A positive integer is required." if minimum >= 1 else "A non-negative integer is required."
    )
    # ASCII digits only: int() would also take "+1", "1_0" and other scripts' digits.
    if not _DIGITS.fullmatch(raw):
        raise exceptions.ValidationError({name: [message]})
    value = int(raw)
    if value < minimum:
        raise exceptions.ValidationError({name: [message]})
    if value > MAX_INT_PARAM:
        raise exceptions.ValidationError({name: [f"At most {MAX_INT_PARAM}."]})
    return value


def positive_int_param(request: Request, name: str, default: int) -> int:
    """A 1-based integer query parameter (``page``, ``page_size``, ids)."""
    return int_param(request, name, default, minimum=1)


def non_negative_int_param(request: Request, name: str, default: int) -> int:
    """A 0-based integer query parameter (``offset``)."""
    return int_param(request, name, default, minimum=0)


class CatalogPagination(PageNumberPagination):
    """``page`` / ``page_size``: bad values are 400, page_size is clamped, past the end 404.

    The envelope carries the neighbouring pages twice: ``next``/``previous`` (as the
    upstream documentation shows) and ``next_page``/``previous_page`` (what the
    published client's models and the upstream web client read).
    """

    page_query_param = "page"
    page_size_query_param = "page_size"
    # Page first, then the count the database keeps (unfiltered lists) or a join-free
    # COUNT: page 1 of a million suggestions costs what page 1 of a thousand does
    # (docs/performance.md). A view offers a kept count with ``exact_total()``.
    django_paginator_class = ExactCountPaginator
    #: The ``IBL_DATA_MANAGER`` keys of the default and the largest page: one regime for
    #: every page-number list, each list naming its own keys (read per request).
    page_size_setting = "PAGE_SIZE"
    max_page_size_setting = "MAX_PAGE_SIZE"

    @property
    def default_page_size(self) -> int:
        return int(getattr(ibl_settings, self.page_size_setting))

    @property
    def max_page_size(self) -> int:  # type: ignore[override]
        return int(getattr(ibl_settings, self.max_page_size_setting))

    def get_page_size(self, request: Request) -> int:
        requested = positive_int_param(request, self.page_size_query_param, self.default_page_size)
        return min(requested, self.max_page_size)

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        page_size = self.get_page_size(request)
        page_number = positive_int_param(request, self.page_query_param, 1)
        if (page_number - 1) * page_size > MAX_INT_PARAM:  # no such page: past any end
            raise exceptions.NotFound("Invalid page.")
        exact_total = getattr(view, "exact_total", None)
        paginator = self.django_paginator_class(
            queryset, page_size, total=exact_total() if exact_total else None
        )
        try:
            self.page = paginator.page(page_number)
        except InvalidPage:
            raise exceptions.NotFound("Invalid page.") from None
        self.request = request
        # The page's own list: iterating a Page goes through __getitem__ row by row.
        return list(self.page.object_list)

    def get_paginated_response(self, data: Any) -> Response:
        assert self.page is not None  # paginate_queryset ran
        next_link, previous_link = self.get_next_link(), self.get_previous_link()
        return Response(
            {
                "count": self.page.paginator.count,
                "next": next_link,
                "previous": previous_link,
                "next_page": next_link,
                "previous_page": previous_link,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        described = super().get_paginated_response_schema(schema)
        properties = described["properties"]
        for name, same_as in (("next_page", "next"), ("previous_page", "previous")):
            properties[name] = {**properties[same_as], "description": f"The same URL as {same_as}."}
        ordered = {
            name: properties[name]
            for name in ("count", "next", "previous", "next_page", "previous_page", "results")
        }
        described["properties"] = ordered
        described["required"] = list(ordered)
        return described


class CredentialsPagination(LimitOffsetPagination):
    """``limit`` / ``offset`` answered inside the credentials envelope.

    Bad values are 400; a limit above ``CREDENTIALS_MAX_PAGE_SIZE`` is clamped to it;
    an offset past the end gives an empty ``data``. ``page_number`` is
    ``offset // limit + 1`` and ``num_pages`` is at least 1.
    """

    template = None

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        # Both parameters are checked before the database is touched.
        self.request = request
        self.max_page_size = int(ibl_settings.CREDENTIALS_MAX_PAGE_SIZE)
        requested = positive_int_param(
            request, self.limit_query_param, ibl_settings.CREDENTIALS_PAGE_SIZE
        )
        limit = min(requested, self.max_page_size)
        offset = non_negative_int_param(request, self.offset_query_param, 0)
        count = self.get_count(queryset)
        self.limit, self.offset, self.count = limit, offset, count
        if count == 0 or offset >= count:
            return []
        return list(queryset[offset : offset + limit])

    def get_result(self, data: Any) -> dict[str, Any]:
        """The ``result`` object of a page, without the envelope."""
        limit, offset, count = int(self.limit or 1), int(self.offset or 0), int(self.count or 0)
        return {
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "count": count,
            "data": data,
            "num_pages": max(1, math.ceil(count / limit)),
            "page_number": offset // limit + 1,
            "max_page_size": self.max_page_size,
        }

    def get_paginated_response(self, data: Any) -> Response:
        return Response(envelope.success(self.get_result(data)))

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        url = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["status", "result"],
            "properties": {
                "status": {
                    "type": "object",
                    "properties": {
                        "success": {"type": "boolean", "example": True},
                        "description": {"type": "string", "example": envelope.OK},
                    },
                },
                "result": {
                    "type": "object",
                    "properties": {
                        "next": {**url, "example": "https://api.example.org/x/?limit=50&offset=50"},
                        "previous": url,
                        "count": {"type": "integer", "example": 10},
                        "data": schema,
                        "num_pages": {"type": "integer", "example": 1},
                        "page_number": {"type": "integer", "example": 1},
                        "max_page_size": {"type": "integer", "example": 1000},
                    },
                },
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.limit_query_param,
                "required": False,
                "in": "query",
                "description": "Number of results per page (default 50, at most 1000).",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.offset_query_param,
                "required": False,
                "in": "query",
                "description": "Index of the first result (default 0).",
                "schema": {"type": "integer", "minimum": 0},
            },
        ]


class CredentialsPagePagination(CatalogPagination):
    """``page`` / ``page_size`` lists of the credentials app: the catalog's rules (bad
    values 400, a ``page_size`` above the maximum clamped, a page past the end 404, an
    exact ``count``) answered as ``{next, previous, count, <items>, num_pages,
    page_number, max_page_size}``, in the envelope or bare as each list is published.

    Subclasses name the ``IBL_DATA_MANAGER`` keys of their default and largest page
    (``page_size_setting``, ``max_page_size_setting``), and set ``items_name``
    (``data``; ``results`` for the one list published so) and ``enveloped``.
    """

    page_size_setting = "CREDENTIAL_LIST_PAGE_SIZE"
    max_page_size_setting = "CREDENTIAL_LIST_MAX_PAGE_SIZE"
    items_name = "data"
    enveloped = True
    #: The ``page_size`` parameter's description in the schema.
    items_description = "Results"

    def get_page(self, data: Any) -> dict[str, Any]:
        """The page object without the envelope."""
        assert self.page is not None  # paginate_queryset ran
        return {
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "count": self.page.paginator.count,
            self.items_name: data,
            "num_pages": self.page.paginator.num_pages,
            "page_number": self.page.number,
            "max_page_size": self.max_page_size,
        }

    def get_paginated_response(self, data: Any) -> Response:
        page = self.get_page(data)
        return Response(envelope.success(page) if self.enveloped else page)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        url = {"type": "string", "format": "uri", "nullable": True}
        properties = {
            "next": url,
            "previous": url,
            "count": {"type": "integer", "example": 12},
            self.items_name: schema,
            "num_pages": {"type": "integer", "example": 2},
            "page_number": {"type": "integer", "example": 1},
            "max_page_size": {"type": "integer", "example": self.max_page_size},
        }
        return {"type": "object", "required": list(properties), "properties": properties}

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1 (default 1).",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": (
                    f"{self.items_description} per page (default {self.default_page_size}; "
                    f"larger than {self.max_page_size} is clamped)."
                ),
                "schema": {"type": "integer", "minimum": 1},
            },
        ]
