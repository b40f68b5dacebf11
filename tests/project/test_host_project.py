"""docs/install.md, followed on a fresh `django-admin startproject`.

The settings and URL blocks are read from the page itself (between the
``<!-- host-project:<file>:start -->`` and ``:end -->`` markers) and appended to the
generated files, so the page stays true: a block that stops working fails here.
Each step runs in a subprocess, as a user would run it, with this checkout's apps on
``PYTHONPATH``.
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
from pathlib import Path

import pytest

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "install.md"

#: Requests made with Django's test client inside the host project, as JSON lines.
CLIENT_SCRIPT = r"""
import io, json, os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")  # as manage.py does
django.setup()
from django.test import Client
from PIL import Image

key = sys.argv[1]
client = Client(SERVER_NAME="localhost")
auth = {"HTTP_AUTHORIZATION": f"Api-Token {key}"}
MANAGE = "/api/catalog/suggestions/program/manage/"
answers = {}

def record(name, response):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    answers[name] = {"status": response.status_code, "type": response.get("Content-Type"),
                     "challenge": response.get("WWW-Authenticate"), "length": len(body),
                     "json": json.loads(body) if "json" in (response.get("Content-Type") or "")
                     else None}

record("healthz", client.get("/healthz"))
record("readyz", client.get("/readyz"))
record("schema", client.get("/api/schema/", {"format": "json"}))
record("docs", client.get("/api/docs/"))
record("redoc", client.get("/api/redoc/"))
record("anonymous", client.get(MANAGE, {"platform_key": "acme"}))
record("create", client.post(MANAGE, {"platform_key": "acme", "user_id": int(sys.argv[2]),
       "program_key": "program-v1:acme+intro+2026"}, content_type="application/json", **auth))
record("list", client.get(MANAGE, {"platform_key": "acme"}, **auth))
png = io.BytesIO()
Image.new("RGB", (8, 8), "green").save(png, "PNG")
png.seek(0)
png.name = "logo.png"
record("upload", client.post("/api/credentials/orgs/acme/users/ann/images/", {"image": png},
       **auth))
image_url = answers["upload"]["json"]["image"]
record("media", client.get(image_url.removeprefix("http://localhost")))
record("admin", client.get("/admin/login/"))
print(json.dumps(answers))
"""


#: Step 5: a task the apps enqueue (the webhook dispatch, here of no events), then its
#: status. ``.status`` is read back from the database queue, as a worker leaves it.
TASK_SCRIPT = r"""
import os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
django.setup()
from ibl_core.models import Platform
from ibl_core.events.webhooks.delivery import dispatch_events

if sys.argv[1] == "enqueue":
    print(dispatch_events.enqueue(Platform.objects.get(key="acme").pk, []).id)
else:
    print(dispatch_events.get_result(sys.argv[2]).status.value)
"""


def page_block(name: str) -> str:
    """The fenced code between the page's markers for ``name``."""
    text = PAGE.read_text()
    found = re.search(
        rf"<!-- host-project:{re.escape(name)}:start -->\n```python\n(.*?)```\n"
        rf"<!-- host-project:{re.escape(name)}:end -->",
        text,
        re.S,
    )
    assert found, f"docs/install.md has no host-project block for {name}"
    return found.group(1)


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    """A startproject site with the page's blocks applied; returns a command runner."""
    site = tmp_path_factory.mktemp("host")
    env = {
        **{
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("DJANGO_", "DATABASE_", "IBL_", "MEDIA_", "STATIC_"))
        },
        "PYTHONPATH": str(ROOT),  # the apps of this checkout (not an installed copy)
    }

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, *args], cwd=site, env=env, capture_output=True, text=True,
            timeout=180,
        )  # fmt: skip
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    run.site, run.env = site, env  # type: ignore[attr-defined]  # for a server of its own
    run("-m", "django", "startproject", "mysite", str(site))
    for name in ("settings.py", "urls.py"):
        with (site / "mysite" / name).open("a") as generated:
            generated.write("\n\n" + page_block(name))
    return run


