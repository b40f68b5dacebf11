"""Part ``list``: the API's lists against raw-SQL views answering the same bytes
(``bench/reference_sql.py``, the target) and against a bare Django view with the same
queries (``bench/reference.py``, a second line): the program-suggestion list at two page
sizes, three orders/filters, and a credential's assertion list (page_size=20)."""

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
RAW_SQL = "/bench/raw-sql/program-suggestions/"
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
    length = check_same(client, label, MANAGE + query, REFERENCE + query)
    body = client.request("GET", MANAGE + query).json()
    page_size = int(query.split("page_size=")[1].split("&")[0])
    if body["count"] != count or len(body["results"]) != min(page_size, count):
        raise RuntimeError(f"{label}: count {body['count']}, {len(body['results'])} rows")
    return length


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


#: Sides of part ``list``: the API, the raw-SQL view (the target), the bare view.
SIDES = ("api", "raw", "bare")
#: The API's lists against the raw-SQL views: at least this fraction of their req/s.
RAW_TARGET = 0.5
#: The credential of the assertion list part ``list`` measures, and its assertions.
ASSERTION_LIST_SIZE = 1_000


def raw_sql_path(query: str) -> str | None:
    """The raw-SQL view of a suggestion-list variant (``query=`` is not served)."""
    return None if "query=" in query else RAW_SQL + query


def assertion_list(bench: Any) -> tuple[str, str, int]:
    """(API path, raw-SQL path, count) of a credential of ``ASSERTION_LIST_SIZE``
    active assertions of the bench platform, page_size=20 (created on first use)."""
    from bench.credentials import create_credential, load_assertions
    from ibl_credentials.models import Credential

    entity_id = "bench-list"
    if not Credential.objects.filter(entity_id=entity_id).exists():
        load_assertions(bench, create_credential(bench, entity_id), ASSERTION_LIST_SIZE)
        from bench import data

        data.analyze()
    tail = f"/credentials/orgs/{bench.key}/users/{bench.admin_id}/{entity_id}/assertions/"
    query = f"?page_size={PAGE_SIZE}"
    return f"/api{tail}{query}", f"/bench/raw-sql{tail}{query}", ASSERTION_LIST_SIZE


def check_same(client: Client, label: str, api_path: str, other: str) -> int:
    """Both answer 200 and the same bytes; the length."""
    api = client.request("GET", api_path)
    reference = client.request("GET", other)
    for name, response in (("API", api), (other, reference)):
        if response.status != 200:
            raise RuntimeError(f"{label}: {name} HTTP {response.status} {response.body[:300]!r}")
    if api.body != reference.body:
        at = next(
            (i for i, (a, b) in enumerate(zip(api.body, reference.body, strict=False)) if a != b),
            min(len(api.body), len(reference.body)),
        )
        raise RuntimeError(
            f"{label}: the API and {other} answer different bodies at byte {at}:\n"
            f"  API       {api.body[max(0, at - 80) : at + 80]!r}\n"
            f"  reference {reference.body[max(0, at - 80) : at + 80]!r}"
        )
    return len(api.body)


