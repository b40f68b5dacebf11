"""Part ``events`` of ``make bench``: what recording events adds to a suggestion write,
and how fast webhooks are delivered.

1. The added cost per write: the same requests on the bench server (events recorded,
   the platform has an active webhook endpoint, so each write also queues its
   dispatch) and on a second server of the same code whose events are turned off
   (``BENCH_EVENTS=off``, ``bench/no_events.py``), interleaved: a 10,000-row bulk
   request (part ``bulk``'s creates), and single POSTs that each create a
   suggestion. The bulk also runs on a third server whose outbox alone is
   off (``BENCH_EVENTS=outbox-off``: the events' data is built, not written), which
   splits the added cost between building the data and writing it (a bulk's data is
   built by the database, in the statement that writes the events: the split shows
   it all as writing). Afterwards the
   platform's events are counted: every write of the bench server recorded its
   event, the others none.
2. Delivery throughput: a receiver on 127.0.0.1 in this process (a thread) verifies
   every delivery with the ``standardwebhooks`` library; ``manage.py db_worker``
   processes (1, then 2) run while one bulk request records N ``suggestion.created``
   events, and the time from its answer to the N-th verified delivery gives
   deliveries per second. The receiver must have verified exactly the N webhook-ids
   of those events, and every delivery must be recorded as succeeded.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook

from bench import data
from bench.bulk import bulk_body, bulk_request, bulk_rows
from bench.client import Client, Response, only_status
from bench.harness import BULK, CONCURRENCY, MANAGE, close_connections, ms, spread
from bench.server import ROOT, gunicorn

#: Users x programs of the delivery platform: one bulk request records its events.
HOOKS_PROGRAMS = 10
#: The time a round of deliveries may take before the bench gives up.
DELIVERY_TIMEOUT = 300.0


# --- the receiver -------------------------------------------------------------------


def verified_id(secret: str, body: bytes, headers: Mapping[str, str]) -> str:
    """The ``webhook-id`` of a delivery whose signature ``secret`` verifies; raises
    ``standardwebhooks.WebhookVerificationError`` when it does not (or the headers
    are missing), ``ValueError`` when the body is no event."""
    lowered = {name.lower(): value for name, value in headers.items()}
    payload = Webhook(secret).verify(body, lowered)
    if not isinstance(payload, dict) or not {"type", "timestamp", "data"} <= payload.keys():
        raise ValueError(f"not an event: {body[:200]!r}")
    return lowered["webhook-id"]


@dataclass
class Receiver:
    """Webhook endpoints on 127.0.0.1: ``path -> secret``. Every POST is verified
    (:func:`verified_id`) and answered 200; a failure is kept and answered 400."""

    secrets: dict[str, str] = field(default_factory=dict)
    verified: dict[str, set[str]] = field(default_factory=dict)
    deliveries: int = 0
    failures: list[str] = field(default_factory=list)
    #: When each path's set of verified ids last grew (``time.perf_counter``).
    last_new: dict[str, float] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def receive(self, path: str, body: bytes, headers: Mapping[str, str]) -> bool:
        """Verify one delivery and count it; whether it verified."""
        try:
            secret = self.secrets[path]
            message_id = verified_id(secret, body, headers)
        except Exception as error:  # any failure to verify is the bench's failure
            with self.changed:
                self.failures.append(f"{path}: {type(error).__name__}: {error}"[:300])
                self.changed.notify_all()
            return False
        with self.changed:
            self.deliveries += 1
            ids = self.verified.setdefault(path, set())
            if message_id not in ids:
                ids.add(message_id)
                self.last_new[path] = time.perf_counter()
            self.changed.notify_all()
        return True

    def expect(self, path: str, secret: str) -> None:
        """Receive on ``path`` with ``secret``, from no delivery."""
        with self.changed:
            self.secrets[path] = secret
            self.verified[path] = set()
            self.last_new.pop(path, None)

    def wait_for(self, path: str, count: int, timeout: float) -> float:
        """Wait until ``count`` distinct ids are verified on ``path``; when the last one
        was (``time.perf_counter``). Raises on a verification failure or the timeout."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(self.verified.get(path, ())) < count and not self.failures:
                left = deadline - time.monotonic()
                if left <= 0:
                    got = len(self.verified.get(path, ()))
                    raise RuntimeError(f"receiver: {got} of {count} deliveries in {timeout:g} s")
                self.changed.wait(min(left, 1.0))
            if self.failures:
                raise RuntimeError(f"receiver: deliveries failed to verify: {self.failures[:3]}")
            return self.last_new[path]


