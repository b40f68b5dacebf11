"""Part ``memory``: the peak RSS growth of a gunicorn worker during a 10,000-row bulk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.bulk import bulk_body, bulk_request, bulk_rows
from bench.client import Client, only_status
from bench.harness import (
    BULK,
    CONCURRENCY,
    MANAGE,
    Plan,
    Report,
    close_connections,
)
from bench.server import Server

MEMORY_TARGET_MB = 30.0


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
