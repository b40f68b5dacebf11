"""Part ``family``: course and pathway suggestions, and the fan-out of group suggestions."""

from __future__ import annotations

import json
import statistics
from typing import Any

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

    # Group fan-out: POST manage/group/ for a group of members members, against
    # one bulk request giving the same members the same program (both create the rows).
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
    fanout_times, bulk_times = [], []
    for sample in range(plan.bulk_samples):
        for side in ("bulk", "fanout") if sample % 2 == 0 else ("fanout", "bulk"):
            data.reset_kind(big, ProgramGroupSuggestion)
            data.reset_kind(big, ProgramSuggestion)
            close_connections()
            if side == "fanout":
                response = big_client.request("POST", group_path, json_body=group_body)
                if response.status != 200 or response.json().get("user_count") != members:
                    raise RuntimeError(f"fan-out: {response.status} {response.body[:300]!r}")
                fanout_times.append(response.seconds)
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
    data.reset_kind(big, ProgramGroupSuggestion)
    data.reset_kind(big, ProgramSuggestion)
    close_connections()
    fan_ratios = [f / b for f, b in zip(fanout_times, bulk_times, strict=True)]
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
        "on the course table); the fan-out creates the members' rows and records which "
        "group suggestion gave each, the bulk reference creates the same rows directly"
    )
