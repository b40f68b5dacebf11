"""What a real gunicorn writes to its logs: one line per record, one record per request.

Requests are written byte by byte on a socket (no HTTP client cleans them up), the
server is stopped, and then every line of its stdout and stderr is read.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.live import ROOT, example_env, free_port, gunicorn

pytestmark = pytest.mark.live

#: gunicorn's error log: "[2026-01-31 12:00:00 +0000] [123] [INFO] Booting worker ..."
GUNICORN_LINE = re.compile(r"\[[\d: +-]+\] \[\d+\] \[(DEBUG|INFO|WARNING|ERROR|CRITICAL)\] .*")
#: The access log of gunicorn.conf.py: quoted fields hold no bare quote.
QUOTED = r'"(?:[^"\\]|\\.)*"'
ACCESS_LINE = re.compile(rf"127\.0\.0\.1 \[[^\]]+\] {QUOTED} \d{{3}} (\d+|-) \d+ms {QUOTED}")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def send(port: int, request: bytes, timeout: float = 30) -> int:
    """Send raw bytes as one request on a new connection; return the status code."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def get(path: bytes, *headers: bytes) -> bytes:
    lines = [b"GET " + path + b" HTTP/1.1", b"Host: 127.0.0.1", *headers, b"Connection: close"]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def lines_of(path: Path) -> list[str]:
    # Split on "\n" only: a raw "\r" or another control left in a line must show.
    text = path.read_bytes().decode("utf-8")
    return text.split("\n")[:-1] if text else []


def serve_and_log(
    tmp: Path, env: dict[str, str], args: list[str], requests: list[bytes], idle: int = 0
):
    """Start gunicorn, send ``requests``, stop it; return (statuses, stdout, stderr lines).

    ``idle`` connections are opened first and send nothing, as a browser's preconnects:
    the requests must still be answered at once (``send`` gives up after 10 s)."""
    port = free_port()
    args = [arg.replace("{port}", str(port)) for arg in args]
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    out, err = tmp / "stdout.log", tmp / "stderr.log"
    with (
        out.open("wb") as stdout,
        err.open("wb") as stderr,
        gunicorn(port, env, *args, stdout=stdout, stderr=stderr),
    ):
        idle_sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(idle)]
        try:
            statuses = [send(port, request, timeout=10 if idle else 30) for request in requests]
        finally:
            for sock in idle_sockets:
                sock.close()
    return statuses, lines_of(out), lines_of(err)


FORGING_REQUESTS = [
    get(b"/nope%0aFORGED%0d%0a127.0.0.1%20-%20FORGED"),  # a decoded newline in the path
    get(b"/nope%1b[2J%1b[31mRED%00%7f%c2%9b"),  # terminal escapes, NUL, DEL, C1 CSI
    get(b"/nope%22%20200%200%20%22x"),  # a quote that would close the field
    get(b"/healthz", b"User-Agent: agent\tTAB\x85NEL\x9bCSI"),  # header: tab, C1 bytes
    get(b"/healthz", b"User-Agent: a\x1bb\x01c"),  # refused by gunicorn's parser (400)
    get(b"/healthz?q=%0aFORGED&api_key=%0a"),  # the query string, in our JSON line
]


