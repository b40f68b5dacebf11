"""``python -m bench`` (``make bench``): measure the example project under gunicorn.

Every number is taken in one run, against one server, with one client, and each
target is a ratio of two things measured side by side, interleaved:

1. bulk: 10,000 rows in one bulk request against the same rows in one raw
   ``INSERT ... ON CONFLICT DO UPDATE`` from this process (the database's limit),
   creates and updates, several samples; and against single POSTs (a sample);
2. list: the API's list against a bare Django view answering the same bytes with the
   same queries (``bench/reference.py``), at two page sizes, three orders/filters;
3. scale: page 1 at 1,000, 100,000 and 1,000,000 suggestions, as is, right after
   writes, and with ``query=``;
4. memory: the peak RSS growth of a gunicorn worker during a 10,000-row bulk;
5. uploads: a 1 MB JPEG and a 200 kB PNG of random noise;
6. credentials: bulk issuing to 10,000 recipients against issuing one by one, and a
   credential's assertion list at 1,000,000 against 1,000 (``bench/credentials.py``);
7. events: a bulk request and single POSTs with their events against the same code
   with events turned off (a second server), and webhook deliveries per second from
   ``db_worker`` processes to a verifying receiver (``bench/events.py``).

The table goes to stdout and to ``bench/results/<database>.json``;
``python -m bench.table`` turns the results into ``docs/performance.md``'s
table. ``docs/performance.md`` explains how to read them.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform as python_platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.client import Client, Response, Run, only_status
from bench.server import ROOT, Server, bench_database, gunicorn, vendor_of

PARTS = ("bulk", "list", "family", "scale", "memory", "uploads", "credentials", "events")
MANAGE = "/api/catalog/suggestions/program/manage/"
BULK = MANAGE + "bulk/"
REFERENCE = "/bench/reference/program-suggestions/"
COUNTED = "/bench/counted/program-suggestions/"  # the API's view, COUNT on every request
IMAGES = "/api/credentials/orgs/{org}/users/{user_id}/images/"

#: Sync gunicorn workers, and client threads where requests run concurrently.
CONCURRENCY = 2
PAGE_SIZE = 20
DEEP_PAGE = 500
#: The list's variants: page sizes, and extra parameters (label -> query string).
LIST_PAGE_SIZES = (20, 100)
LIST_ORDERS = {"default sort": "", "sort=username": "&sort=username", "query=u12": "&query=u12"}
#: The search of part 3: "u123" is in the usernames and emails of 11 of 10,000 users.
SCALE_QUERY = "u123"
#: Targets. Bulk / raw upsert at most this many times (per database).
BULK_RAW_TARGET = {"sqlite": 3.0, "postgresql": 1.5}
QUERY_TARGET = {"sqlite": 40.0, "postgresql": 20.0}
LIST_TARGET = 0.9
SCALE_TARGET = 3.0
MEMORY_TARGET_MB = 30.0
#: Members of the group whose fan-out is timed.
FANOUT_MEMBERS = 5_000


@dataclass(frozen=True)
class Plan:
    """How much of everything; ``--quick`` is a smaller plan for trying the bench out."""

    bulk_users: int = 1_000
    bulk_programs: int = 10
    bulk_samples: int = 5
    single_sample: int = 300
    #: 15 rounds of 1 s per side: with 7 of 0.6 s, per-round ratios spread from 0.7x
    #: to 1.35x on this 2-core machine and a median at 1.0x missed 0.9x one run in a
    #: few (docs/performance.md, part 2).
    list_seconds: float = 1.0
    list_rounds: int = 15
    sizes: tuple[int, ...] = (1_000, 100_000, 1_000_000)
    scale_users: int = 10_000
    scale_programs: int = 100
    latency_requests: int = 40
    #: Write statements (half deletes, half inserts) before each request "after writes".
    churn_statements: int = 8
    #: Requests per side for query= at the largest size (a search scans the platform).
    query_requests: int = 6
    uploads: int = 10
    #: Part events: events delivered per round (one bulk request records them), rounds
    #: per worker count.
    event_deliveries: int = 500
    delivery_rounds: int = 3

    @property
    def bulk_rows(self) -> int:
        return self.bulk_users * self.bulk_programs


QUICK = Plan(
    bulk_samples=2,
    single_sample=100,
    list_seconds=0.3,
    list_rounds=2,
    sizes=(1_000, 20_000, 100_000),
    scale_users=1_000,
    latency_requests=15,
    query_requests=5,
    uploads=3,
    event_deliveries=200,
    delivery_rounds=1,
)


@dataclass
class Report:
    """Rows of the printed table, and everything else for the JSON file.

    A row with a ``key`` and a ``table`` label goes into the Markdown tables
    (``bench.table``): ``cell`` is its text there; ``level`` 1 marks the headline
    rows, level 2 the others, and ``docs/performance.md`` shows both.
    """

    meta: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    section: str = ""

    def start(self, title: str) -> None:
        self.section = title
        print(f"\n{title}", flush=True)

    def add(
        self,
        metric: str,
        value: float | str,
        unit: str = "",
        *,
        target: str = "",
        ok: bool | None = None,
        **extra: Any,
    ) -> None:
        row = {"section": self.section, "metric": metric, "value": value, "unit": unit}
        row |= {"target": target, "ok": ok} if target else {}
        self.rows.append(row | extra)
        print("  " + format_row(row), flush=True)

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    def targets(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row.get("target")]

    def table(self) -> str:
        lines = [self.meta["title"]]
        section = None
        for row in self.rows:
            if row["section"] != section:
                section = row["section"]
                lines.append(f"\n{section}")
            lines.append("  " + format_row(row))
        if "profile" in self.meta:
            from bench.profile import format_profile

            lines.append("\n" + format_profile(self.meta["profile"]))
        if "profile_bulk" in self.meta:
            from bench.profile import format_bulk_profile

            lines.append("\n" + format_bulk_profile(self.meta["profile_bulk"]))
        if self.notes:
            lines.append("\nNotes")
            lines.extend(f"  - {note}" for note in self.notes)
        targets = self.targets()
        missed = [row for row in targets if not row["ok"]]
        lines.append(f"\nTargets: {len(targets) - len(missed)} ok, {len(missed)} MISSED")
        lines.extend(f"  MISSED {row['metric']}: {format_value(row['value'])} {row['unit']}"
                     f" (target {row['target']})" for row in missed)  # fmt: skip
        return "\n".join(lines)


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def format_row(row: dict[str, Any]) -> str:
    line = f"{row['metric']:<62} {format_value(row['value']):>12} {row['unit']:<6}"
    if row.get("target"):
        verdict = {True: "ok", False: "MISSED", None: ""}[row.get("ok")]
        line += f"  target {row['target']:<10} {verdict}"
    return line.rstrip()


def ms(seconds: float) -> float:
    return seconds * 1000


def spread(values: list[float], digits: int = 2, unit: str = "") -> str:
    """``median<unit> (min-max)`` of ``values``."""
    median, low, high = statistics.median(values), min(values), max(values)
    return f"{median:.{digits}f}{unit} ({low:.{digits}f}-{high:.{digits}f})"


# --- setup ------------------------------------------------------------------------


def bench_env(database_url: str, workdir: Path) -> dict[str, str]:
    """The environment of the bench server (and of this process's Django)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        # Persistent connections, as a production deployment runs (override to compare).
        "DATABASE_CONN_MAX_AGE": os.environ.get("DATABASE_CONN_MAX_AGE", "60"),
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-never-used-in-production-0123456789",
        "MEDIA_ROOT": str(workdir / "media"),
    }
    env.pop("IBL_STORAGE", None)  # uploads go to the local MEDIA_ROOT
    return env