def receiver_handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            ok = receiver.receive(self.path, body, dict(self.headers.items()))
            answer = b"ok" if ok else b"not verified"
            self.send_response(200 if ok else 400)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per delivery would drown the bench's output

    return Handler


@contextmanager
def serve(receiver: Receiver) -> Iterator[int]:
    """Serve ``receiver`` on 127.0.0.1 from a thread; yield its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver_handler(receiver))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


# --- the figures ------------------------------------------------------------------


def added_cost(with_events: list[float], without: list[float], rows: int) -> dict[str, Any]:
    """Paired samples (seconds) of the same request with and without events: the
    medians, the per-sample ratios and their median, and the added milliseconds per
    1,000 rows (the median of the per-sample differences)."""
    pairs = list(zip(with_events, without, strict=True))
    ratios = [w / wo for w, wo in pairs]
    return {
        "with_s": statistics.median(with_events),
        "without_s": statistics.median(without),
        "ratios": ratios,
        "ratio": statistics.median(ratios),
        "added_ms_per_1000": statistics.median(w - wo for w, wo in pairs) * 1000 * 1000 / rows,
    }


# --- the parts ----------------------------------------------------------------------


def event_count(bench: data.BenchPlatform) -> int:
    from ibl_core.models import Event

    return Event.objects.filter(platform__key=bench.key).count()


def reset_writes(bench: data.BenchPlatform) -> None:
    """No suggestion and no event on ``bench`` (deliveries of its events go with them)."""
    from ibl_core.models import Event

    Event.objects.filter(platform__key=bench.key).delete()
    data.reset_suggestions(bench)


def create_endpoint(client: Client, bench: data.BenchPlatform, url: str) -> tuple[int, str]:
    """A webhook endpoint of ``bench`` created through the API: (its id, its secret)."""
    response = client.request(
        "POST", f"/api/core/orgs/{bench.key}/webhooks/", json_body={"url": url, "events": []}
    )
    if response.status != 201:
        raise RuntimeError(f"webhook endpoint: {response.status} {response.body[:300]!r}")
    answer = response.json()
    return answer["id"], answer["secret"]


def bench_events(
    report: Any, client: Client, env: dict[str, str], workdir: Path, plan: Any
) -> None:

    n = plan.bulk_rows
    deliveries = plan.event_deliveries
    report.start(
        f"Events: {n:,}-row bulk and single POSTs with vs without events (the same code "
        f"on servers with them off); webhook deliveries of {deliveries:,} events"
    )
    bench = data.create_platform("events", users=plan.bulk_users, programs=plan.bulk_programs)
    hooks = data.create_platform(
        "hooks", users=-(-deliveries // HOOKS_PROGRAMS), programs=HOOKS_PROGRAMS
    )
    close_connections()
    receiver = Receiver()
    with ExitStack() as stack:
        base_url = f"http://127.0.0.1:{stack.enter_context(serve(receiver))}"
        sides = {"with": Client(client.port, bench.api_key)}
        for side, switch in (("outbox off", "outbox-off"), ("without", "off")):
            server = stack.enter_context(
                gunicorn(
                    {**env, "BENCH_EVENTS": switch},
                    workers=CONCURRENCY,
                    log=workdir / f"gunicorn-events-{switch}.log",
                )
            )
            sides[side] = Client(server.port, bench.api_key)
        # The platform has a listener: a write with events also queues their dispatch
        # (nothing runs it here; the queue is emptied before the deliveries are timed).
        _, secret = create_endpoint(sides["with"], bench, f"{base_url}/events")
        receiver.expect("/events", secret)
        listing = f"/api/catalog/suggestions/program/manage/?platform_key={bench.key}"
        for side_client in sides.values():  # warm: connections, imports, caches

            def list_once(_: int, side_client: Client = side_client) -> Response:
                return side_client.request("GET", listing)

            only_status(side_client.run(list_once, count=10, concurrency=CONCURRENCY), [200])
        bench_bulk_cost(report, sides, bench, plan, bulk_body(bench, plan))
        singles = bench_single_cost(
            report, {side: sides[side] for side in ("with", "without")}, bench, plan,
            bulk_rows(bench, plan),
        )  # fmt: skip
        # Each write of the bench server queued one dispatch, the other servers none.
        queued = queued_dispatches()
        if queued != plan.bulk_samples + singles:
            raise RuntimeError(f"{queued} dispatches queued, not {plan.bulk_samples + singles}")
        report.note(
            "events: 'without' is a second gunicorn of the same code and database whose "
            "bench settings (BENCH_EVENTS=off, bench/no_events.py) replace the outbox and "
            "the suggestion event builders by no-ops at start-up, 'outbox off' a third "
            "that replaces the outbox alone (the events' data is built, then dropped; a "
            "bulk's is built by the database in the outbox's statement, so it goes too); "
            "'with' is the bench server, its platform having an active webhook endpoint "
            "(each write also queues the dispatch; no worker runs then). Every sample "
            "starts from an empty platform, sides in rotating order; after each, the "
            "events were counted (all of 'with', none of the others), and at the end the "
            "dispatches queued (one per write of 'with'). Deliveries: db_worker processes "
            "(the database queue) already polling, one bulk request records the events, "
            "timed from its answer to the last verified delivery at a receiver in the "
            "bench process (standardwebhooks)"
        )
        reset_writes(bench)
        close_connections()
        bench_delivery(report, Client(client.port, hooks.api_key), hooks, env, workdir, plan,
                       receiver, base_url)  # fmt: skip


def bench_bulk_cost(
    report: Any,
    sides: dict[str, Client],
    bench: data.BenchPlatform,
    plan: Any,
    body: bytes,
) -> None:
    """The bulk request of part ``bulk`` (creates) on every side, each sample from an
    empty platform, the sides in rotating order."""

    n = plan.bulk_rows
    times: dict[str, list[float]] = {side: [] for side in sides}
    names = list(sides)
    for sample in range(plan.bulk_samples):
        shift = sample % len(names)
        order = names[shift:] + names[:shift]
        for side in order if sample % 2 == 0 else order[::-1]:
            reset_writes(bench)
            close_connections()
            times[side].append(bulk_request(sides[side], body, n))
            recorded = event_count(bench)
            expected = n if side == "with" else 0
            close_connections()
            if recorded != expected:
                raise RuntimeError(f"bulk {side} events: {recorded} events, not {expected}")
    samples = f"median (min-max) of {plan.bulk_samples}"
    with_events, without = times["with"], times["without"]
    cost = added_cost(with_events, without, n)
    report.add(
        f"bulk {n:,} creates, with events, {samples}",
        cost["with_s"],
        "s",
        key="events.bulk.with",
        samples=with_events,
        table=f"events: bulk request, {n:,} creates, events recorded (median, min-max)",
        level=2,
        cell=spread(with_events, unit=" s"),
    )
    report.add(
        f"bulk {n:,} creates, same code with events off, {samples}",
        cost["without_s"],
        "s",
        key="events.bulk.without",
        samples=without,
        table="events: the same request, same code with events off",
        level=2,
        cell=spread(without, unit=" s"),
    )
    report.add(
        "ratio: with / without events (median of per-sample ratios)",
        cost["ratio"],
        "x",
        key="events.bulk.ratio",
        ratios=cost["ratios"],
        table=f"events: bulk of {n:,} creates with / without events; added ms per 1,000 rows",
        level=1,
        cell=f"{spread(cost['ratios'], 2, 'x')}; +{cost['added_ms_per_1000']:.0f} ms",
    )
    report.add(
        "added by events per 1,000 rows (median of per-sample differences)",
        cost["added_ms_per_1000"],
        "ms",
        key="events.bulk.added_per_1000",
    )
    if "outbox off" in sides:
        outbox_off = times["outbox off"]
        building = added_cost(outbox_off, without, n)["added_ms_per_1000"]
        writing = added_cost(with_events, outbox_off, n)["added_ms_per_1000"]
        report.add(
            f"  building the events' data: outbox off - without "
            f"(outbox off {statistics.median(outbox_off):.3f} s)",
            building,
            "ms",
            key="events.bulk.building_per_1000",
            samples=outbox_off,
        )
        report.add(
            "  writing them, queuing their dispatch: with - outbox off",
            writing,
            "ms",
            key="events.bulk.writing_per_1000",
            table="events: of those ms, building the events' data + writing them",
            level=2,
            cell=f"{building:.0f} + {writing:.0f} ms",
        )


def bench_single_cost(
    report: Any,
    sides: dict[str, Client],
    bench: data.BenchPlatform,
    plan: Any,
    rows: list[dict[str, Any]],
) -> int:
    """Single POSTs, each creating a suggestion, alternating between the sides; how
    many per side."""

    reset_writes(bench)
    close_connections()
    count = min(plan.single_sample, len(rows) // 2)
    latencies: dict[str, list[float]] = {side: [] for side in sides}
    for i in range(count):
        order = ("with", "without") if i % 2 == 0 else ("without", "with")
        for offset, side in enumerate(order):
            response: Response = sides[side].request(
                "POST", MANAGE, json_body={"platform_key": bench.key, **rows[2 * i + offset]}
            )
            if response.status != 200:
                raise RuntimeError(f"single POST {side}: {response.status} {response.body!r}")
            latencies[side].append(response.seconds)
    recorded = event_count(bench)
    close_connections()
    if recorded != count:
        raise RuntimeError(f"single POSTs: {recorded} events, not {count} (all 'with')")
    p50 = {side: ms(statistics.median(values)) for side, values in latencies.items()}
    for side, label in (("with", "with events"), ("without", "same code, events off")):
        report.add(
            f"single POST create, {label}: p50 of {count}",
            p50[side],
            "ms",
            key=f"events.single.{side}",
            latencies_ms=[ms(value) for value in latencies[side]],
        )
    added = p50["with"] - p50["without"]
    report.add(
        "added by events to a single POST create (p50 with - p50 without)",
        added,
        "ms",
        key="events.single.added",
        table=f"events: single POST create, p50 with events - without ({count} each)",
        level=1,
        cell=f"{added:+.1f} ms ({p50['without']:.1f} -> {p50['with']:.1f} ms)",
    )
    return count


# --- 2. deliveries ------------------------------------------------------------------


@contextmanager
def db_workers(env: dict[str, str], count: int, log: Path) -> Iterator[list[subprocess.Popen]]:
    """``count`` ``manage.py db_worker`` processes, polling the queue; once each says it
    started. Stopped (SIGTERM, they finish the task at hand) afterwards."""
    command = [
        sys.executable, "manage.py", "db_worker", "--no-reload", "--skip-checks",
        "--no-startup-delay", "--interval", "0.1",
    ]  # fmt: skip
    processes: list[subprocess.Popen] = []
    logs = [log.with_name(f"{log.stem}-{i}{log.suffix}") for i in range(count)]
    try:
        for path in logs:
            with path.open("wb") as log_file:
                processes.append(
                    subprocess.Popen(
                        command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
                    )
                )
        deadline = time.monotonic() + 60
        while not all("Starting worker" in path.read_text(errors="replace") for path in logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise RuntimeError(f"db_worker did not start; see {logs}")
            time.sleep(0.05)
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def queued_dispatches() -> int:
    """How many dispatches of events are queued (no worker has run them)."""
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path__endswith=".dispatch_events").count()


def empty_queue() -> int:
    """Delete every queued task (part 1's dispatches, which no worker ran); how many."""
    from django_tasks_db.models import DBTaskResult

    deleted, _ = DBTaskResult.objects.all().delete()
    return deleted


def bench_delivery(
    report: Any,
    client: Client,
    hooks: data.BenchPlatform,
    env: dict[str, str],
    workdir: Path,
    plan: Any,
    receiver: Receiver,
    base_url: str,
) -> None:
    from ibl_core.models import WebhookDelivery

    n = plan.event_deliveries
    endpoint_id, secret = create_endpoint(client, hooks, f"{base_url}/hooks")
    rows = [
        {"user_id": user_id, "program_key": key}
        for user_id in hooks.user_ids
        for key in hooks.program_keys
    ][:n]
    body = json.dumps({"platform_key": hooks.key, "suggestion_data": rows}).encode()
    empty_queue()
    close_connections()
    worker_counts = [1, 2] if (os.cpu_count() or 1) >= 2 else [1]
    rates: dict[int, list[float]] = {workers: [] for workers in worker_counts}
    for round_number in range(plan.delivery_rounds):
        order = worker_counts if round_number % 2 == 0 else worker_counts[::-1]
        for workers in order:
            data.reset_suggestions(hooks)
            receiver.expect("/hooks", secret)
            close_connections()
            log = workdir / f"db-worker-r{round_number}-w{workers}.log"
            with db_workers(env, workers, log):
                response = client.request(
                    "POST", BULK, body=body, headers={"Content-Type": "application/json"}
                )
                answered = time.perf_counter()
                if response.status != 200 or response.json().get("successes") != n:
                    raise RuntimeError(f"hooks bulk: {response.status} {response.body[:300]!r}")
                last = receiver.wait_for("/hooks", n, DELIVERY_TIMEOUT)
                seconds = last - answered
                succeeded = wait_for_succeeded(endpoint_id, n, timeout=60)
            expected = {f"msg_{pk}" for pk in succeeded}
            if receiver.verified["/hooks"] != expected or len(expected) != n:
                raise RuntimeError(
                    f"deliveries: the receiver verified {len(receiver.verified['/hooks'])} ids, "
                    f"{len(expected)} deliveries succeeded, of {n} events"
                )
            rates[workers].append(n / seconds)
            WebhookDelivery.objects.filter(endpoint_id=endpoint_id).delete()
            close_connections()
    for workers in worker_counts:
        values = rates[workers]
        label = f"{workers} worker{'s' if workers > 1 else ''}"
        report.add(
            f"deliveries/s, {label} (db_worker), {n:,} events, median (min-max) of {len(values)}",
            statistics.median(values),
            "/s",
            key=f"events.delivery.{workers}",
            rates=values,
            deliveries=n,
            table=f"events: webhook deliveries per second, {label} (`db_worker`), {n:,} events",
            level=1,
            cell=spread(values, 0, "/s"),
        )
    report.note(
        f"events: every delivery was verified by the receiver (standardwebhooks), each of "
        f"the {n:,} webhook-ids once per round, and recorded as succeeded after one "
        "attempt; rounds alternate the worker counts, each round from an empty queue"
    )


def wait_for_succeeded(endpoint_id: int, count: int, timeout: float) -> set[int]:
    """The event ids of the endpoint's ``count`` succeeded deliveries, once all are
    recorded (the worker records an attempt after the receiver answered)."""
    from ibl_core.models import WebhookDelivery

    deadline = time.monotonic() + timeout
    while True:
        deliveries = WebhookDelivery.objects.filter(endpoint_id=endpoint_id)
        succeeded = deliveries.filter(status=WebhookDelivery.Status.SUCCEEDED, attempts=1)
        found = set(succeeded.values_list("event_id", flat=True))
        total = deliveries.count()
        close_connections()
        if len(found) == count == total:
            return found
        if time.monotonic() > deadline:
            raise RuntimeError(f"deliveries: {len(found)} of {total} succeeded, expected {count}")
        time.sleep(0.2)
