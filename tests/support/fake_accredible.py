"""A loopback fake of Accredible's credentials API, for the tests of the real client.

It answers what Accredible's public API reference (``accredible/api-documentation``,
``openapi.json``) says: ``POST /v1/credentials``, ``PUT`` and ``DELETE
/v1/credentials/{id}``, authenticated by ``Authorization: Token token=<key>``, with its
error shapes (a plain-text 401, ``{"errors": "..."}`` for 404 and 422). A script of
forced answers comes first (``(status, headers, body)``, or ``"slow"``: nothing for
``slow_seconds``), then the fake behaves as the service does.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "acc-test-key-0123456789abcdef"


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeAccredible:
    url: str = ""
    api_key: str = API_KEY
    #: Group ids that exist (a credential filed in another group is a 422).
    groups: set[int] = field(default_factory=lambda: {9549})
    credentials: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    script: list[Any] = field(default_factory=list)
    slow_seconds: float = 3.0
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(10000005))


@contextmanager
def fake_accredible(**options: Any) -> Iterator[FakeAccredible]:
    state = FakeAccredible(**options)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def handle_call(self) -> None:
            length = int(self.headers.get("content-length", "0") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            with lock:
                state.calls.append(Call(self.command, self.path, dict(self.headers), body))
                forced = state.script.pop(0) if state.script else None
            if forced == "slow":
                time.sleep(state.slow_seconds)
                forced = None
            if forced is not None:
                status, headers, answer = forced
                return self.answer(status, answer, headers)
            if self.headers.get("Authorization") != f"Token token={state.api_key}":
                return self.answer(401, "HTTP Token: Access denied.\n")
            with lock:
                return self.route(body)

        def route(self, body: Any) -> None:
            parts = self.path.rstrip("/").split("/")
            if parts[:3] != ["", "v1", "credentials"] or len(parts) > 4:
                return self.answer(404, {"error": "Not found"})
            if len(parts) == 3:
                if self.command != "POST":
                    return self.answer(404, {"error": "Not found"})
                return self.create(body)
            credential_id = parts[3]
            if credential_id not in state.credentials:
                return self.answer(404, {"errors": "Doesn't exist"})
            if self.command == "PUT":
                state.credentials[credential_id].update((body or {}).get("credential", {}))
                return self.answer(200, {"credential": state.credentials[credential_id]})
            if self.command == "DELETE":
                return self.answer(200, {"credential": state.credentials.pop(credential_id)})
            return self.answer(404, {"error": "Not found"})

        def create(self, body: Any) -> None:
            credential = (body or {}).get("credential") or {}
            recipient = credential.get("recipient") or {}
            if not recipient.get("email") and not recipient.get("name"):
                return self.answer(
                    422, {"errors": "Can not create credential without recipient data"}
                )
            group = credential.get("group_id")
            if group is None and not credential.get("group_name"):
                return self.answer(422, {"errors": "Invalid Group"})
            if group is not None and group not in state.groups:
                return self.answer(422, {"errors": "Invalid Group"})
            credential_id = str(next(state.ids))
            stored = {
                **credential,
                "id": credential_id,
                "url": f"https://www.credential.net/{credential_id}",
            }
            state.credentials[credential_id] = stored
            return self.answer(200, {"credential": stored})

        def answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            text = body if isinstance(body, str) else json.dumps(body)
            data = text.encode()
            self.send_response(status)
            kind = "text/plain" if isinstance(body, str) else "application/json"
            self.send_header("Content-Type", kind)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)  # unless the client gave up (its timeout)

        do_POST = do_PUT = do_DELETE = do_GET = handle_call

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