def git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except OSError:
        return "unknown"
    return out.stdout.strip() or "unknown"


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def close_connections() -> None:
    """Let the server have the database to itself (SQLite: no lock held by us)."""
    from django.db import connections

    connections.close_all()


# --- 1. bulk ----------------------------------------------------------------------


def bulk_rows(bench: Any, plan: Plan) -> list[dict[str, Any]]:
    return [
        {"user_id": user_id, "program_key": key, "metadata": {"source": "bench"}}
        for user_id in bench.user_ids[: plan.bulk_users]
        for key in bench.program_keys[: plan.bulk_programs]
    ]


def bulk_body(bench: Any, plan: Plan) -> bytes:
    rows = bulk_rows(bench, plan)
    return json.dumps({"platform_key": bench.key, "suggestion_data": rows}).encode()


def bulk_request(client: Client, body: bytes, rows: int) -> float:
    """One bulk request, every row a success; its seconds."""
    response = client.request("POST", BULK, body=body, headers={"Content-Type": "application/json"})
    result = response.json() if response.status == 200 else {}
    if result.get("successes") != rows:
        raise RuntimeError(f"bulk answered {response.status}: {response.body[:300]!r}")
    return response.seconds


def suggestion_count(bench: Any) -> tuple[int, int]:
    """The platform's suggestions: (counted rows, the count the database keeps)."""
    from ibl_catalog.declarations import PROGRAM_SUGGESTIONS
    from ibl_catalog.models import ProgramSuggestion
    from ibl_catalog.suggestions.counts import platform_count
    from ibl_core.models import Platform

    platform = Platform.objects.get(key=bench.key)
    counted = ProgramSuggestion.objects.filter(platform=platform).count()
    return counted, platform_count(PROGRAM_SUGGESTIONS, platform)


