"""Scale-out on one machine: the topology of a deployment that has outgrown one host.

Two app instances (gunicorn, separate processes on separate loopback addresses,
127.0.0.2 and 127.0.0.3), two RQ workers (``manage.py rqworker --with-scheduler``),
one Redis (cache, throttles, RQ's queue), PostgreSQL, and S3-compatible storage
(moto's server mode), all configured from the environment the way
``docs/production.md`` ("Scaling out") says. The test shows what a user notices when
requests of one client land on either instance:

* throttles are shared: a budget spent on A is spent on B;
* a revoke on A is seen at once on B's cached public paths;
* an image uploaded on A is served by B;
* each background job runs once: webhook deliveries and a bulk issue job, with two
  workers taking from one queue;
* counts stay exact after concurrent writes through both instances.

Skipped, with the reason, when Redis, PostgreSQL, a second loopback address or moto's
server (``moto[server]``) is missing. Redis database ``SCALE_REDIS_URL`` (default
``redis://127.0.0.1:6379/9``) is flushed; PostgreSQL database ``SCALE_DB_NAME``
(default ``ibl_scale_out``) is dropped and created.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from PIL import Image

from tests.support.live import ROOT, example_env, free_port
from tests.support.webhook_receiver import receiver

pytestmark = [pytest.mark.live, pytest.mark.slow]

REDIS_URL = os.environ.get("SCALE_REDIS_URL", "redis://127.0.0.1:6379/9")


def maintenance_url(url: str) -> str:
    """The ``postgres`` database of the server ``url`` names (it creates the topology's)."""
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


#: The PostgreSQL server: ``SCALE_POSTGRES_URL``, else the suite's when it runs on
#: PostgreSQL, else the local one.
POSTGRES_URL = maintenance_url(
    os.environ.get("SCALE_POSTGRES_URL")
    or (
        os.environ.get("DATABASE_URL", "")
        if "postgres" in os.environ.get("DATABASE_URL", "")
        else ""
    )
    or "postgres://postgres@127.0.0.1:5432/postgres"
)
DB_NAME = os.environ.get("SCALE_DB_NAME", "ibl_scale_out")
HOSTS = ("127.0.0.2", "127.0.0.3")
BUCKET = "ibl-scale-out"
PLATFORM = "demo"
#: Uploads per minute per API key: the shared budget the test spends on both instances.
UPLOADS_PER_MINUTE = 6


def missing_service() -> str | None:
    """Why the topology cannot start here, or None."""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as error:
        return f"no Redis answers at {REDIS_URL}: {error}"
    try:
        import psycopg

        psycopg.connect(POSTGRES_URL, connect_timeout=2).close()
    except Exception as error:
        return f"no PostgreSQL answers at {POSTGRES_URL}: {error}"
    try:
        from moto.server import ThreadedMotoServer  # noqa: F401  (needs moto[server])
    except Exception as error:
        return f"moto's server mode is unavailable (pip install 'moto[server]'): {error}"
    for host in HOSTS:
        try:
            with socket.socket() as sock:
                sock.bind((host, 0))
        except OSError as error:
            return f"cannot listen on loopback address {host}: {error}"
    return None


@dataclass
class Instance:
    """One app instance: its base URL, answering with ``key`` by default."""

    base_url: str
    key: str

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        key: str | None = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> tuple[int, dict[str, str], bytes]:
        all_headers = dict(headers or {})
        if auth:
            all_headers["Authorization"] = f"Api-Token {key or self.key}"
        if body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            self.base_url + path, data=data, method=method, headers=all_headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, method: str, path: str, body: object = None, **kwargs) -> tuple[int, object]:
        status, _, content = self.request(method, path, body, **kwargs)
        try:
            return status, json.loads(content)
        except ValueError:
            return status, content.decode(errors="replace")


