"""``python -m bench`` (``make bench``): measure the example project under gunicorn.

Every number is taken in one run, against one server, with one client, and each
comparison is a ratio of two things measured side by side:

1. bulk: 10,000 rows in one bulk request against the same rows as single POSTs
   (a sample of 500, extrapolated);
2. list: the API's list against a plain-Django reference view of the same page;
3. scale: page 1 and a deep page at 1,000, 100,000 and 1,000,000 suggestions, with
   the count the database keeps and with a COUNT on every request;
4. uploads: a 1 MB JPEG and a 200 kB PNG of random noise.

The table goes to stdout and to ``bench/results/<database>.json``.
``docs/performance.md`` explains how to read it.
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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.client import Client, Response, Run, latency_run, only_status
from bench.server import ROOT, bench_database, gunicorn, vendor_of

MANAGE = "/api/catalog/suggestions/program/manage/"
BULK = MANAGE + "bulk/"
REFERENCE = "/bench/reference/program-suggestions/"
LIST_VARIANTS = {  # label -> path: the same list view, two ways to an exact count
    "configured": MANAGE,
    "counted": "/bench/counted/program-suggestions/",
}
IMAGES = "/api/credentials/orgs/{org}/users/{user_id}/images/"

#: Sync gunicorn workers, and client threads where requests run concurrently.
CONCURRENCY = 2
PAGE_SIZE = 20
DEEP_PAGE = 500


@dataclass(frozen=True)
class Plan:
    """How much of everything; ``--quick`` is a smaller plan for trying the bench out."""

    bulk_users: int = 1_000
    bulk_programs: int = 10
    single_sample: int = 500
    list_seconds: float = 1.0
    list_rounds: int = 9
    sizes: tuple[int, ...] = (1_000, 100_000, 1_000_000)
    scale_users: int = 10_000
    scale_programs: int = 100
    latency_requests: int = 40
    uploads: int = 10

    @property
    def bulk_rows(self) -> int:
        return self.bulk_users * self.bulk_programs


QUICK = Plan(
    single_sample=100,
    list_seconds=0.5,
    list_rounds=3,
    sizes=(1_000, 20_000, 100_000),
    scale_users=1_000,
    latency_requests=15,
    uploads=3,
)


@dataclass
class Report:
    """Rows of the printed table, and everything else for the JSON file."""

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
        if self.notes:
            lines.append("\nNotes")
            lines.extend(f"  - {note}" for note in self.notes)
        return "\n".join(lines)


def format_row(row: dict[str, Any]) -> str:
    value = row["value"]
    if isinstance(value, float):
        text = f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    line = f"{row['metric']:<58} {text:>12} {row['unit']:<6}"
    if row.get("target"):
        verdict = {True: "ok", False: "MISSED", None: ""}[row.get("ok")]
        line += f"  target {row['target']:<10} {verdict}"
    return line.rstrip()


def ms(seconds: float) -> float:
    return seconds * 1000


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


def bench_bulk(report: Report, client: Client, bench: Any, plan: Plan) -> None:
    from ibl_catalog.models import ProgramSuggestion

    report.start(f"1. Bulk: {plan.bulk_rows:,} rows, one request vs single POSTs")
    rows = [
        {"user_id": user_id, "program_key": key, "metadata": {"source": "bench"}}
        for user_id in bench.user_ids[: plan.bulk_users]
        for key in bench.program_keys[: plan.bulk_programs]
    ]
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
        seconds = run.seconds * len(rows) / len(sample)
        report.add(
            f"single POSTs, {concurrency} client{'s' if concurrency > 1 else ''}: "
            f"{len(sample)} timed, extrapolated to {len(rows):,}",
            seconds,
            "s",
            rows_per_s=len(rows) / seconds,
            p50_ms=ms(run.percentile(0.5)),
        )
        report.add(f"  rows/s (p50 {ms(run.percentile(0.5)):.1f} ms per POST)", len(rows) / seconds)
    ProgramSuggestion.objects.filter(platform__key=bench.key).delete()  # bulk creates all
    close_connections()

    body = json.dumps({"platform_key": bench.key, "suggestion_data": rows}).encode()
    headers = {"Content-Type": "application/json"}
    timings = {}
    for label in ("creates", "updates"):
        response = client.request("POST", BULK, body=body, headers=headers)
        result = response.json() if response.status == 200 else {}
        if result.get("successes") != len(rows):
            raise RuntimeError(f"bulk answered {response.status}: {response.body[:300]!r}")
        timings[label] = response.seconds
        report.add(
            f"bulk request, {len(rows):,} {label} ({len(body) / 1e6:.1f} MB JSON)",
            response.seconds,
            "s",
            target="< 2 s" if label == "creates" else "",
            ok=response.seconds < 2 if label == "creates" else None,
        )
        report.add("  rows/s", len(rows) / response.seconds)
    # The headline compares like with like: one request at a time, so one worker (one
    # core) on each side. Two clients use both workers against the bulk's one.
    for concurrency, run in singles.items():
        ratio = run.seconds / run.requests * len(rows) / timings["creates"]
        if concurrency == 1:
            report.add(
                "ratio: bulk creates vs single POSTs, 1 client", ratio, "x",
                target=">= 50x", ok=ratio >= 50,
            )  # fmt: skip
        else:
            report.add(
                f"ratio: bulk creates vs {concurrency} clients ({concurrency} workers vs 1)",
                ratio,
                "x",
            )


# --- 2. list ----------------------------------------------------------------------


def bench_list(report: Report, client: Client, bench: Any, plan: Plan) -> None:
    report.start(
        f"2. List: requests/s, page_size={PAGE_SIZE}, {plan.bulk_rows:,} suggestions, "
        f"{CONCURRENCY} clients, median of {plan.list_rounds} rounds of {plan.list_seconds:g} s"
    )
    query = f"?platform_key={bench.key}&page_size={PAGE_SIZE}"
    paths = {
        "API (as configured)": LIST_VARIANTS["configured"] + query,
        "API counting every request": LIST_VARIANTS["counted"] + query,
        "reference (plain Django view)": REFERENCE + query,
    }
    check_same_page(client, paths)
    rates: dict[str, list[float]] = {name: [] for name in paths}
    names = list(paths)
    for round_number in range(plan.list_rounds):
        # Short rounds in a rotating order: a change in background load (other work on
        # the machine) hits every side, and each ratio compares neighbouring runs.
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            path = paths[name]
            run = client.run(
                lambda _, path=path: client.request("GET", path),
                duration=plan.list_seconds,
                concurrency=CONCURRENCY,
            )
            only_status(run, [200])
            rates[name].append(run.rate)
    reference = rates["reference (plain Django view)"]
    for name, values in rates.items():
        report.add(name, statistics.median(values), "req/s", rounds=values)
    for name in names[:2]:
        ratios = [api / ref for api, ref in zip(rates[name], reference, strict=True)]
        ratio = statistics.median(ratios)
        report.add(f"ratio: {name} / reference", ratio, "x", target=">= 0.7x", ok=ratio >= 0.7)
    report.note(
        "the reference view authenticates the same API key with "
        "APIKeyAuthentication.authenticate_key and checks an active admin membership of "
        "the platform (one query each, like the API), then runs one COUNT and one values() "
        "page query with the same columns, and answers with JsonResponse"
    )


def check_same_page(client: Client, paths: dict[str, str]) -> None:
    """Every side answers the same count and the same rows before anything is timed."""
    pages = {}
    for name, path in paths.items():
        response = client.request("GET", path)
        if response.status != 200:
            raise RuntimeError(f"{name}: HTTP {response.status} {response.body[:300]!r}")
        body = response.json()
        pages[name] = (body["count"], [(row["id"], sorted(row)) for row in body["results"]])
    if len(set(map(repr, pages.values()))) != 1:
        raise RuntimeError(f"the list variants disagree: {pages}")


def profile_list(bench: Any) -> dict[str, Any]:
    """The three list sides of part 2, profiled in this process (``bench.profile``)."""
    from bench.profile import format_profile, profile_paths

    query = f"?platform_key={bench.key}&page_size={PAGE_SIZE}"
    results = profile_paths(
        {
            "API (configured)": LIST_VARIANTS["configured"] + query,
            "API (counted)": LIST_VARIANTS["counted"] + query,
            "reference": REFERENCE + query,
        },
        bench.api_key,
        requests=300,
    )
    print("\n" + format_profile(results), flush=True)
    close_connections()
    return results


# --- 3. scale ---------------------------------------------------------------------


def bench_scale(report: Report, client: Client, bench: Any, plan: Plan) -> None:
    from bench import data

    report.start(
        "3. Scale: latency of page 1 and a deep page, page_size=20, one client, "
        f"{plan.latency_requests} requests each"
    )
    loaded = 0
    page_one: dict[str, dict[int, float]] = {name: {} for name in LIST_VARIANTS}
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
        last_page = math.ceil(size / PAGE_SIZE)
        deep = min(DEEP_PAGE, last_page)
        for name, path in LIST_VARIANTS.items():
            base = f"{path}?platform_key={bench.key}&page_size={PAGE_SIZE}&page="
            for page in (1, deep):
                first = client.request("GET", f"{base}{page}")
                if first.status != 200 or first.json()["count"] != size:
                    raise RuntimeError(f"{name} page {page}: {first.status} {first.body[:200]!r}")
                run = latency_run(client, f"{base}{page}", plan.latency_requests)
                only_status(run, [200])
                p50, p95 = ms(run.percentile(0.5)), ms(run.percentile(0.95))
                label = (
                    "page 1"
                    if page == 1
                    else f"page {page}" + (" (last)" if page == last_page else "")
                )
                report.add(
                    f"  {name:<10} {label:<15} p50 (p95 {p95:.1f}, first {ms(first.seconds):.1f})",
                    p50,
                    "ms",
                    size=size,
                    variant=name,
                    page=page,
                    p95_ms=p95,
                    first_ms=ms(first.seconds),
                )
                if page == 1:
                    page_one[name][size] = p50
            past = client.request("GET", f"{base}{last_page + 1}")
            if past.status != 404:
                raise RuntimeError(f"{name}: page {last_page + 1} answered {past.status}")
    small, large = plan.sizes[0], plan.sizes[-1]
    for name, by_size in page_one.items():
        ratio = by_size[large] / by_size[small]
        report.add(
            f"ratio: page 1 p50 at {large:,} / at {small:,}, {name}",
            ratio,
            "x",
            target="<= 3x",
            ok=ratio <= 3,
        )
    report.note(
        "configured = the API as it is (count kept by the database, "
        "ibl_catalog/suggestions/counts.py); counted = the same view running a join-free "
        "COUNT on every request; every answer's count was checked exact and the page "
        "after the last one answered 404"
    )


# --- 4. uploads -------------------------------------------------------------------


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
    report.start(f"4. Uploads: POST .../images/ (multipart), {plan.uploads} each, one client")
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
            bytes=len(payload),
            p95_ms=ms(run.percentile(0.95)),
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
        default="bulk,list,scale,uploads",
        help="comma-separated parts to run (default: all four)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else Plan()
    parts = {part.strip() for part in args.only.split(",")}
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
        document = {**report.meta, "rows": report.rows, "notes": report.notes}
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
    close_connections()
    with gunicorn(env, workers=CONCURRENCY, log=workdir / "gunicorn.log") as port:
        client = Client(port, bulk.api_key)
        warm = client.run(
            lambda _: client.request("GET", f"{MANAGE}?platform_key={bulk.key}"),
            count=20,
            concurrency=CONCURRENCY,
        )
        only_status(warm, [200])
        if "bulk" in parts or "list" in parts:  # the list is read from the bulk's rows
            bench_bulk(report, client, bulk, plan)
        if "list" in parts:
            bench_list(report, client, bulk, plan)
        if profile:
            report.meta["profile"] = profile_list(bulk)
        if "scale" in parts:
            bench_scale(report, Client(port, scale.api_key), scale, plan)
        if "uploads" in parts:
            bench_uploads(report, client, bulk, plan)
    return report


if __name__ == "__main__":
    sys.exit(main())
