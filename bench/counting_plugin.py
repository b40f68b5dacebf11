"""A pytest plugin that runs the suite with ``CatalogPagination`` on ``CountingPaginator``.

``ibl_core/pagination.py`` is not switched yet; this checks the switch first::

    python -m pytest -p bench.counting_plugin tests/test_catalog_*.py

The count cache is cleared before each test: a rolled-back test deletes its rows,
and within ``cache_seconds`` a deletion is not seen by design.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


def pytest_sessionstart(session: pytest.Session) -> None:
    from ibl_core import pagination, paginator

    pagination.CatalogPagination.django_paginator_class = paginator.CountingPaginator


@pytest.fixture(autouse=True)
def _fresh_count_cache() -> Iterator[None]:
    from django.core.cache import caches

    from ibl_core.paginator import CountingPaginator

    caches[CountingPaginator.cache_alias].clear()
    yield
