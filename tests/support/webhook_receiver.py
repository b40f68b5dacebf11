"""Webhook receivers on loopback for the tests: one answers scripted statuses and keeps
every request it got; one never finishes answering."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    #: Statuses to answer, in order; then ``then`` for every later request.
    script: list[int] = field(default_factory=list)
    then: int = 200
    requests: list[Received] = field(default_factory=list)


@contextmanager
def receiver(script: list[int] | None = None, then: int = 200) -> Iterator[Receiver]:
    state = Receiver(url="", script=list(script or []), then=then)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            state.requests.append(Received(self.path, dict(self.headers.items()), body))
            code = state.script.pop(0) if state.script else state.then
            answer = f"answered {code}".encode()
            self.send_response(code)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/ibl"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class DripReceiver:
    url: str
    #: How many connections it accepted (each one an attempt).
    connections: int = 0


@contextmanager
def drip_receiver(every: float = 0.2, lasting: float = 8.0) -> Iterator[DripReceiver]:
    """A receiver that never finishes answering: it reads the request, sends its
    status line, then one byte of a header every ``every`` seconds, for ``lasting``
    seconds (each byte restarts a per-read timeout)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    state = DripReceiver(url=f"http://127.0.0.1:{listener.getsockname()[1]}/hooks/slow")
    stop = threading.Event()

    def drip(connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\n")
                ends = time.monotonic() + lasting
                while time.monotonic() < ends and not stop.is_set():
                    connection.sendall(b"x")
                    time.sleep(every)
            except OSError:  # the client gave up: what it should do
                pass

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            state.connections += 1
            threading.Thread(target=drip, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        thread.join()
        listener.close()
