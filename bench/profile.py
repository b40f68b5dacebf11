"""``python -m bench --profile``: where a list request spends its time.

The list requests run in the bench process itself (Django's test client, the full
middleware stack, the bench database) under ``cProfile``; each stage is the
cumulative time of the function that does it, per request. cProfile slows Python
code more than database time, so read the stages against each other, not as
absolute latencies.
"""

from __future__ import annotations

import cProfile
import logging
import pstats
import time
from pathlib import Path
from typing import Any

#: stage -> (end of the file name, function name); the first match wins.
STAGES: dict[str, tuple[str, str]] = {
    "whole request (middleware included)": ("django/core/handlers/base.py", "get_response"),
    "DRF initial: authentication + permission": ("rest_framework/views.py", "initial"),
    "  authenticate_key (key, platform, membership: 1 query)": (
        "ibl_core/tenancy/authentication.py",
        "authenticate_key",
    ),
    "  check_permissions (platform + role, read with the key)": (
        "rest_framework/views.py",
        "check_permissions",
    ),
    "filter_queryset (django-filter)": ("rest_framework/generics.py", "filter_queryset"),
    "suggestion_rows (building the values() query)": (
        "ibl_catalog/suggestions/selectors.py",
        "suggestion_rows",
    ),
    "paginate_queryset (count + page query)": ("ibl_core/api/pagination.py", "paginate_queryset"),
    "  QuerySet.count (the COUNT query)": ("django/db/models/query.py", "count"),
    "serializer .data": ("rest_framework/serializers.py", "data"),
    "JSON rendering": ("rest_framework/response.py", "rendered_content"),
    "reference view (everything inside it)": ("bench/reference.py", "reference_suggestions"),
    "raw-SQL view (everything inside it)": ("bench/reference_sql.py", "raw_sql_suggestions"),
    "SQL: compile (all queries)": ("django/db/models/sql/compiler.py", "as_sql"),
    "SQL: execute (all queries, database time)": ("django/db/backends/utils.py", "_execute"),
}


def stage_times(stats: pstats.Stats, requests: int) -> dict[str, float]:
    """Milliseconds per request of each stage that ran."""
    found: dict[str, float] = {}
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for stage, (file_end, function) in STAGES.items():
        times = [
            cumulative
            for (filename, _, name), (_, _, _, cumulative, _) in table.items()
            if name == function and filename.endswith(file_end)
        ]
        if times:
            found[stage] = max(times) * 1000 / requests
    return found


def profile_paths(paths: dict[str, str], api_key: str, requests: int) -> dict[str, Any]:
    """Wall time and profiled stages per request for each ``name -> path``."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Api-Token {api_key}")
    results: dict[str, Any] = {}
    # The request log line is written by both sides alike; here it would only flood stderr.
    logging.getLogger("ibl.request").setLevel(logging.WARNING)
    for name, path in paths.items():
        for _ in range(20):  # warm: imports, URL resolver, connection
            if client.get(path).status_code != 200:
                raise RuntimeError(f"{name}: {path} did not answer 200")
        started = time.perf_counter()
        for _ in range(requests):
            client.get(path)
        wall = (time.perf_counter() - started) * 1000 / requests
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            client.get(path)
        profiler.disable()
        results[name] = {
            "wall_ms": wall,
            "stages_ms": stage_times(pstats.Stats(profiler), requests),
        }
    return results


def format_profile(results: dict[str, Any]) -> str:
    """The profile as a table: one column per side, one row per stage."""
    names = list(results)
    lines = [
        "Profile of the list (python -m bench --profile): ms per request, in-process;",
        "wall time without the profiler, stages under cProfile (which slows Python code).",
        f"  {'':<50}" + "".join(f"{name[:18]:>19}" for name in names),
        f"  {'wall time, no profiler':<50}"
        + "".join(f"{results[name]['wall_ms']:>19.2f}" for name in names),
    ]
    for stage in STAGES:
        cells = [results[name]["stages_ms"].get(stage) for name in names]
        if any(cell is not None for cell in cells):
            lines.append(
                f"  {stage:<50}"
                + "".join(f"{cell:>19.2f}" if cell is not None else f"{'-':>19}" for cell in cells)
            )
    return "\n".join(lines)


def profile_bulk(body: bytes, api_key: str, reset: Any, top: int = 14) -> dict[str, Any]:
    """One bulk request of ``body`` (after ``reset()``, so all creates), in-process under
    cProfile: its wall time, its SQL time, and the project's functions (and DRF's
    validation and parsing) that took the most cumulative time."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Api-Token {api_key}")
    logging.getLogger("ibl.request").setLevel(logging.WARNING)
    path = "/api/catalog/suggestions/program/manage/bulk/"
    reset()
    started = time.perf_counter()
    if client.post(path, body, content_type="application/json").status_code != 200:
        raise RuntimeError("the bulk request did not answer 200 in-process")
    wall = (time.perf_counter() - started) * 1000
    reset()
    profiler = cProfile.Profile()
    profiler.enable()
    client.post(path, body, content_type="application/json")
    profiler.disable()
    table: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    whole = max(
        (cum for (f, _, n), (_, _, _, cum, _) in table.items()
         if n == "get_response" and f.endswith("django/core/handlers/base.py")),
        default=0.0,
    )  # fmt: skip
    sql = max(
        (cum for (f, _, n), (_, _, _, cum, _) in table.items()
         if n == "_execute" and f.endswith("django/db/backends/utils.py")),
        default=0.0,
    )  # fmt: skip
    functions = sorted(
        (
            (cum, f"{short(f)}:{line}:{n}")
            for (f, line, n), (_, _, _, cum, _) in table.items()
            if ("/ibl_" in f and "/site-packages/" not in f)
            or (n in {"is_valid", "_parse", "run_validation"} and "rest_framework" in f)
        ),
        reverse=True,
    )
    return {
        "wall_ms": wall,
        "profiled_ms": whole * 1000,
        "sql_ms": sql * 1000,
        "top": [(name, cum * 1000) for cum, name in functions[:top]],
    }


def short(filename: str) -> str:
    """A file name relative to site-packages or to the repository."""
    root = str(Path(__file__).resolve().parent.parent) + "/"
    return filename.split("/site-packages/")[-1].removeprefix(root)


def format_bulk_profile(result: dict[str, Any]) -> str:
    lines = [
        "Profile of one bulk request (creates), in-process under cProfile: cumulative ms;",
        f"  wall time without the profiler {result['wall_ms']:.0f} ms; under cProfile "
        f"{result['profiled_ms']:.0f} ms, of which SQL (cursor execute) {result['sql_ms']:.0f} ms",
    ]
    lines += [f"  {name:<78} {ms:>8.0f}" for name, ms in result["top"]]
    return "\n".join(lines)
