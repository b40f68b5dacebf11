"""Part ``family``: course and pathway suggestions, and the fan-out of group suggestions."""

from __future__ import annotations

import json
import statistics
from typing import Any

from bench.bulk import BULK_RAW_TARGET
from bench.client import Client
from bench.harness import BULK, MANAGE, Plan, Report, close_connections, spread

#: Members of the group whose fan-out is timed.
FANOUT_MEMBERS = 5_000


def bench_family(
    report: Report, client: Client, bench: Any, big: Any, big_client: Client, plan: Plan
) -> None:
    """Course bulk against the raw upsert of its rows; a group's fan-out against a bulk
    request of the same rows, on the platform of 10,000 users (before its scale load)."""
    from bench import data
    from ibl_catalog.models import CourseSuggestion, ProgramGroupSuggestion, ProgramSuggestion
    from ibl_core.models import Event

    database = report.meta["database"]

    n = plan.bulk_rows
    members = min(FANOUT_MEMBERS, len(big.user_ids))
    report.start(f"Family: course bulk ({n:,} rows), group fan-out ({members:,} members)")
    courses = data.create_courses(bench, plan.bulk_programs)
    rows = [
        {"user_id": user_id, "course_id": course_id, "metadata": {"source": "bench"}}
        for user_id in bench.user_ids[: plan.bulk_users]
        for _, course_id in courses
    ]
    body = json.dumps({"platform_key": bench.key, "suggestion_data": rows}).encode()
    pairs = [(u, pk) for u in bench.user_ids[: plan.bulk_users] for pk, _ in courses]
    sql, params = data.raw_upsert(
        bench, pairs, {"source": "bench"}, model=CourseSuggestion, item_column="item_id"
    )
    course_bulk = "/api/catalog/suggestions/course/manage/bulk/"
    api_times, raw_times = [], []
    for sample in range(plan.bulk_samples):
        for side in ("raw", "api") if sample % 2 == 0 else ("api", "raw"):
            data.reset_kind(bench, CourseSuggestion)
            close_connections()
            if side == "api":
                response = client.request(
                    "POST", course_bulk, body=body, headers={"Content-Type": "application/json"}
                )
                if response.status != 200 or response.json().get("successes") != n:
                    raise RuntimeError(f"course bulk: {response.status} {response.body[:300]!r}")
                api_times.append(response.seconds)
            else:
                raw_times.append(data.run_raw((sql, params)))
                close_connections()
    ratios = [a / r for a, r in zip(api_times, raw_times, strict=True)]
    report.add(
        f"course bulk, {n:,} creates, median (min-max) of {plan.bulk_samples}",
        statistics.median(api_times),
        "s",
        key="family.course_bulk",
        samples=api_times,
        table=f"course bulk, {n:,} creates",
        level=2,
        cell=spread(api_times, unit=" s"),
    )
    report.add(
        "ratio: course bulk / raw upsert of its rows",
        statistics.median(ratios),
        "x",
        key="family.course_ratio_raw",
        ratios=ratios,
        table="course bulk / raw upsert of the same rows (creates)",
        level=1,
        cell=spread(ratios, 1, "x"),
    )
    data.reset_kind(bench, CourseSuggestion)

    # Group fan-out: POST manage/group/ for a group of members members, against the
    # same rows written by raw SQL from this process (the limit), and against one bulk
    # request giving the same members the same program (both create the rows).
    group_id = data.create_group(big, members)
    program_key = big.program_keys[0]
    group_body = {"platform_key": big.key, "group_id": group_id, "program_key": program_key}
    same_rows = json.dumps(
        {
            "platform_key": big.key,
            "suggestion_data": [
                {"user_id": user_id, "program_key": program_key}
                for user_id in big.user_ids[:members]
            ],
        }
    ).encode()
    group_path = MANAGE + "group/"

    def reset_group() -> None:
        data.reset_kind(big, ProgramGroupSuggestion)
        data.reset_kind(big, ProgramSuggestion)
        Event.objects.filter(platform__key=big.key).delete()

    # The raw reference uses the very event payload the API recorded (an untimed POST).
    reset_group()
    response = big_client.request("POST", group_path, json_body=group_body)
    if response.status != 200 or response.json().get("user_count") != members:
        raise RuntimeError(f"fan-out: {response.status} {response.body[:300]!r}")
    expected = fanout_rows(big)
    recorded = data.recorded_events(big, "group_suggestion.created")
    raw_fanout = [
        *fanout_statements(big, group_id, big.program_ids[0]),
        data.raw_events(big, recorded),
    ]
    fanout_times, bulk_times, raw_fan_times = [], [], []
    sides = ("bulk", "raw", "fanout")
    for sample in range(plan.bulk_samples):
        for side in sides if sample % 2 == 0 else sides[::-1]:
            reset_group()
            close_connections()
            if side == "fanout":
                response = big_client.request("POST", group_path, json_body=group_body)
                if response.status != 200 or response.json().get("user_count") != members:
                    raise RuntimeError(f"fan-out: {response.status} {response.body[:300]!r}")
                fanout_times.append(response.seconds)
            elif side == "raw":
                raw_fan_times.append(data.run_raw(*raw_fanout))
                if sample == 0 and fanout_rows(big) != expected:
                    raise RuntimeError("the raw fan-out wrote other rows than the API")
                close_connections()
            else:
                response = big_client.request(
                    "POST", BULK, body=same_rows, headers={"Content-Type": "application/json"}
                )
                if response.status != 200 or response.json().get("successes") != members:
                    raise RuntimeError(f"bulk: {response.status} {response.body[:300]!r}")
                bulk_times.append(response.seconds)
            counted = ProgramSuggestion.objects.filter(platform__key=big.key).count()
            if counted != members:
                raise RuntimeError(f"{side}: {counted} suggestions, not {members}")
    reset_group()
    close_connections()
    fan_ratios = [f / b for f, b in zip(fanout_times, bulk_times, strict=True)]
    raw_ratios = [f / r for f, r in zip(fanout_times, raw_fan_times, strict=True)]
    limit = BULK_RAW_TARGET.get(database, BULK_RAW_TARGET["postgresql"])
    report.add(
        f"group fan-out, {members:,} members (one POST), median (min-max) of {plan.bulk_samples}",
        statistics.median(fanout_times),
        "s",
        key="family.fanout",
        samples=fanout_times,
        target="< 2 s",
        ok=statistics.median(fanout_times) < 2,
        table=f"group fan-out to {members:,} members (one POST)",
        level=1,
        cell=spread(fanout_times, unit=" s"),
    )
    report.add(
        f"raw fan-out: INSERT ... SELECT of the rows, supports and its event, "
        f"median (min-max) of {plan.bulk_samples}",
        statistics.median(raw_fan_times),
        "s",
        key="family.fanout_raw",
        samples=raw_fan_times,
        table="the same rows by raw `INSERT ... SELECT` from the membership, supports, event",
        level=2,
        cell=spread(raw_fan_times, 3, " s"),
    )
    report.add(
        "ratio: fan-out / raw INSERT ... SELECT with supports and its event "
        "(median of per-sample ratios)",
        statistics.median(raw_ratios),
        "x",
        target=f"<= {limit:g}x",
        ok=statistics.median(raw_ratios) <= limit,
        key="family.fanout_ratio_raw",
        ratios=raw_ratios,
        table="fan-out / raw `INSERT ... SELECT` with supports and its event (same work)",
        level=1,
        cell=spread(raw_ratios, 1, "x"),
    )
    report.add(
        "ratio: fan-out / a bulk request of the same rows",
        statistics.median(fan_ratios),
        "x",
        key="family.fanout_ratio_bulk",
        ratios=fan_ratios,
        table="fan-out / a bulk request giving the same members the same program",
        level=1,
        cell=spread(fan_ratios, 1, "x"),
    )
    report.note(
        "family: the course bulk is timed like part 1's creates (raw = the same upsert "
        "on the course table); the fan-out creates the group suggestion, the members' "
        "rows and records which group suggestion gave each (support rows) and its "
        "group_suggestion.created event. Its raw reference, one transaction from the "
        "bench process: one INSERT of the group suggestion, one INSERT ... SELECT of the "
        "members' rows from the group's membership (ON CONFLICT DO NOTHING), one INSERT "
        "... SELECT of the support rows, one INSERT of the event the API recorded (count "
        "triggers included; checked to write the same rows as the API). The bulk "
        "reference creates the same rows directly"
    )


