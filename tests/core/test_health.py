"""``/healthz`` (liveness) and ``/readyz`` (readiness): unauthenticated, cheap probes."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError, connections
from django.test import Client

from tests.support.live import ROOT, free_port, wait_for_port

pytestmark = pytest.mark.django_db


def test_liveness_is_ok_without_touching_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert "Set-Cookie" not in response  # no session, no CSRF cookie


def test_liveness_does_not_load_a_session_cookie(django_assert_num_queries, django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_user("visitor"))
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200


def test_liveness_needs_no_credentials_and_ignores_bad_ones():
    response = Client().get("/healthz", HTTP_AUTHORIZATION="Api-Token " + "0" * 64)
    assert response.status_code == 200


def test_readiness_runs_select_1_on_the_database(django_assert_num_queries):
    with django_assert_num_queries(1) as captured:
        response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert captured.captured_queries[0]["sql"] == "SELECT 1"


def test_readiness_is_503_when_the_database_is_unreachable(caplog):
    down = OperationalError('connection to server at "db.internal" failed: timeout')
    with mock.patch.object(connections["default"], "cursor", side_effect=down):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "databases": ["default"]}
    assert "db.internal" not in response.content.decode()  # details stay in the log
    assert "db.internal" in caplog.text


def test_readiness_is_503_when_a_query_fails():
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=down_error()):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def down_error() -> OperationalError:
    return OperationalError("server closed the connection unexpectedly")


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_head_and_refuse_writes(path):
    assert Client().head(path).status_code == 200
    assert Client(enforce_csrf_checks=True).post(path).status_code == 405


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_not_redirected_to_https(path, settings):
    # Load balancers often probe the instance over plain http.
    settings.SECURE_SSL_REDIRECT = True
    assert Client().get(path).status_code == 200
    assert Client().get("/admin/").status_code == 301


# Under gunicorn, with gunicorn.conf.py ---------------------------------------------


@pytest.fixture
def served(tmp_path):
    """The example project under ``gunicorn -c gunicorn.conf.py``, https redirect on."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}",
        "DJANGO_SECRET_KEY": "gunicorn-conf-test-secret-key-0123456789-abcdefghijklmnop",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "true",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_ACCESS_LOG": "-",  # off by default; on here, to check what it shows
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with open(tmp_path / "stdout", "wb") as stdout, open(tmp_path / "stderr", "wb") as stderr:
        process = subprocess.Popen(
            [str(gunicorn), "--config", "gunicorn.conf.py"],
            cwd=ROOT, env=env, stdout=stdout, stderr=stderr,
        )  # fmt: skip
    try:
        wait_for_port(port, process, (tmp_path / "stderr").read_text)
        yield port, tmp_path
    finally:
        process.terminate()
        process.wait(10)


def get(port: int, path: str, **headers: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.mark.live
def test_gunicorn_conf_serves_the_probes_and_trusts_the_local_proxy(served):
    port, tmp_path = served
    assert get(port, "/healthz").status == 200
    assert get(port, "/readyz?token=secret-value").status == 200
    api = "/api/catalog/suggestions/program/manage/"
    redirect = get(port, api)  # plain http, no proxy header: to https
    assert (redirect.status, redirect.getheader("Location")) == (
        301,
        f"https://127.0.0.1:{port}{api}",
    )
    # From a trusted address (loopback, by default), the proxy's header says https.
    assert get(port, api, **{"X-Forwarded-Proto": "https"}).status == 401

    time.sleep(0.5)  # let gunicorn flush its access log
    access_log = (tmp_path / "stdout").read_text()
    assert '"GET /healthz HTTP/1.1" 200' in access_log
    assert '"GET /readyz HTTP/1.1" 200' in access_log
    assert "secret-value" not in access_log
    assert "secret-value" not in (tmp_path / "stderr").read_text()
