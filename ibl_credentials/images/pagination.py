"""The image list's pages (without ``query``)."""

from __future__ import annotations

from ibl_core.api.pagination import CredentialsPagePagination


class ImagePagination(CredentialsPagePagination):
    """The image list without ``query``: ``{next, previous, count, data, num_pages,
    page_number, max_page_size}``, bare (as the image search), ``page``/``page_size``
    with the credential list's sizes (``CREDENTIAL_LIST_PAGE_SIZE``: 10, at most 100)."""

    enveloped = False
    items_description = "Images"