def fanout_rows(big: Any) -> tuple[Any, ...]:
    """What a fan-out wrote on ``big``, without ids and times: the group suggestion, the
    members' rows, the support rows (by user), the kept count, the events by type."""
    from ibl_catalog.declarations import PROGRAM_SUGGESTIONS
    from ibl_catalog.models import ProgramGroupSuggestion, ProgramGroupSupport, ProgramSuggestion
    from ibl_catalog.suggestions.counts import platform_count
    from ibl_core.models import Event, Platform

    platform = Platform.objects.get(key=big.key)
    fields = ("accepted", "visible", "direct", "metadata", "suggested_by_id")
    return (
        list(
            ProgramGroupSuggestion.objects.filter(platform=platform).values_list(
                "group_id", "item_id", *fields
            )
        ),
        list(
            ProgramSuggestion.objects.filter(platform=platform)
            .order_by("user_id", "program_id")
            .values_list("user_id", "program_id", *fields)
        ),
        sorted(
            ProgramGroupSupport.objects.filter(group_suggestion__platform=platform).values_list(
                "group_suggestion__group_id", "suggestion__user_id"
            )
        ),
        platform_count(PROGRAM_SUGGESTIONS, platform),
        sorted(Event.objects.filter(platform=platform).values_list("type", flat=True)),
    )


