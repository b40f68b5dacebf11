"""The bench database (a fresh SQLite file, or a scratch database on PostgreSQL) and the
gunicorn process that serves ``bench.settings`` from it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
#: The PostgreSQL scratch database (dropped and created by every run): ``BENCH_DB_NAME``.
BENCH_DATABASE = os.environ.get("BENCH_DB_NAME", "ibl_bench")


def vendor_of(url: str) -> str:
    scheme = urlsplit(url).scheme
    return "postgresql" if scheme.startswith(("postgres", "pgsql")) else scheme or "sqlite"


@contextmanager
def bench_database(workdir: Path, *, keep: bool = False) -> Iterator[str]:
    """Yield the URL of an empty bench database; drop it afterwards unless ``keep``.

    With ``DATABASE_URL`` on PostgreSQL, the same server gets a database of its own,
    ``ibl_bench`` or ``BENCH_DB_NAME`` (dropped and created), so the development
    database is not touched.
    Without it, a SQLite file in ``workdir``.
    """
    url = os.environ.get("DATABASE_URL", "")
    if not url or vendor_of(url) == "sqlite":
        yield f"sqlite:///{workdir / 'bench.sqlite3'}"
        return
    if vendor_of(url) != "postgresql":
        raise SystemExit(f"bench: unsupported DATABASE_URL scheme {urlsplit(url).scheme!r}")
    import psycopg

    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    bench_url = urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}"))

    def admin(sql: str) -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql)

    admin(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
    admin(f"CREATE DATABASE {BENCH_DATABASE}")
    try:
        yield bench_url
    finally:
        if not keep:
            admin(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Server:
    """A running bench server: its port and the gunicorn master's process id."""

    port: int
    pid: int
    workers: int

    def worker_pids(self) -> list[int]:
        """The master's children (the workers), from ``/proc/*/stat`` (Linux only)."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # "pid (comm) state ppid ...": comm may hold spaces, so split after ")".
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended while we looked
            if int(fields[1]) == self.pid:
                children.append(int(stat.parent.name))
        return sorted(children)

    def restart_workers(self, timeout: float = 60) -> list[int]:
        """Replace every worker by a fresh one (``SIGHUP``: gunicorn starts new workers,
        then stops the old ones); the new workers' ids once they all run."""
        old = set(self.worker_pids())
        os.kill(self.pid, signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) == self.workers and not old & set(pids):
                return pids
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not replace its workers; see its log")


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int, log: Path) -> Iterator[Server]:
    """Serve ``bench.settings`` with ``workers`` sync workers on 127.0.0.1."""
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--config",
        str(ROOT / "bench" / "gunicorn_conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
    ]
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            wait_for_port(port, process)
            yield Server(port, process.pid, workers)
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start; see its log") from None
            time.sleep(0.1)
