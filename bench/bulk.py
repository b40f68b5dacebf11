"""Part ``bulk``: 10,000 rows in one bulk request against the same rows in one raw
``INSERT ... ON CONFLICT DO UPDATE`` from this process, and against single POSTs."""

from __future__ import annotations

import json
import statistics
from typing import Any

from bench.client import Client, Response, Run, only_status
from bench.harness import (
    BULK,
    CONCURRENCY,
    MANAGE,
    Plan,
    Report,
    close_connections,
    ms,
    spread,
)

#: The target: bulk / raw upsert at most this many times (per database).
BULK_RAW_TARGET = {"sqlite": 2.0, "postgresql": 1.3}


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
