"""The example project's URLs plus the bench-only routes, served by the same gunicorn.

* ``bench/reference/program-suggestions/``: the plain-Django reference list.
* ``bench/raw-sql/...``: the raw-SQL references of the lists (``bench/reference_sql.py``).
* ``bench/counted/program-suggestions/``: the API's own list view without the count
  the database keeps, so it runs a (join-free) ``COUNT`` on every request: both
  counts are measured in one run without touching the API's code.
* ``bench/same-bytes/?path=...``: a public path's bytes from memory (``bench/same_bytes.py``).
* ``bench/bare/program-suggestions/`` and ``bench/bare/issue/<org>/<credential>/``: a
  single write in plain Django (``bench/writes.py``).
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from bench.reference import reference_suggestions
from bench.reference_sql import raw_sql_assertions, raw_sql_suggestions
from bench.same_bytes import same_bytes
from bench.writes import bare_issue, bare_suggestion
from ibl_catalog import urls as catalog_urls
from ibl_core.api.pagination import CatalogPagination
from ibl_core.api.paginator import ExactCountPaginator

PAGINATORS = {"counted": ExactCountPaginator}


def list_view_with(name: str, paginator_class: type) -> object:
    """The program-suggestions list view, paginated by ``paginator_class``, counting."""
    pattern = next(
        p
        for p in catalog_urls.urlpatterns
        if isinstance(p, URLPattern) and p.name == "program-suggestions-manage"
    )
    view_class = pattern.callback.view_class  # type: ignore[attr-defined]
    pagination = type(
        f"{name.title()}CatalogPagination",
        (CatalogPagination,),
        {"django_paginator_class": paginator_class},
    )
    variant = type(
        f"{name.title()}{view_class.__name__}",
        (view_class,),
        {"exact_total": lambda self: None},  # no kept count: the paginator counts
    )
    variant.pagination_class = pagination
    return variant.as_view()


urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/reference/program-suggestions/", reference_suggestions),
    path("bench/raw-sql/program-suggestions/", raw_sql_suggestions),
    path(
        "bench/raw-sql/credentials/orgs/<str:org>/users/<str:user_id>/<str:entity_id>/assertions/",
        raw_sql_assertions,
    ),
    path("bench/same-bytes/", same_bytes),
    path("bench/bare/program-suggestions/", bare_suggestion),
    path("bench/bare/issue/<str:org>/<str:entity_id>/", bare_issue),
    *(
        path(f"bench/{name}/program-suggestions/", list_view_with(name, paginator_class))
        for name, paginator_class in PAGINATORS.items()
    ),
    path("", include("example_project.urls")),
]