@dataclass
class Topology:
    a: Instance
    b: Instance
    env: dict[str, str]
    keys: list[str]
    users: dict[str, int]
    logs: Path
    s3_endpoint: str
    workers: list[subprocess.Popen] = field(default_factory=list)

    def manage(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=180,
        ).stdout

    def shell(self, code: str) -> object:
        """Run ``code`` in ``manage.py shell`` on the topology's database; the JSON it
        prints last."""
        out = self.manage("shell", "--no-imports", "-c", code)
        return json.loads(out.strip().splitlines()[-1])


def postgres_database() -> str:
    import psycopg

    parts = urlsplit(POSTGRES_URL)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    return urlunsplit(parts._replace(path=f"/{DB_NAME}"))


def drop_postgres_database() -> None:
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "manage.py",
        "rqworker",
        "--with-scheduler",
        "default",
        "--skip-checks",
    ]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


SETUP = """
import json
from ibl_catalog.models import Course, Program
from ibl_core.models import Platform
platform = Platform.objects.get(key="demo")
Program.objects.bulk_create(
    [Program(platform=platform, program_key=f"program-v1:demo+p{i}+run", name=f"P{i}")
     for i in range(20)], ignore_conflicts=True)
Course.objects.bulk_create(
    [Course(platform=platform, course_id=f"course-v1:demo+scale{i}+run", name=f"C{i}")
     for i in range(20)], ignore_conflicts=True)
from django.contrib.auth import get_user_model
print(json.dumps({u.username: u.pk for u in get_user_model().objects.all()}))
"""


