"""A webhook receiver on loopback for the tests: answers scripted statuses and keeps
every request it got."""

from __future__ import annotations

import threading
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
