"""The assertion lists' pages: ``page`` / ``page_size``, answered without an envelope."""

from __future__ import annotations

from ibl_core.api.pagination import CredentialsPagePagination

#: As published: page_size 1 to 1000, default 10.
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000


class AssertionPagination(CredentialsPagePagination):
    """``{next, previous, count, num_pages, page_number, max_page_size, data}``, bare."""

    default_page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    enveloped = False
    items_description = "Assertions"