@pytest.fixture(scope="module")
def topology(tmp_path_factory) -> Iterator[Topology]:
    reason = missing_service()
    if reason:
        pytest.skip(reason)
    import boto3
    import redis
    from moto.server import ThreadedMotoServer

    tmp = tmp_path_factory.mktemp("scale-out")
    redis.Redis.from_url(REDIS_URL).flushdb()
    moto_port = free_port()
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    s3.start()
    endpoint = f"http://127.0.0.1:{moto_port}"
    credentials = {"aws_access_key_id": "scale-out-key", "aws_secret_access_key": "scale-out"}
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **credentials).create_bucket(
        Bucket=BUCKET
    )
    database_url = postgres_database()
    port = free_port()
    env = example_env(
        tmp,
        {
            "DATABASE_URL": database_url,
            "DATABASE_CONN_MAX_AGE": "60",
            "REDIS_URL": REDIS_URL,
            "REDIS_KEY_PREFIX": "scale-out",
            "TASKS_BACKEND": "rq",
            "IBL_STORAGE": "s3",
            "AWS_STORAGE_BUCKET_NAME": BUCKET,
            "AWS_S3_ENDPOINT_URL": endpoint,
            "AWS_S3_REGION_NAME": "us-east-1",
            "AWS_ACCESS_KEY_ID": credentials["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": credentials["aws_secret_access_key"],
            "DJANGO_ALLOWED_HOSTS": ",".join(HOSTS),
            "IBL_WEBHOOKS_ALLOW_PRIVATE": "true",
            "IBL_THROTTLE_RATES": f"uploads={UPLOADS_PER_MINUTE}/min",
            "IBL_OPEN_BADGES_BASE_URL": f"http://{HOSTS[0]}:{port}",
            "IBL_REQUEST_LOG_LEVEL": "WARNING",
        },
    )
    env.pop("DJANGO_SETTINGS_MODULE")
    env["DJANGO_SETTINGS_MODULE"] = "example_project.settings"
    processes: list[subprocess.Popen] = []
    topo = Topology(
        a=Instance(f"http://{HOSTS[0]}:{port}", ""),
        b=Instance(f"http://{HOSTS[1]}:{port}", ""),
        env=env,
        keys=[],
        users={},
        logs=tmp,
        s3_endpoint=endpoint,
    )
    try:
        topo.manage("migrate", "--noinput")
        for _ in range(2):  # each run prints a new platform-admin key
            demo = topo.manage("ibl_demo", "--skip-checks", "--base-url", topo.a.base_url)
            topo.keys.append(re.search(r"\b([0-9a-f]{64})\b", demo).group(1))
        topo.a.key = topo.b.key = topo.keys[0]
        topo.users = topo.shell(SETUP)
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        for host in HOSTS:
            log = (tmp / f"gunicorn-{host}.log").open("wb")
            processes.append(
                subprocess.Popen(
                    [
                        gunicorn,
                        "example_project.wsgi",
                        "--bind",
                        f"{host}:{port}",
                        "--workers",
                        "2",
                        "--log-level",
                        "warning",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        for i in range(2):
            worker = start_worker(env, tmp / f"rqworker-{i}.log")
            processes.append(worker)
            topo.workers.append(worker)
        for host, process in zip(HOSTS, processes, strict=False):
            wait_on(host, port, process)
        yield topo
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        s3.stop()
        drop_postgres_database()


def wait_on(host: str, port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn on {host}:{port} did not start") from None
            time.sleep(0.1)


def png(color: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def multipart(field_name: str, file_name: str, content: bytes) -> tuple[bytes, str]:
    boundary = "scale-out-boundary-7f3a"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field_name}"; '
            f'filename="{file_name}"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def upload(instance: Instance, content: bytes, key: str | None = None) -> tuple[int, object]:
    body, content_type = multipart("image", "badge.png", content)
    path = f"/api/credentials/orgs/{PLATFORM}/users/demo-admin/images/"
    return instance.json("POST", path, data=body, headers={"Content-Type": content_type}, key=key)


def until(check, timeout: float = 60, interval: float = 0.2):
    """Call ``check()`` until it returns something true; that value (fails on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout} s: {check.__doc__ or check}")
        time.sleep(interval)


def in_threads(function, calls: list[tuple]) -> None:
    """``function(*args)`` for every args of ``calls``, each in its own thread, all at
    once; the first failure of any is raised here."""
    failures: list[BaseException] = []

    def run(args: tuple) -> None:
        try:
            function(*args)
        except BaseException as failure:
            failures.append(failure)

    threads = [threading.Thread(target=run, args=(args,)) for args in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


# -- the checks ------------------------------------------------------------------------


def test_both_instances_answer_from_the_same_state(topology):
    for instance in (topology.a, topology.b):
        status, _, _ = instance.request("GET", "/readyz", auth=False)
        assert status == 200
    # Both workers run (and keep running).
    assert all(worker.poll() is None for worker in topology.workers)


def test_a_throttle_budget_spent_on_a_is_spent_on_b(topology):
    key = topology.keys[1]  # an API key of its own: a budget no other check spends
    answers = []
    for i in range(UPLOADS_PER_MINUTE):
        instance = topology.a if i % 2 == 0 else topology.b
        status, _ = upload(instance, png((i, 10, 10)), key=key)
        answers.append(status)
    assert answers == [201] * UPLOADS_PER_MINUTE
    # The budget is spent, on both instances and every worker of each.
    for instance in (topology.a, topology.b, topology.a, topology.b):
        status, headers, body = instance.request(
            "POST",
            f"/api/credentials/orgs/{PLATFORM}/users/demo-admin/images/",
            data=multipart("image", "x.png", png((1, 2, 3)))[0],
            headers={"Content-Type": multipart("image", "x.png", b"")[1]},
            key=key,
        )
        assert status == 429, body
        assert int(headers["Retry-After"]) > 0


def create_credential(topology, icon_url: str, name: str) -> str:
    a = topology.a
    base = f"/api/credentials/orgs/{PLATFORM}/users/demo-admin/"
    status, issuer = a.json("POST", base + "issuers/", {"name": f"{name} Academy"})
    assert status == 201, issuer
    issuer_id = issuer["result"]["entityId"]
    body = {"name": name, "issuer": issuer_id, "iconImage": icon_url}
    status, credential = a.json("POST", base, body)
    assert status == 201, credential
    return credential["result"]["entityId"]


def issue(instance: Instance, credential_id: str, username: str) -> str:
    path = f"/api/credentials/orgs/{PLATFORM}/users/demo-admin/{credential_id}/assertions/"
    status, answer = instance.json("POST", path, {"recipient": {"identity": username}})
    assert status == 201, answer
    return answer["entityId"] if "entityId" in answer else answer["result"]["entityId"]


def object_address(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def test_an_image_uploaded_on_a_is_served_by_b(topology):
    content = png((200, 40, 90), (64, 48))
    status, image = upload(topology.a, content)
    assert status == 201, image
    # B lists it, and its URL (the bucket's) serves the bytes A stored.
    status, listed = topology.b.json(
        "GET", f"/api/credentials/orgs/{PLATFORM}/users/demo-admin/images/?query=badge"
    )
    assert status == 200, listed
    # The bucket's URLs are presigned: signature and expiry move with the clock, so the
    # same object is recognised by its address without the query string.
    assert object_address(image["image"]) in [object_address(item["image"]) for item in listed]
    assert image["image"].startswith(topology.s3_endpoint + f"/{BUCKET}/")
    with urllib.request.urlopen(image["image"], timeout=10) as response:
        stored = response.read()
    assert Image.open(io.BytesIO(stored)).size == (64, 48)
    # A credential made on A with that icon: B bakes its badge from the bucket.
    credential_id = create_credential(topology, image["image"], "Uploaded icon")
    status, headers, badge = topology.b.request(
        "GET", f"/ob/v2/badges/{credential_id}/image", auth=False
    )
    assert status == 200
    assert headers["Content-Type"] == "image/png"
    baked = Image.open(io.BytesIO(badge)).convert("RGB")
    width, height = baked.size
    assert baked.getpixel((width // 2, height // 2)) == (200, 40, 90)


def test_a_revoke_on_a_is_seen_at_once_on_b_cached_public_paths(topology):
    status, image = upload(topology.a, png((10, 120, 200)))
    assert status == 201
    credential_id = create_credential(topology, image["image"], "Revocable")
    assertion_id = issue(topology.a, credential_id, "learner1")
    paths = [f"/ob/v2/assertions/{assertion_id}", f"/ob/v2/assertions/{assertion_id}/image"]
    etags = {}
    for name, instance in (("a", topology.a), ("b", topology.b), ("b", topology.b)):
        for path in paths:  # B twice: its cache is warm
            status, headers, body = instance.request("GET", path, auth=False)
            assert status == 200, (path, body[:200])
            etags[name, path] = headers.get("ETag")
    warm = {path: etags["a", path] for path in paths}
    assert all(etags["b", path] == warm[path] for path in paths)  # one artifact, one ETag
    status, document = topology.b.json("GET", paths[0], auth=False)
    assert document.get("revoked", False) is False
    # Before the revoke, revalidating on B with the ETag A's answer carried is a 304.
    assert warm[paths[0]]
    status, _, _ = topology.b.request(
        "GET", paths[0], auth=False, headers={"If-None-Match": warm[paths[0]]}
    )
    assert status == 304

    detail = f"/api/credentials/orgs/{PLATFORM}/users/demo-admin/assertions/{assertion_id}"
    status, answer = topology.a.json("PUT", detail, {"revoked": True, "revocationReason": "Oops"})
    assert status == 200, answer

    # At once, with no wait: B's next answers say revoked (410, as Open Badges 2.0 asks).
    status, headers, body = topology.b.request("GET", paths[0], auth=False)
    document = json.loads(body)
    assert (status, document["revoked"], document["revocationReason"]) == (410, True, "Oops")
    # A client (or CDN) revalidating with the old ETag gets the revocation, not a 304.
    status, _, body = topology.b.request(
        "GET", paths[0], auth=False, headers={"If-None-Match": warm[paths[0]]}
    )
    assert (status, json.loads(body)["revoked"]) == (410, True)
    status, _, body = topology.b.request("GET", paths[1], auth=False)
    assert status == 410, body[:200]
    status, public = topology.b.json(
        "GET", f"/api/credentials/public/assertions/{assertion_id}/", auth=False
    )
    assert status == 404, public


def test_every_webhook_is_delivered_once_by_two_workers(topology):
    with receiver() as hooks:
        status, endpoint = topology.a.json(
            "POST", f"/api/core/orgs/{PLATFORM}/webhooks/", {"url": hooks.url, "events": []}
        )
        assert status == 201, endpoint
        writes = 40
        learner = topology.users["learner2"]

        def write(i: int) -> None:
            instance = topology.a if i % 2 == 0 else topology.b
            status, answer = instance.json(
                "POST",
                "/api/catalog/suggestions/program/manage/",
                {
                    "platform_key": PLATFORM,
                    "user_id": learner,
                    "program_key": f"program-v1:demo+p{i % 20}+run",
                    "metadata": {"write": i},
                },
            )
            assert status in (200, 201), answer

        in_threads(write, [(i,) for i in range(writes)])

        def delivered() -> bool:
            """every write's event delivered"""
            return len(hooks.requests) >= writes

        until(delivered, timeout=90)
        time.sleep(3)  # a duplicate would arrive now
        ids = [
            {name.lower(): value for name, value in request.headers.items()}["webhook-id"]
            for request in hooks.requests
        ]
        assert len(ids) == writes
        assert len(set(ids)) == writes
        status, deliveries = topology.b.json(
            "GET",
            f"/api/core/orgs/{PLATFORM}/webhooks/{endpoint['id']}/deliveries/?limit=100",
        )
        assert status == 200
        assert sorted(row["message_id"] for row in deliveries) == sorted(ids)
        assert {(row["status"], row["attempts"]) for row in deliveries} == {("succeeded", 1)}


def test_a_bulk_issue_job_runs_once(topology):
    status, image = upload(topology.a, png((30, 30, 30)))
    assert status == 201
    credential_id = create_credential(topology, image["image"], "Bulk job")
    usernames = ["learner1", "learner2", "learner3", "dept-admin"]
    path = f"/api/credentials/orgs/{PLATFORM}/users/demo-admin/{credential_id}/assertions/bulk/"
    status, job = topology.b.json(
        "POST", path, {"users": usernames}, headers={"Prefer": "respond-async"}
    )
    assert status == 202, job
    job_id = job["id"]

    def finished():
        """the job finished"""
        _, answer = topology.a.json("GET", f"{path}{job_id}")
        return answer if answer.get("status") in ("succeeded", "failed") else None

    answer = until(finished, timeout=90)
    assert answer["status"] == "succeeded", answer
    counted = topology.shell(
        "import json; from ibl_credentials.models import Assertion; "
        f"print(json.dumps(Assertion.objects.filter(credential__entity_id={credential_id!r})"
        ".count()))"
    )
    assert counted == len(usernames)


def test_counts_stay_exact_after_concurrent_writes_through_both_instances(topology):
    users = [topology.users[name] for name in ("learner1", "learner3", "dept-admin")]
    path = "/api/catalog/suggestions/course/manage/"
    created = []
    lock = threading.Lock()

    def write(i: int) -> None:
        instance = topology.a if i % 2 == 0 else topology.b
        body = {
            "platform_key": PLATFORM,
            "user_id": users[i % 3],
            "course_id": f"course-v1:demo+scale{i // 3}+run",
        }
        status, answer = instance.json("POST", path, body)
        assert status in (200, 201), answer
        with lock:
            created.append(answer["id"])

    in_threads(write, [(i,) for i in range(60)])
    assert len(set(created)) == 60
    # Half deleted, again through both instances at once.
    doomed = sorted(created)[::2]

    def delete(i: int, suggestion_id: int) -> None:
        instance = topology.a if i % 2 == 0 else topology.b
        status, _, body = instance.request(
            "DELETE", f"{path}?platform_key={PLATFORM}&suggestion_id={suggestion_id}"
        )
        assert status in (200, 204), body

    in_threads(delete, list(enumerate(doomed)))
    in_database = topology.shell(
        "import json; from ibl_catalog.models import CourseSuggestion; "
        "print(json.dumps(CourseSuggestion.objects.filter(platform__key='demo').count()))"
    )
    assert in_database == 30
    for instance in (topology.a, topology.b):
        status, page = instance.json("GET", f"{path}?platform_key={PLATFORM}")
        assert (status, page["count"]) == (200, 30)
