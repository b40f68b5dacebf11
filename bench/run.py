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

8. writes: a single suggestion POST and a single assertion issue against bare Django
   views doing the same write and event (``bench/writes.py``).

``--only public`` runs the public verification paths of part 6 alone (a credential of
1,000), the default parts leave it out (part 6 runs it).

The table goes to stdout and to ``bench/results/<database>.json``;
``python -m bench.table`` turns the results into ``docs/performance.md``'s
table. ``docs/performance.md`` explains how to read them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform as python_platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.bulk import bench_bulk, bulk_body, bulk_request
from bench.client import Client, only_status
from bench.family import bench_family
from bench.harness import (
    CONCURRENCY,
    MANAGE,
    QUICK,
    Plan,
    Report,
    bench_env,
    close_connections,
    git_revision,
    setup_django,
)
from bench.list import bench_list, profile_bulk, profile_list
from bench.memory import bench_memory
from bench.scale import bench_scale
from bench.server import ROOT, bench_database, gunicorn, vendor_of
from bench.uploads import bench_uploads

PARTS = (
    "bulk",
    "list",
    "family",
    "scale",
    "memory",
    "uploads",
    "credentials",
    "events",
    "public",
    "writes",
)


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
        default=",".join(part for part in PARTS if part != "public"),
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
    from ibl_core.api.pagination import CatalogPagination

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
        # These two parts import Django's models at their top: only now is Django set up.
        if "credentials" in parts:
            from bench.credentials import bench_credentials

            bench_credentials(report, client, plan)
        elif "public" in parts:  # the credentials part ends with it
            from bench.credentials import bench_public

            bench_public(report, client, plan)
        if "writes" in parts:
            from bench.writes import bench_writes

            bench_writes(report, client, plan)
        if "events" in parts:
            from bench.events import bench_events

            bench_events(report, client, env, workdir, plan)
    return report


if __name__ == "__main__":
    sys.exit(main())
