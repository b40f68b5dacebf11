"""The assertion lists' pages: ``page`` / ``page_size``, answered without an envelope."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.pagination import CatalogPagination, positive_int_param

#: As published: page_size 1 to 1000, default 10.
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000


class AssertionPagination(CatalogPagination):
    """``{next, previous, count, num_pages, page_number, max_page_size, data}``.

    As the catalog's pages: bad ``page``/``page_size`` are 400, a ``page_size`` above
    1000 is clamped to it, a page past the end is 404, ``count`` is exact.
    """

    def get_page_size(self, request: Request) -> int:
        requested = positive_int_param(request, self.page_size_query_param, DEFAULT_PAGE_SIZE)
        return min(requested, MAX_PAGE_SIZE)

    def get_paginated_response(self, data: Any) -> Response:
        assert self.page is not None  # paginate_queryset ran
        return Response(
            {
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "count": self.page.paginator.count,
                "num_pages": self.page.paginator.num_pages,
                "page_number": self.page.number,
                "max_page_size": MAX_PAGE_SIZE,
                "data": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        url = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": [
                "next",
                "previous",
                "count",
                "num_pages",
                "page_number",
                "max_page_size",
                "data",
            ],
            "properties": {
                "next": url,
                "previous": url,
                "count": {"type": "integer", "example": 12},
                "num_pages": {"type": "integer", "example": 2},
                "page_number": {"type": "integer", "example": 1},
                "max_page_size": {"type": "integer", "example": MAX_PAGE_SIZE},
                "data": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "page",
                "required": False,
                "in": "query",
                "description": "Page number, from 1 (default 1).",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": "Assertions per page (default 10, at most 1000).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]
