"""The over-time counts: days, ranges and the queries that count per day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from ibl_core.models import Department, DepartmentMember, Platform
from ibl_credentials.models import Assertion

UTC = dt.UTC


DEFAULT_DAYS = 30


MAX_DAYS = 366


EARLIEST_DATE = dt.date(1900, 1, 1)


MAX_ID = 2**63 - 1


UNKNOWN_DEPARTMENT = "Not a department of this platform."


DEPARTMENT_NEEDS_MODE = "department_id filters only with department_mode=true."


def utc_today() -> dt.date:
    """Today's date in UTC: the default end of a range."""
    return dt.datetime.now(UTC).date()


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=UTC)


def day_end(day: dt.date) -> dt.datetime:
    # The last instant of the day rather than the next midnight: 9999-12-31 has no next day.
    return dt.datetime.combine(day, dt.time.max, tzinfo=UTC)


def within(field: str, first: dt.date, last: dt.date) -> Q:
    """``field`` falls on one of the UTC days from ``first`` to ``last``, both included."""
    return Q(**{f"{field}__gte": day_start(first), f"{field}__lte": day_end(last)})


@dataclass(frozen=True)
class OverTimeQuery:
    """What one over-time request asks for, validated."""

    start: dt.date
    end: dt.date
    department: Department | None

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def counts_per_day(queryset: QuerySet, field: str, query: OverTimeQuery) -> dict[str, int]:
    """``{"YYYY-MM-DD": n}`` for every day of the range, in order: one grouped query."""
    rows = (
        queryset.filter(within(field, query.start, query.end))
        .annotate(day=TruncDate(field, tzinfo=UTC))
        .values("day")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("day", "count")
    )
    found = dict(rows)
    return {day.isoformat(): found.get(day, 0) for day in query.days}


def change_percent(later: int, earlier: int) -> float | None:
    """How much ``later`` grew from ``earlier``, in percent of it (two decimals).

    From nothing to nothing is no change (0.0); from nothing to something has no
    percentage (``None``).
    """
    if earlier == 0:
        return 0.0 if later == 0 else None
    return round((later - earlier) * 100 / earlier, 2)


def change_meta(queryset: QuerySet, field: str, query: OverTimeQuery, in_range: int) -> dict:
    """The ``meta`` of ``assertions-over-time``: one aggregate query.

    Each period is compared with the equally long one just before it: the range, and
    the last 7 and 30 days ending on ``end_date``.
    """
    end, length = query.end, len(query.days)

    def days_before(first: dt.date, count: int) -> Q:
        return within(field, first - dt.timedelta(days=count), first - dt.timedelta(days=1))

    last_7, last_30 = end - dt.timedelta(days=6), end - dt.timedelta(days=29)
    counts = queryset.filter(**{f"{field}__lte": day_end(end)}).aggregate(
        total=Count("pk"),
        before_range=Count("pk", filter=days_before(query.start, length)),
        last_7=Count("pk", filter=within(field, last_7, end)),
        before_7=Count("pk", filter=days_before(last_7, 7)),
        last_30=Count("pk", filter=within(field, last_30, end)),
        before_30=Count("pk", filter=days_before(last_30, 30)),
    )
    return {
        "total": counts["total"],
        "change_range": in_range - counts["before_range"],
        "change_last_seven_days": counts["last_7"] - counts["before_7"],
        "change_last_thirty_days": counts["last_30"] - counts["before_30"],
        "change_last_seven_days_percent": change_percent(counts["last_7"], counts["before_7"]),
        "change_last_thirty_days_percent": change_percent(counts["last_30"], counts["before_30"]),
        "change_range_percent": change_percent(in_range, counts["before_range"]),
    }


def assertions_counted(platform: Platform, query: OverTimeQuery) -> QuerySet[Assertion]:
    """The platform's assertions, of the department's current members when one is asked."""
    assertions = Assertion.objects.filter(platform=platform)
    if query.department is not None:
        members = DepartmentMember.objects.filter(department=query.department)
        assertions = assertions.filter(recipient_id__in=members.values("user_id"))
    return assertions