def bench_list(report: Report, client: Client, bench: Any, plan: Plan) -> None:
    variants = list_variants(bench)
    report.start(
        f"2. List: requests/s, API / raw-SQL view (the limit) and API / bare view, both "
        f"answering the same bytes, {plan.bulk_rows:,} suggestions and a credential of "
        f"{ASSERTION_LIST_SIZE:,} assertions, {CONCURRENCY} clients, median of "
        f"{plan.list_rounds} interleaved rounds of {plan.list_seconds:g} s per side"
    )
    #: label -> side -> path
    paths: dict[str, dict[str, str]] = {}
    sizes, queries = {}, {}
    for label, query in variants.items():
        sizes[label] = check_same_body(client, label, query, expected_count(bench, query))
        paths[label] = {"api": MANAGE + query, "bare": REFERENCE + query}
        raw = raw_sql_path(query)
        if raw is not None:
            check_same(client, label, MANAGE + query, raw)
            paths[label]["raw"] = raw
    api_path, raw_path, count = assertion_list(bench)
    label = f"assertions, page_size={PAGE_SIZE}"
    close_connections()
    sizes[label] = check_same(client, label, api_path, raw_path)
    if client.request("GET", api_path).json()["count"] != count:
        raise RuntimeError(f"{label}: the count is not {count}")
    paths[label] = {"api": api_path, "raw": raw_path}
    for label, sides in paths.items():
        queries[label] = query_counts(bench, sides)
    close_connections()
    rates: dict[tuple[str, str], list[float]] = {
        (label, side): [] for label, sides in paths.items() for side in sides
    }
    labels = list(paths)
    for round_number in range(plan.list_rounds):
        # Short runs in a rotating order: a change in background load (other work on
        # the machine) hits every side, and each ratio compares neighbouring runs.
        shift = round_number % len(labels)
        for label in labels[shift:] + labels[:shift]:
            sides = [side for side in SIDES if side in paths[label]]
            for side in sides if round_number % 2 == 0 else sides[::-1]:
                path = paths[label][side]
                run = client.run(
                    lambda _, path=path: client.request("GET", path),
                    duration=plan.list_seconds,
                    concurrency=CONCURRENCY,
                )
                only_status(run, [200])
                rates[label, side].append(run.rate)
    for label in labels:
        api = rates[label, "api"]
        counted = queries[label]
        for side, name, target in (
            ("raw", "raw-SQL view", RAW_TARGET),
            ("bare", "bare view", LIST_TARGET),
        ):
            if side not in paths[label]:
                continue
            reference = rates[label, side]
            ratios = [a / r for a, r in zip(api, reference, strict=True)]
            ratio = statistics.median(ratios)
            report.add(
                f"{label}: {name} req/s ({sizes[label]:,} bytes, {counted[side]} queries)",
                statistics.median(reference),
                "req/s",
                key=f"list.{'reference' if side == 'bare' else 'raw_sql'}.{label}",
                rounds=reference,
                bytes=sizes[label],
                queries=counted[side],
            )
            report.add(
                f"ratio: API / {name}, {label} ({statistics.median(api):.0f} req/s, "
                f"{counted['api']} queries)",
                ratio,
                "x",
                target=f">= {target:g}x",
                ok=ratio >= target,
                key=f"list.{'ratio' if side == 'bare' else 'ratio_raw_sql'}.{label}",
                api_rounds=api,
                ratios=ratios,
                queries=counted["api"],
                table=f"list, {label}: API / {name}",
                level=1 if side == "raw" or "query=" in label else 2,
                cell=f"{ratio:.2f}x ({statistics.median(reference):.0f} req/s)",
            )
    report.note(
        "list: the raw-SQL views (bench/reference_sql.py) authenticate the same API key, "
        "read the platform, the membership and the kept count (or the credential) in one "
        "statement and the page with its joins in a second (the assertion list's exact "
        "COUNT in a third, as the API counts), and encode the API's envelope as DRF's "
        "JSONRenderer does; the bare view (bench/reference.py) does what the API does in "
        "SQL with the project's functions (authenticate_key, ExactCountPaginator, "
        "selectors.rows_in_order); every body was checked byte-identical to the API's, "
        "with the exact count, before timing; ratio = median of per-round ratios; "
        "reference req/s shown in the cell. The assertion list: a credential of "
        f"{ASSERTION_LIST_SIZE:,} active assertions of the bench platform, page 1"
    )


def profile_list(bench: Any) -> dict[str, Any]:
    """Both list sides of part 2, default and ``query=``, profiled in this process."""
    from bench.profile import format_profile, profile_paths

    query = f"?platform_key={bench.key}&page_size={PAGE_SIZE}"
    search = query + LIST_ORDERS["query=u12"]
    results = profile_paths(
        {
            "API": MANAGE + query,
            "raw SQL": RAW_SQL + query,
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
