"""The example project served by gunicorn on 127.0.0.1, for end-to-end tests.

It runs on its own SQLite file (WAL, IMMEDIATE transactions, busy timeout: the
example project's settings), with several worker processes, like ``make run``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LiveServer:
    base_url: str
    key: str
    env: dict[str, str]

    def request(self, method: str, path: str, body=None, headers=None, data: bytes | None = None):
        """Send a request; return (status, headers, body bytes)."""
        all_headers = {"Authorization": f"Api-Token {self.key}", **(headers or {})}
        if body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers=all_headers)  # fmt: skip
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def manage(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True,
            capture_output=True, text=True, timeout=120,
        ).stdout  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, failure: Callable[[], str]) -> None:
    """Wait (30 s at most) until ``process`` listens on ``port``; raise with ``failure()``."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(failure()) from None
            time.sleep(0.1)


def example_env(tmp: Path, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the example project on a fresh SQLite file under ``tmp``;
    ``extra_env`` adds to (or overrides) it."""
    (tmp / "static").mkdir(exist_ok=True)  # as after collectstatic (no WhiteNoise warning)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "DATABASE_URL": f"sqlite:///{tmp / 'live.sqlite3'}",
        "MEDIA_ROOT": str(tmp / "media"),
        "STATIC_ROOT": str(tmp / "static"),
        "DJANGO_SECRET_KEY": "live-server-test-secret-key-0123456789-abcdefghijklmnop",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        **(extra_env or {}),
    }


@contextmanager
def gunicorn(port: int, env: dict[str, str], *args: str, stdout=subprocess.DEVNULL,
             stderr=subprocess.DEVNULL) -> Iterator[subprocess.Popen]:  # fmt: skip
    """Run gunicorn from the repository root (so ``gunicorn.conf.py`` applies) until exit.

    ``args`` are gunicorn's arguments (the app and ``--bind`` included); the process is
    stopped when the block ends, so files given as ``stdout``/``stderr`` are complete.
    """
    executable = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(executable), *args], cwd=ROOT, env=env, stdout=stdout, stderr=stderr
    )
    try:
        wait_for_port(port, process, lambda: "gunicorn did not start")
        yield process
    finally:
        process.terminate()
        process.wait(10)


def start(tmp: Path, workers: int = 3, extra_env: dict[str, str] | None = None):
    """Migrate a fresh SQLite file, load the demo, start gunicorn; yield a LiveServer.

    ``extra_env`` adds to (or overrides) the example project's environment."""
    port = free_port()
    env = example_env(tmp, extra_env)
    server = LiveServer(base_url=f"http://127.0.0.1:{port}", key="", env=env)
    server.manage("migrate", "--noinput")
    demo = server.manage("ibl_demo", "--base-url", server.base_url)
    server.key = re.search(r"\b([0-9a-f]{64})\b", demo).group(1)
    args = ["example_project.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--log-level", "warning"]  # fmt: skip
    with gunicorn(port, env, *args):
        yield server