@pytest.fixture(scope="module")
def forged(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("forged")
    env = {**example_env(tmp), "GUNICORN_ACCESS_LOG": "-"}  # the access log turned on
    args = ["-c", "gunicorn.conf.py", "--bind", "127.0.0.1:{port}", "--workers", "1"]
    return serve_and_log(tmp, env, args, FORGING_REQUESTS)


def test_forged_requests_were_answered(forged):
    statuses, _, _ = forged
    assert statuses == [404, 404, 404, 200, 400, 200]


def test_every_log_line_is_one_record_with_no_raw_control_character(forged):
    _, access, errors = forged
    assert len(access) == 5  # the request gunicorn refused never reached the access log
    for line in access:
        assert ACCESS_LINE.fullmatch(line), line
        assert not CONTROL.search(line), line
    for line in errors:
        assert not CONTROL.search(line), line
        if not GUNICORN_LINE.fullmatch(line):
            assert isinstance(json.loads(line), dict), line
    assert not [line for line in access + errors if "FORGED" in line.split('"')[0]]


def test_access_log_escapes_the_path_and_headers(forged):
    _, access, _ = forged
    requests = [line.split('"')[1] if line.count('"') == 4 else line for line in access]
    assert requests[0] == "GET /nope\\x0aFORGED\\x0d\\x0a127.0.0.1 - FORGED HTTP/1.1"
    assert (
        access[1].split(' "')[1].startswith("GET /nope\\x1b[2J\\x1b[31mRED\\x00\\x7f\\x9b HTTP/1.1")
    )
    assert '"GET /nope\\" 200 0 \\"x HTTP/1.1" 404 ' in access[2]
    assert access[3].endswith('"agent\\x09TAB\\x85NEL\\x9bCSI"')


def test_request_log_lines_are_json_with_the_exact_path(forged):
    _, _, errors = forged
    records = [json.loads(line) for line in errors if line.startswith("{")]
    assert [(r["path"], r["status"]) for r in records] == [
        ("/nope\nFORGED\r\n127.0.0.1 - FORGED", 404),
        ("/nope\x1b[2J\x1b[31mRED\x00\x7f\x9b", 404),
        ('/nope" 200 0 "x', 404),
        ("/healthz", 200),
        ("/healthz", 200),
    ]
    assert records[-1]["query"] == "q=%0AFORGED&api_key=[redacted]"


def test_a_refused_header_is_reported_by_name_only(forged):
    _, _, errors = forged
    refused = [line for line in errors if "Invalid request" in line]
    assert len(refused) == 1
    assert refused[0].endswith("Invalid HTTP Header: 'USER-AGENT'")


# `make run`: one line per request, and no warning per process ------------------------


def make_run_gunicorn_args(port: int) -> list[str]:
    """The gunicorn arguments of `make run`'s recipe, as make would run them."""
    recipe = subprocess.run(
        ["make", "-n", "run", f"PORT={port}"], cwd=ROOT, capture_output=True, text=True,
        check=True, timeout=60,
    ).stdout.replace("\\\n", " ")  # fmt: skip
    [line] = [line for line in recipe.splitlines() if "gunicorn example_project.wsgi" in line]
    words = shlex.split(line)
    return words[[word.endswith("/gunicorn") for word in words].index(True) + 1 :]


@pytest.fixture(scope="module")
def make_run_logs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("make-run")
    env = {**example_env(tmp), "DJANGO_DEBUG": "false"}
    del env["DJANGO_SECRET_KEY"]  # as on a fresh clone: the development key
    args = [arg.replace(str(port), "{port}") for port in [free_port()]
            for arg in make_run_gunicorn_args(port)]  # fmt: skip
    requests = [
        get(b"/healthz"),
        get(b"/nope"),  # 404: Django's "Not Found" line would make it two
        get(b"/api/catalog/suggestions/program/manage/?platform_key=demo"),  # 401
        get(b"/"),
    ]
    # A browser keeps idle connections open; with one sync worker per connection the
    # demo stalled for gunicorn's 30 s timeout and logged worker tracebacks.
    return args, serve_and_log(tmp, env, args, requests, idle=4)


def test_make_run_has_no_access_log_flag(make_run_logs):
    args, _ = make_run_logs
    assert args[:3] == ["example_project.wsgi", "--bind", "127.0.0.1:{port}"]
    assert not any(arg.startswith("--access-log") for arg in args)


def test_make_run_logs_one_line_per_request_and_nothing_else(make_run_logs):
    _, (statuses, access, errors) = make_run_logs
    assert statuses == [200, 404, 401, 200]
    assert access == []
    records = [line for line in errors if not GUNICORN_LINE.fullmatch(line)]
    assert [(json.loads(line)["path"], json.loads(line)["status"]) for line in records] == [
        ("/healthz", 200),
        ("/nope", 404),
        ("/api/catalog/suggestions/program/manage/", 401),
        ("/", 200),
    ]
    # The development secret key is reported by `migrate` (a system check), not by
    # each gunicorn worker that imports the settings.
    assert not [line for line in errors if "SECRET_KEY" in line or "Warning" in line]