def test_the_page_blocks_pass_the_system_checks(host):
    result = host("manage.py", "check", "--fail-level", "WARNING")
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert result.stderr == ""


@pytest.fixture(scope="module")
def answers(host):
    host("manage.py", "migrate", "--noinput", "-v0")
    host("manage.py", "ibl_platform", "acme", "--name", "Acme Academy")
    created = host("manage.py", "ibl_user", "ann", "--platform", "acme", "--admin").stdout
    user_id = re.search(r"\(id (\d+)\)", created).group(1)
    host("manage.py", "ibl_program", "program-v1:acme+intro+2026", "--platform", "acme",
         "--name", "Intro")  # fmt: skip
    key = host("manage.py", "ibl_api_key", "ann", "--platform", "acme").stdout.strip()
    result = host("-c", CLIENT_SCRIPT, key, user_id)
    return json.loads(result.stdout), result.stderr, int(user_id)


def test_the_api_docs_and_probes_answer(answers):
    got, _, _ = answers
    for name in ("healthz", "readyz", "docs", "redoc", "admin"):
        assert got[name]["status"] == 200, name
    assert got["schema"]["json"]["info"] == {"title": "mysite API", "version": "1.0.0"}
    assert got["anonymous"]["status"] == 401
    assert got["anonymous"]["challenge"].startswith("Api-Token")


def test_a_key_from_the_commands_works_end_to_end(answers):
    got, _, user_id = answers
    assert got["create"]["status"] == 200
    assert got["create"]["json"]["user_id"] == user_id
    assert got["list"]["json"]["count"] == 1
    assert got["upload"]["status"] == 201
    assert got["upload"]["json"]["image"].startswith("http://localhost/media/uploaded_images/acme/")
    # MEDIA_URL and the static() route of the page serve the uploaded file.
    assert (got["media"]["status"], got["media"]["type"]) == (200, "image/png")
    assert got["media"]["length"] > 0


def test_each_request_is_one_json_log_line(answers):
    got, stderr, _ = answers
    lines = stderr.splitlines()
    records = [json.loads(line) for line in lines]  # every line is a JSON record
    assert len(records) == len(got)
    assert {record["path"] for record in records} >= {"/healthz", "/api/schema/", "/admin/login/"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_runserver_prints_each_request_once(answers, host):
    """runserver logs each request itself (``django.server``, 4xx as warnings): with the
    README's LOGGING a request is the one ibl.request line, 2xx and 4xx alike (a logger
    left without handlers printed 4xx a second time through Python's last resort)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=host.site, env=host.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        statuses = []
        for path in ("/healthz", "/api/no-such-thing/", "/api/catalog/suggestions/program/manage/"):
            for _ in range(100):  # the server takes a moment to listen
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as answer:
                        statuses.append(answer.status)
                    break
                except urllib.error.HTTPError as refused:
                    statuses.append(refused.code)
                    break
                except urllib.error.URLError:
                    time.sleep(0.1)
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert statuses == [200, 404, 401]
    records = [json.loads(line) for line in stderr.splitlines()]  # nothing but JSON lines
    assert [(record["path"], record["status"]) for record in records] == [
        ("/healthz", 200),
        ("/api/no-such-thing/", 404),
        ("/api/catalog/suggestions/program/manage/", 401),
    ]


def test_tasks_wait_in_the_database_queue_until_db_worker_runs_them(host, answers):
    """Step 5: with the page's TASKS, background work waits for ``db_worker``."""
    task_id = host("-c", TASK_SCRIPT, "enqueue").stdout.strip()
    assert host("-c", TASK_SCRIPT, "status", task_id).stdout.strip() == "READY"
    host("manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload")
    assert host("-c", TASK_SCRIPT, "status", task_id).stdout.strip() == "SUCCESSFUL"
