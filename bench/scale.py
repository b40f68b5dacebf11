"""Part ``scale``: page 1 at 1,000, 100,000 and 1,000,000 suggestions, as is, right
after writes, and with ``query=``."""

from __future__ import annotations

import math
import time
from typing import Any

from bench.client import Client
from bench.harness import (
    MANAGE,
    PAGE_SIZE,
    Plan,
    Report,
    Side,
    close_connections,
    interleave,
    ms,
)
from bench.list import expected_count

COUNTED = "/bench/counted/program-suggestions/"  # the API's view, COUNT on every request
DEEP_PAGE = 500
#: The search of part 3: "u123" is in the usernames and emails of 11 of 10,000 users.
SCALE_QUERY = "u123"
QUERY_TARGET = {"sqlite": 40.0, "postgresql": 20.0}
SCALE_TARGET = 3.0


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
