"""The assertion lists' pages: ``page`` / ``page_size``, answered without an envelope."""

from __future__ import annotations

from ibl_core.api.pagination import CredentialsPagePagination


class AssertionPagination(CredentialsPagePagination):
    """``{next, previous, count, num_pages, page_number, max_page_size, data}``, bare;
    ``ASSERTION_LIST_PAGE_SIZE`` (10) by default, at most ``ASSERTION_LIST_MAX_PAGE_SIZE``
    (1000), as published."""

    page_size_setting = "ASSERTION_LIST_PAGE_SIZE"
    max_page_size_setting = "ASSERTION_LIST_MAX_PAGE_SIZE"
    enveloped = False
    items_description = "Assertions"
