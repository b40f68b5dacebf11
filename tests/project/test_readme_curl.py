"""The curl examples of docs/demo.md, run as written against the demo served by gunicorn.

The block between ``<!-- curl-examples:start -->`` and ``<!-- curl-examples:end -->`` runs
in bash with only ``BASE`` and ``KEY`` set to this server's; every curl must answer
2xx (``--fail-with-body``), and a ``# -> <json>`` line after a command is the exact
answer that command must print.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess

import pytest

from tests.support.live import ROOT, start

PAGE = ROOT / "docs" / "demo.md"
SEPARATOR = "@@end-of-command@@"

pytestmark = [
    pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl"),
    pytest.mark.live,
]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    yield from start(tmp_path_factory.mktemp("curl"), workers=2)


def curl_commands() -> list[tuple[str, str | None]]:
    """(command, expected answer or None) for each shell command of the page's block."""
    text = PAGE.read_text()
    block = re.search(
        r"<!-- curl-examples:start -->\n```sh\n(.*?)```\n<!-- curl-examples:end -->", text, re.S
    ).group(1)
    commands: list[tuple[str, str | None]] = []
    pending = ""
    for line in block.splitlines():
        if not pending and line.startswith("# -> "):
            command, _ = commands[-1]
            commands[-1] = (command, line.removeprefix("# -> "))
            continue
        if not pending and (not line.strip() or line.startswith("#")):
            continue
        pending += line + "\n"
        try:
            shlex.split(pending)  # a quote still open: the command goes on
        except ValueError:
            continue
        if not pending.rstrip().endswith("\\"):
            commands.append((pending, None))
            pending = ""
    return commands


def test_the_curl_block_has_the_examples_it_promises():
    text = " ".join(command for command, _ in curl_commands())
    for needle in ("-X POST", "/bulk/", "suggestion_data", "query=", "sort=", "page=2",
                   "-X DELETE", "-F \"image=@", "/issuers/", "/assertions/bulk/",
                   "/public/assertions/", "revocationReason", "-over-time/"):  # fmt: skip
        assert needle in text, needle


def test_the_curl_examples_work_as_written(live, tmp_path):
    from PIL import Image

    Image.new("RGB", (32, 32), "navy").save(tmp_path / "logo.png")
    commands = curl_commands()
    script = ["set -e", 'curl() { command curl --fail-with-body "$@"; }']
    for command, _ in commands:
        command = re.sub(r"^BASE=.*$", f"BASE={live.base_url}", command, flags=re.M)
        command = re.sub(r"^KEY=.*$", f"KEY={live.key}", command, flags=re.M)
        script += [command.rstrip("\n"), f"echo; echo {SEPARATOR}"]
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=tmp_path, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = result.stdout.split(SEPARATOR + "\n")[:-1]
    assert len(outputs) == len(commands)
    for (command, expected), output in zip(commands, outputs, strict=True):
        if expected is not None:
            assert json.loads(output) == json.loads(expected), command
        elif command.lstrip().startswith("curl"):
            json.loads(output)  # every answer is JSON
