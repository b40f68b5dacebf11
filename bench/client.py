"""A small bounded HTTP client for 127.0.0.1: one connection per worker thread.

``http.client`` keeps the connection open while the server allows it and opens a
new one when the server closes it (gunicorn's sync workers close after each
response), so each timing covers connect + request + full response.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

HOST = "127.0.0.1"


@dataclass
class Response:
    status: int
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Run:
    """Latencies of a batch of requests and the wall time they took together."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        if len(ordered) == 1:
            return ordered[0]
        return statistics.quantiles(ordered, n=100, method="inclusive")[round(fraction * 100) - 1]


class Client:
    """Requests to the bench server, authenticated with one API key."""

    def __init__(self, port: int, api_key: str, timeout: float = 120) -> None:
        self.port = port
        self.api_key = api_key
        self.timeout = timeout
        self._local = threading.local()

    def connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        api_key: str | None = None,
    ) -> Response:
        all_headers = {"Authorization": f"Api-Token {api_key or self.api_key}", **(headers or {})}
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers["Content-Type"] = "application/json"
        conn = self.connection()
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
        except (ConnectionError, http.client.HTTPException):
            conn.close()  # the server closed an idle connection: once more on a new one
            started = time.perf_counter()
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
        seconds = time.perf_counter() - started
        if response.will_close:
            conn.close()
        return Response(response.status, data, seconds)

    def run(
        self,
        make_request: Callable[[int], Response],
        *,
        count: int | None = None,
        duration: float | None = None,
        concurrency: int = 1,
    ) -> Run:
        """Call ``make_request(i)`` ``count`` times, or for ``duration`` seconds (at most
        100,000 calls), from ``concurrency`` threads; ``i`` numbers the calls from 0."""
        limit = count if count is not None else 100_000
        deadline = None if duration is None else time.perf_counter() + duration
        lock = threading.Lock()
        next_index = 0
        run = Run(seconds=0.0)
        failures: list[BaseException] = []

        def worker() -> None:
            nonlocal next_index
            while True:
                with lock:
                    if next_index >= limit or failures:
                        return
                    if deadline is not None and time.perf_counter() >= deadline:
                        return
                    index = next_index
                    next_index += 1
                try:
                    response = make_request(index)
                except BaseException as failure:  # reported once the threads are done
                    with lock:
                        failures.append(failure)
                    return
                with lock:
                    run.latencies.append(response.seconds)
                    run.statuses[response.status] = run.statuses.get(response.status, 0) + 1

        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        run.seconds = time.perf_counter() - started
        if failures:
            raise failures[0]
        return run


def latency_run(client: Client, path: str, count: int) -> Run:
    """``count`` sequential GETs of ``path`` (one connection, one at a time)."""
    return client.run(lambda _: client.request("GET", path), count=count)


def only_status(run: Run, expected: Sequence[int]) -> None:
    unexpected = {status: n for status, n in run.statuses.items() if status not in expected}
    if unexpected:
        raise RuntimeError(f"unexpected HTTP statuses {unexpected} (expected {list(expected)})")
