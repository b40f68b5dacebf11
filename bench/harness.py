"""What every part of ``make bench`` shares: the plan, the report, the server's
environment and Django in this process, and interleaved latency measurements."""

from __future__ import annotations

import os
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.client import Client, Response, Run
from bench.server import ROOT

MANAGE = "/api/catalog/suggestions/program/manage/"
BULK = MANAGE + "bulk/"

#: Sync gunicorn workers, and client threads where requests run concurrently.
CONCURRENCY = 2
PAGE_SIZE = 20


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
    #: Requests per side for each public path against its same-bytes reference.
    public_requests: int = 150
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
    public_requests=40,
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


# --- interleaved latency ------------------------------------------------------------


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
