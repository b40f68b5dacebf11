"""Part ``list``: the API's list against a bare Django view answering the same bytes
with the same queries (``bench/reference.py``), at two page sizes, three orders/filters."""

from __future__ import annotations

import statistics
from typing import Any

from bench.bulk import bulk_body
from bench.client import Client, only_status
from bench.harness import (
    CONCURRENCY,
    MANAGE,
    PAGE_SIZE,
    Plan,
    Report,
    close_connections,
)

REFERENCE = "/bench/reference/program-suggestions/"
#: The list's variants: page sizes, and extra parameters (label -> query string).
LIST_PAGE_SIZES = (20, 100)
LIST_ORDERS = {"default sort": "", "sort=username": "&sort=username", "query=u12": "&query=u12"}
LIST_TARGET = 0.9


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