def bench_bulk(report: Report, client: Client, bench: Any, plan: Plan) -> None:
    from bench import data

    database = report.meta["database"]
    n = plan.bulk_rows
    report.start(
        f"1. Bulk: {n:,} rows, one request vs one raw upsert statement and vs single POSTs"
    )
    rows = bulk_rows(bench, plan)
    step = len(rows) // plan.single_sample
    singles: dict[int, Run] = {}
    for concurrency, offset in ((1, 0), (CONCURRENCY, step // 2)):
        sample = rows[offset::step][: plan.single_sample]

        def post(i: int, sample: list[dict[str, Any]] = sample) -> Response:
            return client.request(
                "POST", MANAGE, json_body={"platform_key": bench.key, **sample[i]}
            )

        run = client.run(post, count=len(sample), concurrency=concurrency)
        only_status(run, [200])
        singles[concurrency] = run
        seconds = run.seconds * n / len(sample)
        clients = f"{concurrency} client{'s' if concurrency > 1 else ''}"
        report.add(
            f"single POSTs, {clients}: {len(sample)} timed, extrapolated to {n:,}",
            seconds,
            "s",
            key=f"bulk.singles.{concurrency}",
            rows_per_s=n / seconds,
            p50_ms=ms(run.percentile(0.5)),
        )

    body = bulk_body(bench, plan)
    pairs = [
        (user_id, program_id)
        for user_id in bench.user_ids[: plan.bulk_users]
        for program_id in bench.program_ids[: plan.bulk_programs]
    ]
    upsert = data.raw_upsert(bench, pairs, {"source": "bench"})
    # The request records one event per row in its transaction (the outbox): the same
    # work at the physical limit is the upsert and one INSERT of those events, with the
    # very payloads the API recorded (taken from a first, untimed request).
    data.reset_suggestions(bench)
    outbox: dict[str, tuple[str, list]] = {}
    for label, event_type in (("creates", "suggestion.created"), ("updates", "suggestion.updated")):
        bulk_request(client, body, n)
        recorded = data.recorded_events(bench, event_type)
        if len(recorded) != n:
            raise RuntimeError(f"the bulk request recorded {len(recorded)} {event_type}, not {n}")
        outbox[label] = data.raw_events(bench, recorded)
    sides = ("raw", "raw+events", "api")
    times: dict[tuple[str, str], list[float]] = {
        (side, label): [] for side in sides for label in ("creates", "updates")
    }
    for sample in range(plan.bulk_samples):
        # Interleaved, each side from an empty platform: creates, then the same rows again.
        for side in sides if sample % 2 == 0 else sides[::-1]:
            data.reset_suggestions(bench)
            close_connections()
            for label in ("creates", "updates"):
                if side == "api":
                    seconds = bulk_request(client, body, n)
                else:
                    statements = [upsert, outbox[label]] if side == "raw+events" else [upsert]
                    seconds = data.run_raw(*statements)
                    if sample == 0 and suggestion_count(bench) != (n, n):
                        raise RuntimeError(f"raw upsert: {suggestion_count(bench)} rows, not {n}")
                    close_connections()
                times[side, label].append(seconds)
    if suggestion_count(bench) != (n, n):
        raise RuntimeError(f"after the bulk samples: {suggestion_count(bench)} rows, not {n}")
    close_connections()

    limit = BULK_RAW_TARGET.get(database, BULK_RAW_TARGET["postgresql"])
    samples = f"median (min-max) of {plan.bulk_samples}"
    for label in ("creates", "updates"):
        api, raw, same = (times[side, label] for side in ("api", "raw", "raw+events"))
        report.add(
            f"bulk request, {n:,} {label} ({len(body) / 1e6:.1f} MB JSON), {samples}",
            statistics.median(api),
            "s",
            key=f"bulk.api.{label}",
            samples=api,
            rows_per_s=n / statistics.median(api),
            table=f"bulk request, {n:,} {label} (median, min-max of {plan.bulk_samples})",
            level=2,
            cell=spread(api, unit=" s"),
            **({"target": "< 2 s", "ok": statistics.median(api) < 2} if label == "creates" else {}),
        )
        report.add(
            f"raw upsert statement, {n:,} {label}, commit included, {samples}",
            statistics.median(raw),
            "s",
            key=f"bulk.raw.{label}",
            samples=raw,
            table=f"one raw `INSERT ... ON CONFLICT DO UPDATE` of the same rows, {label}",
            level=2,
            cell=spread(raw, 3, " s"),
        )
        report.add(
            f"raw upsert + raw INSERT of its {n:,} events, one transaction, {label}, {samples}",
            statistics.median(same),
            "s",
            key=f"bulk.raw_events.{label}",
            samples=same,
            table=f"the same upsert and one raw `INSERT` of the request's {n:,} events, {label}",
            level=2,
            cell=spread(same, 3, " s"),
        )
        ratios = [a / r for a, r in zip(api, same, strict=True)]
        ratio = statistics.median(ratios)
        report.add(
            f"ratio: bulk / raw upsert + its events, {label} (median of per-sample ratios)",
            ratio,
            "x",
            target=f"<= {limit:g}x",
            ok=ratio <= limit,
            key=f"bulk.ratio_raw_events.{label}",
            ratios=ratios,
            table=f"bulk / raw upsert + its events, {label} (the same work, same database)",
            level=1,
            cell=spread(ratios, 1, "x"),
        )
        ratios = [a / r for a, r in zip(api, raw, strict=True)]
        report.add(
            f"ratio: bulk / raw upsert alone, {label} (median of per-sample ratios)",
            statistics.median(ratios),
            "x",
            key=f"bulk.ratio_raw.{label}",
            ratios=ratios,
            table=f"bulk / raw upsert alone, {label} (the request also records its events)",
            level=1,
            cell=spread(ratios, 1, "x"),
        )
    creates = statistics.median(times["api", "creates"])
    for concurrency, run in singles.items():
        ratio = run.seconds / run.requests * n / creates
        if concurrency == 1:
            report.add(
                "ratio: single POSTs from 1 client / bulk creates",
                ratio,
                "x",
                target=">= 50x",
                ok=ratio >= 50,
                key="bulk.ratio_singles",
                table="single POSTs from 1 client (extrapolated) / bulk creates",
                level=1,
                cell=f"{ratio:.0f}x",
            )
        else:
            report.add(
                f"ratio: single POSTs from {concurrency} clients / bulk creates "
                f"({concurrency} workers vs 1)",
                ratio,
                "x",
                key="bulk.ratio_singles_concurrent",
            )
    report.note(
        "bulk: raw = one INSERT ... SELECT FROM "
        + ("unnest(arrays)" if database == "postgresql" else "json_each(?)")
        + " ... ON CONFLICT (platform_id, user_id, program_id) DO UPDATE SET metadata, "
        "modified, executed and committed from the bench process on the same database "
        "(count triggers included); program ids given, not keys; no validation, no "
        "response rows. raw + events adds, in the same transaction, one INSERT ... SELECT "
        "of the payloads the request recorded (built before timing, no ids returned). "
        "Each sample starts from an empty platform (suggestions and events deleted"
        + (", VACUUM ANALYZE" if database == "postgresql" else "")
        + "), raw and API in alternating order"
    )


# --- family: courses and group fan-out ---------------------------------------------


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


# --- 2. list ----------------------------------------------------------------------


def list_variants(bench: Any) -> dict[str, str]:
    """label -> query string of each list variant of part 2."""
    return {
        f"page_size={size}, {order}": f"?platform_key={bench.key}&page_size={size}{extra}"
        for size in LIST_PAGE_SIZES
        for order, extra in LIST_ORDERS.items()
    }


def expected_count(bench: Any, query: str) -> int:
    """The exact number of rows of a list, counted in this process."""
    from urllib.parse import parse_qs

    from ibl_catalog.declarations import PROGRAM_SUGGESTIONS
    from ibl_catalog.suggestions import search, selectors
    from ibl_core.models import Platform

    platform = Platform.objects.get(key=bench.key)
    suggestions = selectors.suggestions_of_platform(PROGRAM_SUGGESTIONS, platform)
    text = parse_qs(query.lstrip("?")).get("query", [""])[0]
    if text:
        suggestions = search.search(PROGRAM_SUGGESTIONS, suggestions, text)
    return suggestions.count()


def check_same_body(client: Client, label: str, query: str, count: int) -> int:
    """Both sides answer 200 and the same bytes, with the expected count; the length."""
    api = client.request("GET", MANAGE + query)
    reference = client.request("GET", REFERENCE + query)
    for name, response in (("API", api), ("reference", reference)):
        if response.status != 200:
            raise RuntimeError(f"{label}: {name} HTTP {response.status} {response.body[:300]!r}")
    if api.body != reference.body:
        at = next(
            (i for i, (a, b) in enumerate(zip(api.body, reference.body, strict=False)) if a != b),
            min(len(api.body), len(reference.body)),
        )
        raise RuntimeError(
            f"{label}: the API and the reference answer different bodies at byte {at}:\n"
            f"  API       {api.body[max(0, at - 80) : at + 80]!r}\n"
            f"  reference {reference.body[max(0, at - 80) : at + 80]!r}"
        )
    body = api.json()
    page_size = int(query.split("page_size=")[1].split("&")[0])
    if body["count"] != count or len(body["results"]) != min(page_size, count):
        raise RuntimeError(f"{label}: count {body['count']}, {len(body['results'])} rows")
    return len(api.body)


def query_counts(bench: Any, paths: dict[str, str]) -> dict[str, int]:
    """How many SQL queries each path runs, in this process (Django's test client)."""
    import logging

    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    logging.getLogger("ibl.request").setLevel(logging.WARNING)
    client = DjangoClient(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Api-Token {bench.api_key}")
    counts = {}
    for name, path in paths.items():
        client.get(path)  # warm: the key's last_used write, connection setup
        with CaptureQueriesContext(connection) as captured:
            if client.get(path).status_code != 200:
                raise RuntimeError(f"{name}: {path} did not answer 200 in-process")
        counts[name] = len(captured.captured_queries)
    close_connections()
    return counts


def bench_list(report: Report, client: Client, bench: Any, plan: Plan) -> None:
    variants = list_variants(bench)
    report.start(
        f"2. List: requests/s, API / bare view with the same queries and bytes, "
        f"{plan.bulk_rows:,} suggestions, {CONCURRENCY} clients, median of "
        f"{plan.list_rounds} interleaved rounds of {plan.list_seconds:g} s per side"
    )
    sizes, queries = {}, {}
    for label, query in variants.items():
        sizes[label] = check_same_body(client, label, query, expected_count(bench, query))
        counted = query_counts(bench, {"api": MANAGE + query, "reference": REFERENCE + query})
        queries[label] = counted
    close_connections()
    rates: dict[tuple[str, str], list[float]] = {
        (label, side): [] for label in variants for side in ("api", "reference")
    }
    labels = list(variants)
    for round_number in range(plan.list_rounds):
        # Short runs in a rotating order: a change in background load (other work on
        # the machine) hits both sides, and each ratio compares neighbouring runs.
        shift = round_number % len(labels)
        sides = ("api", "reference") if round_number % 2 == 0 else ("reference", "api")
        for label in labels[shift:] + labels[:shift]:
            for side in sides:
                path = (MANAGE if side == "api" else REFERENCE) + variants[label]
                run = client.run(
                    lambda _, path=path: client.request("GET", path),
                    duration=plan.list_seconds,
                    concurrency=CONCURRENCY,
                )
                only_status(run, [200])
                rates[label, side].append(run.rate)
    for label in labels:
        api, reference = rates[label, "api"], rates[label, "reference"]
        ratios = [a / r for a, r in zip(api, reference, strict=True)]
        ratio = statistics.median(ratios)
        counted = queries[label]
        report.add(
            f"{label}: reference req/s ({sizes[label]:,} bytes, {counted['reference']} queries)",
            statistics.median(reference),
            "req/s",
            key=f"list.reference.{label}",
            rounds=reference,
            bytes=sizes[label],
            queries=counted["reference"],
        )
        report.add(
            f"ratio: API / reference, {label} ({statistics.median(api):.0f} req/s, "
            f"{counted['api']} queries)",
            ratio,
            "x",
            target=f">= {LIST_TARGET:g}x",
            ok=ratio >= LIST_TARGET,
            key=f"list.ratio.{label}",
            api_rounds=api,
            ratios=ratios,
            queries=counted["api"],
            table=f"list, {label}: API / bare view",
            level=1,
            cell=f"{ratio:.2f}x ({statistics.median(reference):.0f} req/s)",
        )
    report.note(
        "list: the reference (bench/reference.py) authenticates the same API key with "
        "authenticate_key, reads the platform and the membership, pages the ids with "
        "ExactCountPaginator (the kept count when unfiltered, an exact join-free count "
        "with query=), reads the rows with selectors.rows_in_order and encodes the "
        "API's envelope as DRF's JSONRenderer does; both bodies were checked "
        "byte-identical, with the exact count, before timing; ratio = median of "
        "per-round ratios; reference req/s shown in the cell"
    )


def profile_list(bench: Any) -> dict[str, Any]:
    """Both list sides of part 2, default and ``query=``, profiled in this process."""
    from bench.profile import format_profile, profile_paths

    query = f"?platform_key={bench.key}&page_size={PAGE_SIZE}"
    search = query + LIST_ORDERS["query=u12"]
    results = profile_paths(
        {
            "API": MANAGE + query,
            "reference": REFERENCE + query,
            "API query=": MANAGE + search,
            "reference query=": REFERENCE + search,
        },
        bench.api_key,
        requests=300,
    )
    print("\n" + format_profile(results), flush=True)
    close_connections()
    return results


def profile_bulk(bench: Any, plan: Plan) -> dict[str, Any]:
    """One bulk request of part 1, profiled in this process (``bench.profile``)."""
    from bench import data
    from bench.profile import format_bulk_profile
    from bench.profile import profile_bulk as profile

    result = profile(bulk_body(bench, plan), bench.api_key, lambda: data.reset_suggestions(bench))
    print("\n" + format_bulk_profile(result), flush=True)
    close_connections()
    return result


# --- 3. scale ---------------------------------------------------------------------


class Churn:
    """Single-row writes from this process, each its own statement and transaction:
    the newest suggestion deleted and inserted again, so the count stays put while
    PostgreSQL's count keeps one delta row per statement for the next list to sum
    (and fold past ``counts.COMPACT_AFTER``)."""

    def __init__(self, bench: Any) -> None:
        from ibl_core.models import Platform

        self.platform_id = Platform.objects.values_list("pk", flat=True).get(key=bench.key)
        self.admin_id = bench.admin_id

    def write(self, statements: int) -> None:
        from ibl_catalog.models import ProgramSuggestion

        model = ProgramSuggestion.objects
        for _ in range(statements // 2):
            newest = (
                model.filter(platform_id=self.platform_id)
                .order_by("-id")
                .values("id", "user_id", "program_id")
                .first()
            )
            assert newest is not None
            model.filter(pk=newest["id"])._raw_delete(model.db)  # one DELETE statement
            model.create(
                platform_id=self.platform_id,
                user_id=newest["user_id"],
                program_id=newest["program_id"],
                suggested_by_id=self.admin_id,
            )


@dataclass
class Side:
    """One side of an interleaved latency measurement: a GET and what it must answer."""

    client: Client
    path: str
    count: int
    before: Callable[[], None] | None = None
    run: Run = field(default_factory=lambda: Run(seconds=0.0))
    first: float = 0.0

    def request(self) -> Response:
        if self.before is not None:
            self.before()
        response = self.client.request("GET", self.path)
        if response.status != 200 or response.json()["count"] != self.count:
            raise RuntimeError(
                f"{self.path}: {response.status} {response.body[:200]!r}, expected {self.count}"
            )
        return response

    @property
    def p50(self) -> float:
        return ms(self.run.percentile(0.5))


def interleave(sides: list[Side], requests: int) -> None:
    """``requests`` sequential GETs per side, alternating between the sides (so a change
    in background load hits each alike); every answer's ``count`` is checked."""
    for side in sides:
        side.first = side.request().seconds  # not timed: connection, caches, plans
    for i in range(requests):
        for side in sides if i % 2 == 0 else sides[::-1]:
            response = side.request()
            side.run.latencies.append(response.seconds)
            side.run.seconds += response.seconds
    close_connections()


def bench_scale(report: Report, client: Client, bench: Any, small: Any, plan: Plan) -> None:
    from bench import data

    database = report.meta["database"]
    reference_size = plan.sizes[0]
    report.start(
        f"3. Scale: latency, page_size={PAGE_SIZE}, one client, {plan.latency_requests} "
        f"sequential requests per side, each size interleaved with a platform of "
        f"{reference_size:,}; every count checked exact"
    )
    small_client = Client(client.port, small.api_key)
    data.load_suggestions(small, 0, reference_size)
    base = f"?platform_key={bench.key}&page_size={PAGE_SIZE}"
    small_base = f"?platform_key={small.key}&page_size={PAGE_SIZE}"
    churn, small_churn = Churn(bench), Churn(small)
    statements = plan.churn_statements
    largest = plan.sizes[-1]
    ratios: dict[str, float] = {}
    p50s: dict[str, tuple[float, float]] = {}
    loaded = 0
    for size in plan.sizes:
        started = time.perf_counter()
        data.load_suggestions(bench, loaded, size)
        data.analyze()
        close_connections()
        report.add(
            f"{size:,} suggestions: load {size - loaded:,} rows set-based + ANALYZE",
            time.perf_counter() - started,
            "s",
        )
        loaded = size
        cases = {
            "page 1": (MANAGE + base, MANAGE + small_base, None, None),
            "page 1, COUNT on every request": (COUNTED + base, COUNTED + small_base, None, None),
            f"page 1, after {statements} writes": (
                MANAGE + base,
                MANAGE + small_base,
                lambda: churn.write(statements),
                lambda: small_churn.write(statements),
            ),
        }
        for label, (path, small_path, before, small_before) in cases.items():
            big = Side(client, path, size, before)
            reference = Side(small_client, small_path, reference_size, small_before)
            interleave([big, reference], plan.latency_requests)
            ratio = big.p50 / reference.p50
            name = label.split(", ")[-1] if ", " in label else "as configured"
            report.add(
                f"  {label:<32} p50 (p95 {ms(big.run.percentile(0.95)):.1f}; "
                f"{reference_size:,}: {reference.p50:.1f})",
                big.p50,
                "ms",
                key=f"scale.{name}.{size}",
                size=size,
                p95_ms=ms(big.run.percentile(0.95)),
                max_ms=ms(max(big.run.latencies)),
                first_ms=ms(big.first),
                reference_p50_ms=reference.p50,
                ratio=ratio,
                **(
                    {"table": f"page 1 p50 at {size:,} suggestions (interleaved: "
                     f"{reference_size:,})", "level": 2,
                     "cell": f"{big.p50:.1f} ms ({reference.p50:.1f} ms)"}
                    if label == "page 1" and size != reference_size else {}
                ),
            )  # fmt: skip
            if size == largest:
                ratios[name] = ratio
                p50s[name] = (reference.p50, big.p50)
        last_page = math.ceil(size / PAGE_SIZE)
        deep = min(DEEP_PAGE, last_page)
        side = Side(client, f"{MANAGE}{base}&page={deep}", size)
        interleave([side], plan.latency_requests)
        label = f"page {deep}" + (" (last)" if deep == last_page else "")
        report.add(
            f"  {label:<32} p50 (p95 {ms(side.run.percentile(0.95)):.1f})",
            side.p50,
            "ms",
            key=f"scale.deep.{size}",
        )
        past = client.request("GET", f"{MANAGE}{base}&page={last_page + 1}")
        if past.status != 404:
            raise RuntimeError(f"page {last_page + 1} of {size:,} answered {past.status}")

    search = f"{base}&query={SCALE_QUERY}"
    found = expected_count(bench, search)
    close_connections()
    query = Side(client, MANAGE + search, found)
    plain = Side(client, MANAGE + base, largest)
    interleave([query, plain], plan.query_requests)
    report.add(
        f"  page 1, query={SCALE_QUERY} ({found:,} found)   p50 "
        f"(p95 {ms(query.run.percentile(0.95)):.1f}; unfiltered {plain.p50:.1f})",
        query.p50,
        "ms",
        key=f"scale.query.{largest}",
        count=found,
        unfiltered_p50_ms=plain.p50,
    )
    tabled = [
        ("configured", "as configured",
         f"page 1 p50 at {largest:,} / at {reference_size:,} suggestions", 1),
        ("after_writes", f"after {statements} writes",
         f"the same, {statements} single-row writes before each request", 1),
        ("counted", "COUNT on every request",
         "the same with a `COUNT` on every request (for comparison)", 2),
    ]  # fmt: skip
    for key, name, table, level in tabled:
        targeted = level == 1
        ratio = ratios[name]
        low, high = p50s[name]
        report.add(
            f"ratio: page 1 p50 at {largest:,} / at {reference_size:,}, {name}",
            ratio,
            "x",
            key=f"scale.ratio.{key}",
            table=table,
            level=level,
            cell=f"{ratio:.2f}x ({low:.1f} -> {high:.1f} ms)",
            **({"target": f"<= {SCALE_TARGET:g}x", "ok": ratio <= SCALE_TARGET}
               if targeted else {}),
        )  # fmt: skip
    limit = QUERY_TARGET.get(database, QUERY_TARGET["postgresql"])
    ratio = query.p50 / plain.p50
    report.add(
        f"ratio: query={SCALE_QUERY} / unfiltered, page 1 p50 at {largest:,}",
        ratio,
        "x",
        target=f"<= {limit:g}x",
        ok=ratio <= limit,
        key="scale.ratio.query",
        table=f"`query=` page 1 / unfiltered page 1, at {largest:,} suggestions",
        level=1,
        cell=f"{ratio:.1f}x ({plain.p50:.1f} -> {query.p50:.0f} ms)",
    )
    report.note(
        "scale: no application-level cache is involved: the unfiltered count is kept by "
        "database triggers (ibl_catalog/suggestions/counts.py). Each size's requests "
        f"alternate with the same requests to a second platform of {reference_size:,} "
        f"suggestions, and the ratios compare those neighbours; 'after writes' runs "
        f"{statements} single-row statements (deletes and inserts, each its own "
        "transaction) from the bench process before each measured request, so on "
        "PostgreSQL each list sums new delta rows and folds them past 64; query= counts "
        f"exactly ({plan.query_requests} requests, alternating with unfiltered page 1); "
        "the page after the last one answered 404"
    )


# --- 4. memory --------------------------------------------------------------------


def proc_status_kb(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field_name} in /proc/{pid}/status")


def bench_memory(report: Report, client: Client, server: Server, bench: Any, plan: Plan) -> None:
    from bench import data

    report.start(
        f"4. Memory: peak RSS growth of a fresh gunicorn worker during a "
        f"{plan.bulk_rows:,}-row bulk"
    )
    if not Path(f"/proc/{server.pid}/clear_refs").exists():
        report.add("not available (needs Linux /proc)", "n/a")
        return
    # Fresh workers: one that has served bulks already keeps their heap, and a bulk
    # would only reuse it. Warm them with lists and one-row bulks (imports, caches).
    pids = server.restart_workers()
    one_row = json.dumps(
        {"platform_key": bench.key, "suggestion_data": bulk_rows(bench, plan)[:1]}
    ).encode()
    warm = client.run(
        lambda i: (
            client.request("GET", f"{MANAGE}?platform_key={bench.key}")
            if i % 2
            else client.request(
                "POST", BULK, body=one_row, headers={"Content-Type": "application/json"}
            )
        ),
        count=20,
        concurrency=CONCURRENCY,
    )
    only_status(warm, [200])
    body = bulk_body(bench, plan)
    data.reset_suggestions(bench)
    close_connections()
    for label in ("creates", "updates"):
        before = {}
        for pid in pids:
            # 5 resets the peak (VmHWM) to the current resident size (VmRSS).
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            before[pid] = proc_status_kb(pid, "VmHWM")
        bulk_request(client, body, plan.bulk_rows)
        deltas = {pid: (proc_status_kb(pid, "VmHWM") - before[pid]) / 1024 for pid in pids}
        kept = {pid: (proc_status_kb(pid, "VmRSS") - before[pid]) / 1024 for pid in pids}
        worst = max(deltas.values())
        report.add(
            f"bulk {label}: max over {len(pids)} workers of peak RSS - RSS before",
            worst,
            "MB",
            target=f"<= +{MEMORY_TARGET_MB:g} MB",
            ok=worst <= MEMORY_TARGET_MB,
            key=f"memory.bulk.{label}",
            deltas_mb=list(deltas.values()),
            kept_mb=list(kept.values()),
            rss_before_mb=[kb / 1024 for kb in before.values()],
            table=f"peak RSS growth of a fresh worker, {plan.bulk_rows:,}-row bulk, {label}",
            level=1 if label == "creates" else 2,
            cell=f"+{worst:.1f} MB",
        )
    report.note(
        "memory: workers replaced (SIGHUP) and warmed with lists and one-row bulks first; "
        "peak reset with echo 5 > /proc/<pid>/clear_refs, growth = VmHWM after - VmHWM "
        "(= VmRSS) before, the largest over the workers; the updates may run in the "
        "worker that served the creates (its heap already grown) or in the other one"
    )


# --- 5. uploads -------------------------------------------------------------------


def noise_image(image_format: str, target_bytes: int) -> bytes:
    """A random-noise RGB image (it barely compresses) of about ``target_bytes``."""
    from PIL import Image

    side = 256
    encoded = b""
    for _ in range(6):
        image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        buffer = io.BytesIO()
        image.save(
            buffer, format=image_format, **({"quality": 90} if image_format == "JPEG" else {})
        )
        encoded = buffer.getvalue()
        if abs(len(encoded) - target_bytes) < target_bytes * 0.03:
            break
        side = max(16, round(side * math.sqrt(target_bytes / len(encoded))))
    return encoded


def multipart(
    field_name: str, filename: str, content_type: str, payload: bytes
) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field_name}"; '
        f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
    ).encode()
    return head + payload + f"\r\n--{boundary}--\r\n".encode(), boundary


def bench_uploads(report: Report, client: Client, bench: Any, plan: Plan) -> None:
    report.start(f"5. Uploads: POST .../images/ (multipart), {plan.uploads} each, one client")
    path = IMAGES.format(org=bench.key, user_id=bench.admin_id)
    for label, image_format, size, content_type in (
        ("1 MB JPEG", "JPEG", 1_000_000, "image/jpeg"),
        ("200 kB PNG", "PNG", 200_000, "image/png"),
    ):
        payload = noise_image(image_format, size)
        body, boundary = multipart("image", f"bench.{image_format.lower()}", content_type, payload)
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        probe = client.request("POST", path, body=body, headers=headers)
        if probe.status != 201:
            report.add(
                f"{label}: not available (HTTP {probe.status})",
                "n/a",
                detail=probe.body[:200].decode(errors="replace"),
            )
            continue
        run = client.run(
            lambda _, body=body, headers=headers: client.request(
                "POST", path, body=body, headers=headers
            ),
            count=plan.uploads,
        )
        only_status(run, [201])
        report.add(
            f"{label} ({len(payload) / 1000:,.0f} kB) p50 (p95 {ms(run.percentile(0.95)):.1f})",
            ms(run.percentile(0.5)),
            "ms",
            key=f"uploads.{image_format.lower()}",
            bytes=len(payload),
            p95_ms=ms(run.percentile(0.95)),
            table=f"upload p50, {label} (random noise)",
            level=2,
            cell=f"{ms(run.percentile(0.5)):.0f} ms",
        )


# --- main -------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run (results not saved)")
    parser.add_argument("--keep", action="store_true", help="keep the database and work dir")
    parser.add_argument("--output", type=Path, help="where to write the JSON results")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile the list requests in-process (cProfile) and print the stages",
    )
    parser.add_argument(
        "--only",
        default=",".join(PARTS),
        help=f"comma-separated parts to run (default: all of {','.join(PARTS)})",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else Plan()
    parts = {part.strip() for part in args.only.split(",")}
    if parts - set(PARTS):
        raise SystemExit(f"bench: unknown parts {sorted(parts - set(PARTS))}; known: {PARTS}")
    workdir = Path(tempfile.mkdtemp(prefix="ibl-bench-"))
    started = time.perf_counter()
    try:
        with bench_database(workdir, keep=args.keep) as database_url:
            report = run_bench(database_url, workdir, plan, parts, profile=args.profile)
            close_connections()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report.meta["total_seconds"] = round(time.perf_counter() - started, 1)
    output = args.output or (None if args.quick else default_output(report.meta["database"]))
    print("\n" + report.table())
    print(f"\ntotal {report.meta['total_seconds']} s")
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        document = {
            **report.meta,
            "targets": [
                {key: row.get(key) for key in ("key", "metric", "value", "unit", "target", "ok")}
                for row in report.targets()
            ],
            "rows": report.rows,
            "notes": report.notes,
        }
        output.write_text(json.dumps(document, indent=2, default=str) + "\n")
        print(f"written to {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    return 0


def default_output(database: str) -> Path:
    return ROOT / "bench" / "results" / f"{database}.json"


def run_bench(
    database_url: str, workdir: Path, plan: Plan, parts: set[str], *, profile: bool = False
) -> Report:
    env = bench_env(database_url, workdir)
    database = vendor_of(database_url)
    setup_django(env)

    import django

    from bench import data
    from ibl_core.pagination import CatalogPagination

    configured = CatalogPagination.django_paginator_class
    report = Report(
        meta={
            "title": (
                f"ibl-data-manager bench on {database}: {os.cpu_count()} cores, gunicorn "
                f"{CONCURRENCY} sync workers, client on 127.0.0.1"
            ),
            "database": database,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "revision": git_revision(),
            "cores": os.cpu_count(),
            "python": python_platform.python_version(),
            "django": django.get_version(),
            "workers": CONCURRENCY,
            "conn_max_age": env["DATABASE_CONN_MAX_AGE"],
            "configured_paginator": f"{configured.__module__}.{configured.__qualname__}",
            "plan": plan.__dict__,
        }
    )
    print(report.meta["title"])
    print(f"configured paginator: {report.meta['configured_paginator']}")
    bulk = data.create_platform("bench", users=plan.bulk_users, programs=plan.bulk_programs)
    scale = data.create_platform("scale", users=plan.scale_users, programs=plan.scale_programs)
    small = data.create_platform(
        "small", users=plan.sizes[0] // plan.bulk_programs, programs=plan.bulk_programs
    )
    close_connections()
    with gunicorn(env, workers=CONCURRENCY, log=workdir / "gunicorn.log") as server:
        port = server.port
        client = Client(port, bulk.api_key)
        warm = client.run(
            lambda _: client.request("GET", f"{MANAGE}?platform_key={bulk.key}"),
            count=20,
            concurrency=CONCURRENCY,
        )
        only_status(warm, [200])
        if "bulk" in parts:
            bench_bulk(report, client, bulk, plan)
        elif "list" in parts or profile:  # the list reads the bulk's rows
            bulk_request(client, bulk_body(bulk, plan), plan.bulk_rows)
        if "list" in parts:
            bench_list(report, client, bulk, plan)
        if "family" in parts:  # before scale: it needs the big platform empty
            bench_family(report, client, bulk, scale, Client(port, scale.api_key), plan)
        if profile:
            report.meta["profile"] = profile_list(bulk)
            report.meta["profile_bulk"] = profile_bulk(bulk, plan)
        if "scale" in parts:
            bench_scale(report, Client(port, scale.api_key), scale, small, plan)
        if "memory" in parts:
            bench_memory(report, client, server, bulk, plan)
        if "uploads" in parts:
            bench_uploads(report, client, bulk, plan)
        if "credentials" in parts:
            from bench.credentials import bench_credentials

            bench_credentials(report, client, plan)
        if "events" in parts:
            from bench.events import bench_events

            bench_events(report, client, env, workdir, plan)
    return report


if __name__ == "__main__":
    sys.exit(main())