def fanout_statements(big: Any, group_id: int, program_id: int) -> list[tuple[str, list]]:
    """The physical limit of a fan-out, as (SQL, parameters): the group suggestion, the
    members' rows selected from the group's membership (create-only), and the support
    rows, each one statement."""
    from datetime import UTC, datetime

    from django.db import connection

    from ibl_catalog.models import ProgramGroupSuggestion, ProgramGroupSupport, ProgramSuggestion
    from ibl_core.models import Platform, UserGroupMember

    platform_id = Platform.objects.values_list("pk", flat=True).get(key=big.key)
    now = connection.ops.adapt_datetimefield_value(datetime.now(UTC))
    groups = ProgramGroupSuggestion._meta.db_table
    rows = ProgramSuggestion._meta.db_table
    support = ProgramGroupSupport._meta.db_table
    membership = UserGroupMember._meta.db_table
    return [
        (
            f"INSERT INTO {groups} (platform_id, group_id, item_id, accepted, visible, direct, "
            "suggested_by_id, metadata, created, modified) "
            "VALUES (%s, %s, %s, FALSE, TRUE, TRUE, %s, '{}', %s, %s)",
            [platform_id, group_id, program_id, big.admin_id, now, now],
        ),
        (
            f"INSERT INTO {rows} (platform_id, user_id, program_id, accepted, visible, direct, "
            "metadata, suggested_by_id, created, modified) "
            f"SELECT %s, m.user_id, %s, FALSE, TRUE, FALSE, '{{}}', %s, %s, %s FROM {membership} m "
            "WHERE m.group_id = %s ORDER BY m.user_id "
            "ON CONFLICT (platform_id, user_id, program_id) DO NOTHING",
            [platform_id, program_id, big.admin_id, now, now, group_id],
        ),
        (
            f"INSERT INTO {support} (group_suggestion_id, suggestion_id) SELECT g.id, s.id "
            f"FROM {groups} g INNER JOIN {membership} m ON m.group_id = g.group_id "
            f"INNER JOIN {rows} s ON s.platform_id = g.platform_id AND s.program_id = g.item_id "
            "AND s.user_id = m.user_id WHERE g.group_id = %s AND g.item_id = %s",
            [group_id, program_id],
        ),
    ]
