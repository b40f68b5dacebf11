"""A page-number paginator whose ``count`` is exact and cheap on large lists.

Django's :class:`~django.core.paginator.Paginator` runs ``SELECT COUNT(*)`` over
the whole list on every request, with every join the page query needs, before it
fetches the page. On a platform with a million suggestions that count costs more
than everything else in the request together (``docs/performance.md``).

:class:`ExactCountPaginator` fetches the page first (one row more than the page
size). When that extra row is absent the page is the last one and the count is known
without counting. Otherwise it asks ``total`` when the caller has an exact number kept
by the database (an unfiltered list: ``ibl_catalog.suggestions.counts``), and else
counts, without the joins that cannot change the number of rows (a non-null foreign
key to a unique key, which the database enforces). ``count`` is exact at every
request; nothing is cached.

A page past the end is decided from the rows fetched, never from a count, so it is
always a 404 (``EmptyPage``), and ``next``/``previous`` are right.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import models
from django.db.models import QuerySet
from django.db.models.expressions import Col, RawSQL
from django.db.models.sql.constants import LOUTER
from django.db.models.sql.datastructures import Join
from django.db.models.sql.query import Query
from django.db.models.sql.where import ExtraWhere


class SlicedRows:
    """A list the paginator reads a slice of (a compiled query's page), whose number
    of rows the paginator's ``total`` answers: ``source[start:stop]`` is a list."""

    def __getitem__(self, window: slice) -> list[Any]:
        raise NotImplementedError

    def __len__(self) -> int:  # Paginator's count without ``total``: never asked
        raise TypeError("SlicedRows are counted by the paginator's total")


class ExactCountPaginator(Paginator):
    """A :class:`Paginator` that counts only when the page cannot tell, and cheaply.

    ``total``, when given, returns the exact number of rows of ``object_list`` without
    counting them (a count the database keeps).
    """

    def __init__(self, *args: Any, total: Callable[[], int] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.total = total

    def page(self, number: Any) -> Page:
        if self.orphans or not isinstance(self.object_list, QuerySet | SlicedRows):
            return super().page(number)
        number = self.validate_page_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        more = len(rows) > self.per_page
        del rows[self.per_page :]
        if not rows and (number > 1 or not self.allow_empty_first_page):
            raise EmptyPage(self.error_messages["no_results"])
        seen = bottom + len(rows)
        # Under READ COMMITTED the count may see a later snapshot than the page; never
        # answer fewer rows than the page itself proves.
        count = max(self.count_at_least(seen + 1), seen + 1) if more else seen
        self.__dict__["count"] = count  # Paginator.count and num_pages are cached properties
        self.__dict__.pop("num_pages", None)
        return Page(rows, number, self)

    def validate_page_number(self, number: Any) -> int:
        """``validate_number`` without the upper bound, which would need the count."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def count_at_least(self, minimum: int) -> int:
        """The number of rows, known to be at least ``minimum``."""
        if self.total is not None:
            return self.total()
        if isinstance(self.object_list, SlicedRows):
            raise TypeError("SlicedRows need the paginator's total")
        return counting_queryset(cast(QuerySet, self.object_list)).count()


def counting_queryset(queryset: QuerySet) -> QuerySet:
    """``queryset`` reduced to what its row count depends on.

    Ordering and selected columns go, and so do joins that the filters do not use
    and that keep exactly one row per row: a forward foreign key that is not null and
    enforced by the database (or a LEFT JOIN), to a unique key, with no extra
    condition. Anything unusual (raw SQL, DISTINCT, GROUP BY, a slice, a union)
    keeps every join.
    """
    counted = queryset.order_by().values("pk")
    query = counted.query
    if (
        query.distinct
        or query.combinator
        or query.group_by is not None
        or query.extra
        or query.is_sliced
    ):
        return counted
    needed = filter_aliases(query)
    if needed is None:
        return counted
    needed.add(query.get_initial_alias())
    joins = {alias: join for alias, join in query.alias_map.items() if isinstance(join, Join)}
    needed |= {alias for alias, join in joins.items() if not keeps_one_row_per_row(join)}
    # A needed join needs the joins it hangs from.
    for alias in list(needed):
        while alias in joins:
            alias = joins[alias].parent_alias
            needed.add(alias)
    for alias in joins:
        if alias not in needed:
            query.alias_refcount[alias] = 0
    return counted


def filter_aliases(query: Query) -> set[str] | None:
    """Table aliases the WHERE clause refers to; ``None`` if raw SQL may name any."""
    aliases: set[str] = set()

    def visit(nodes: Iterable[Any]) -> bool:
        for node in nodes:
            if isinstance(node, RawSQL | ExtraWhere):
                return False
            if isinstance(node, Col):
                aliases.add(node.alias)
            elif isinstance(node, Query):
                aliases.update(col.alias for col in node.get_external_cols())
            elif hasattr(node, "get_source_expressions") and not visit(
                node.get_source_expressions()
            ):
                return False
        return True

    return aliases if visit([query.where]) else None


def keeps_one_row_per_row(join: Join) -> bool:
    """Whether ``join`` matches exactly one row for each row it is joined to."""
    field = join.join_field
    if join.filtered_relation is not None or not isinstance(field, models.ForeignKey):
        return False  # reverse and many-to-many joins multiply rows; conditions drop them
    if join.join_type == LOUTER:
        return True
    return not field.null and getattr(field, "db_constraint", True)
