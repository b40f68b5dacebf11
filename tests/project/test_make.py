"""The Makefile's entry points: `make run` on a free and on a busy port, `make help`.

`make run` really runs here, with a stand-in virtual environment (wrappers around this
interpreter, stamps newer than pyproject.toml) so nothing is installed, on a SQLite
file and a port of its own.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from example_project.check_port import busy_port_message, main, port_is_free
from tests.support.live import ROOT, free_port, wait_for_port

KEY = re.compile(r"API key of demo-admin \(platform admin of demo\): ([0-9a-f]{64})")
LIST = "/api/catalog/suggestions/program/manage/?platform_key=demo"


def stand_in_venv(tmp: Path) -> Path:
    """A directory `make` takes for an installed venv: bin/python and bin/gunicorn."""
    venv = tmp / "venv"
    (venv / "bin").mkdir(parents=True)
    for name in ("python", "gunicorn"):
        real = Path(sys.executable) if name == "python" else Path(sys.executable).parent / name
        wrapper = venv / "bin" / name
        wrapper.write_text(f'#!/bin/sh\nexec "{real}" "$@"\n')
        wrapper.chmod(0o755)
    for stamp in (".installed-run", ".installed-dev"):
        (venv / stamp).touch()
    return venv


def make_env(tmp: Path) -> dict[str, str]:
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "IBL_", "DATABASE_", "MEDIA_", "STATIC_", "MAKE"))
    }
    return {
        **inherited,
        "DATABASE_URL": f"sqlite:///{tmp / 'demo.sqlite3'}",
        "MEDIA_ROOT": str(tmp / "media"),
        "STATIC_ROOT": str(tmp / "static"),
    }


def get(url: str, key: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Api-Token {key}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def wait_for_line(path: Path, pattern: re.Pattern[str], process: subprocess.Popen) -> re.Match:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        found = pattern.search(path.read_text())
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no {pattern.pattern!r} in:\n{path.read_text()}")


@pytest.fixture(scope="module")
def running_demo(tmp_path_factory):
    """`make run` on a free port, serving; yields (port, key, output file, env, venv)."""
    tmp = tmp_path_factory.mktemp("make-run")
    venv, env, port = stand_in_venv(tmp), make_env(tmp), free_port()
    output = tmp / "make-run.out"
    with output.open("w") as out:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"PORT={port}", f"VENV={venv}"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        key = wait_for_line(output, KEY, process).group(1)
        wait_for_port(port, process, output.read_text)
        yield port, key, output, env, venv
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # make, its shell and gunicorn
        process.wait(30)


@pytest.mark.live
def test_make_run_serves_the_demo_and_prints_a_working_key(running_demo):
    port, key, output, _, _ = running_demo
    assert get(f"http://127.0.0.1:{port}{LIST}", key) == 200
    text = output.read_text()
    assert f"curl -H 'Authorization: Api-Token {key}' 'http://127.0.0.1:{port}{LIST}'" in text
    assert f"Admin: http://127.0.0.1:{port}/admin/ as demo-superuser, password " in text
    assert re.search(r"^\s+\d+  learner1 ", text, re.M)
    assert text.count("DJANGO_SECRET_KEY is not set") == 1  # one warning per start


@pytest.mark.live
def test_make_run_on_a_busy_port_changes_nothing_and_says_so_in_one_line(running_demo):
    port, key, _, env, venv = running_demo
    second = subprocess.run(
        ["make", "--no-print-directory", "run", f"PORT={port}", f"VENV={venv}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert second.returncode != 0
    assert second.stdout == ""
    [line] = second.stderr.splitlines()
    assert f"Port {port} on 127.0.0.1 is already in use" in line
    assert re.search(r"Use another port: PORT=\d+ make run", line)
    # The running demo's key still works: no migrate, no ibl_demo ran.
    assert get(f"http://127.0.0.1:{port}{LIST}", key) == 200


@pytest.mark.live
def test_make_run_keeps_earlier_demo_keys():
    """A second demo on another port (the advice of the busy-port message) shares the
    database: it must not revoke the key the first demo printed."""
    recipe = subprocess.run(
        ["make", "-n", "run", f"PORT={free_port()}"], cwd=ROOT, capture_output=True, text=True,
        check=True, timeout=60,
    ).stdout  # fmt: skip
    [demo] = [line for line in recipe.splitlines() if "ibl_demo" in line]
    assert "--replace-keys" not in demo


@pytest.mark.live
def test_make_help_lists_every_target_with_one_line():
    makefile = (ROOT / "Makefile").read_text()
    targets = re.search(r"^\.PHONY: (.+)$", makefile, re.M).group(1).split()
    result = subprocess.run(
        ["make", "--no-print-directory"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )  # `make` alone is `make help`
    assert result.returncode == 0, result.stderr
    described = dict(re.findall(r"^  (\S+) +(\S.*)$", result.stdout, re.M))
    assert sorted(described) == sorted(targets)


# example_project/check_port.py ------------------------------------------------------


def test_a_free_port_passes_silently(capsys):
    port = free_port()
    assert port_is_free("127.0.0.1", port)
    assert main(["127.0.0.1", str(port)]) == 0
    assert capsys.readouterr() == ("", "")


def test_a_busy_port_is_named_with_a_free_one_to_use(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert not port_is_free("127.0.0.1", port)
        assert main(["127.0.0.1", str(port)]) == 1
        message = capsys.readouterr().out
        assert message.count("\n") == 1
        suggested = int(re.search(r"PORT=(\d+) make run$", message.strip()).group(1))
        assert suggested > port and port_is_free("127.0.0.1", suggested)
        assert busy_port_message("127.0.0.1", port) == message.strip()
