"""``ibl_core.api.paginator``: exact pages, cheap and honest counts."""

from __future__ import annotations

import pytest
from django.core.paginator import EmptyPage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ibl_catalog.declarations import PROGRAM_SUGGESTIONS
from ibl_catalog.models import ProgramSuggestion
from ibl_catalog.suggestions import selectors
from ibl_core.api.paginator import ExactCountPaginator, counting_queryset
from ibl_core.models import DepartmentMember
from tests.support.factories import (
    DepartmentFactory,
    MembershipFactory,
    PlatformFactory,
    ProgramFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
KIND = PROGRAM_SUGGESTIONS


@pytest.fixture
def platform():
    return PlatformFactory()


def suggest(platform, count: int) -> list[ProgramSuggestion]:
    program = ProgramFactory(platform=platform)
    users = UserFactory.create_batch(count)
    for user in users:
        MembershipFactory(user=user, platform=platform)
    return ProgramSuggestion.objects.bulk_create(
        ProgramSuggestion(platform=platform, user=user, program=program) for user in users
    )


def rows(platform, **filters):
    suggestions = selectors.suggestions_of_platform(KIND, platform).filter(**filters)
    return selectors.suggestion_rows(KIND, suggestions.order_by("-id"), platform)


def count_sql(queryset) -> str:
    with CaptureQueriesContext(connection) as captured:
        counting_queryset(queryset).count()
    return captured.captured_queries[-1]["sql"]


def test_count_drops_the_display_joins(platform):
    assert "JOIN" not in count_sql(rows(platform))


def test_count_keeps_the_joins_a_filter_uses(platform):
    suggest(platform, 3)
    # (The list's search filters by ids, without joins: a joined filter is made here.)
    searched = rows(platform).filter(user__username__icontains="no such text")
    assert "JOIN" in count_sql(searched)
    assert counting_queryset(searched).count() == 0
    assert counting_queryset(rows(platform).filter(user__username__icontains="user")).count() == 3


def test_count_with_a_department_scope_subquery(platform):
    made = suggest(platform, 3)
    department = DepartmentFactory(platform=platform)
    DepartmentMember.objects.create(department=department, user=made[0].user)
    scope = DepartmentMember.objects.filter(department=department).values("user_id")
    scoped = selectors.suggestion_rows(
        KIND, selectors.suggestions_of_platform(KIND, platform, scope).order_by("-id"), platform
    )
    assert counting_queryset(scoped).count() == 1


@pytest.mark.parametrize("paginator_class", [ExactCountPaginator])
def test_pages_counts_and_past_the_end(platform, paginator_class):
    suggest(platform, 5)
    first = paginator_class(rows(platform), 2).page(1)
    assert first.paginator.count == 5 and first.has_next() and len(first) == 2
    last = paginator_class(rows(platform), 2).page(3)
    assert last.paginator.count == 5 and not last.has_next() and len(last) == 1
    with pytest.raises(EmptyPage):
        paginator_class(rows(platform), 2).page(4)
    empty = paginator_class(rows(PlatformFactory()), 2).page(1)
    assert empty.paginator.count == 0 and list(empty) == []


def test_a_full_last_page_needs_no_count(platform):
    suggest(platform, 4)
    with CaptureQueriesContext(connection) as captured:
        page = ExactCountPaginator(rows(platform), 2).page(2)
    assert page.paginator.count == 4 and not page.has_next()
    assert not any("COUNT" in query["sql"] for query in captured.captured_queries)


def test_a_known_total_replaces_counting(platform):
    suggest(platform, 5)
    with CaptureQueriesContext(connection) as captured:
        page = ExactCountPaginator(rows(platform), 2, total=lambda: 5).page(1)
    assert page.paginator.count == 5 and page.paginator.num_pages == 3
    assert not any("COUNT" in query["sql"] for query in captured.captured_queries)


def test_a_known_total_below_what_the_page_proves_is_not_believed(platform):
    suggest(platform, 5)
    assert ExactCountPaginator(rows(platform), 2, total=lambda: 1).page(1).paginator.count == 3
