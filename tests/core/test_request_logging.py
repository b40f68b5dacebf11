"""``RequestLogMiddleware``: one JSON line per request on ``ibl.request``, no secrets."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from ibl_core.ops.middleware import REDACTED, redacted_query
from tests.support.catalog_helpers import MANAGE

pytestmark = pytest.mark.django_db
MIDDLEWARE_PATH = "ibl_core.ops.middleware.RequestLogMiddleware"


def request_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "ibl.request"]


def everything_logged(caplog) -> str:
    """The captured output, every record's message, and all of our records' fields."""
    return "\n".join(
        [caplog.text]
        + [record.getMessage() for record in caplog.records]
        + [repr(record.__dict__) for record in caplog.records if record.name == "ibl.request"]
    )


def test_the_middleware_is_installed_first(settings):
    assert settings.MIDDLEWARE[0] == MIDDLEWARE_PATH


def test_a_request_is_logged_without_its_api_key(world, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, every level
    key = world.keys["platform_admin_p1"]
    query = {"platform_key": "p1", "api_key": key, "token": key, "search": key, "page": "1"}
    response = world.client("platform_admin_p1").get(MANAGE, query, HTTP_COOKIE=f"sessionid={key}")
    assert response.status_code == 200

    logged = everything_logged(caplog)
    assert key not in logged
    assert key[:12] not in logged  # not even the stored prefix
    [line] = request_lines(caplog)
    assert line["method"] == "GET"
    assert line["path"] == MANAGE
    assert line["status"] == 200
    assert line["user_id"] == world.users["platform_admin_p1"].pk
    assert line["platform"] == "p1"
    assert line["remote_addr"] == "127.0.0.1"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["query"] == (
        f"platform_key=p1&api_key={REDACTED}&token={REDACTED}&search={REDACTED}&page=1"
    )
    assert {"method": "GET", "path": MANAGE, "status": 200}.items() <= line.items()


def test_a_refused_key_is_not_logged_either(world, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "f" * 64
    response = Client().get(
        MANAGE, {"platform_key": "p1", "key": wrong}, HTTP_AUTHORIZATION=f"Api-Token {wrong}"
    )
    assert response.status_code == 401
    assert wrong not in everything_logged(caplog)
    [line] = request_lines(caplog)
    assert (line["status"], line["user_id"], line["platform"]) == (401, None, None)


def test_a_session_user_is_logged_once_resolved(world, caplog, django_user_model):
    caplog.set_level(logging.INFO, logger="ibl.request")
    client = Client()
    client.force_login(world.users["platform_admin_p1"])
    session_id = client.cookies["sessionid"].value
    assert client.get(MANAGE, {"platform_key": "p1"}).status_code == 200
    assert client.get("/healthz").status_code == 200  # never reads the session
    api, health = request_lines(caplog)
    assert (api["user_id"], api["platform"]) == (world.users["platform_admin_p1"].pk, None)
    assert health["user_id"] is None
    assert session_id not in everything_logged(caplog)


def test_the_middleware_adds_no_query(world):
    client = world.client("platform_admin_p1")
    client.get(MANAGE, {"platform_key": "p1"})  # the key's last_used is written once, here

    def queries(middleware: list[str]) -> list[str]:
        with override_settings(MIDDLEWARE=middleware), CaptureQueriesContext(connection) as ctx:
            assert client.get(MANAGE, {"platform_key": "p1"}).status_code == 200
        return [query["sql"] for query in ctx.captured_queries]

    with_log = queries(list(settings_middleware()))
    without_log = queries([m for m in settings_middleware() if m != MIDDLEWARE_PATH])
    assert with_log == without_log


def settings_middleware() -> list[str]:
    from django.conf import settings

    return list(settings.MIDDLEWARE)


def test_the_level_is_configured_for_the_console():
    assert logging.getLogger("ibl.request").getEffectiveLevel() <= logging.INFO


@pytest.mark.parametrize(
    ("query", "logged"),
    [
        ("", ""),
        ("q=acme&page=2", "q=acme&page=2"),
        ("platform_key=p1&program_key=prog", "platform_key=p1&program_key=prog"),
        ("key=abc&x-api-key=abc&apiKey=abc", f"key={REDACTED}&x-api-key={REDACTED}&"
                                             f"apiKey={REDACTED}"),
        ("sessionid=abc&csrftoken=abc&code=abc", f"sessionid={REDACTED}&csrftoken={REDACTED}&"
                                                 f"code={REDACTED}"),
        ("API_KEY=abc&Access-Token=abc", f"API_KEY={REDACTED}&Access-Token={REDACTED}"),
        ("password=hunter2&client_secret=x", f"password={REDACTED}&client_secret={REDACTED}"),
        ("X-Amz-Signature=abc&X-Amz-Credential=abc", f"X-Amz-Signature={REDACTED}&"
                                                    f"X-Amz-Credential={REDACTED}"),
        ("q=" + "0a" * 32, f"q={REDACTED}"),  # an API key under an innocent name
        ("name=caf%C3%A9+bar", "name=caf%C3%A9+bar"),
    ],
)  # fmt: skip
def test_sensitive_query_values_are_redacted(query, logged):
    assert redacted_query(query) == logged


def test_a_forged_path_stays_on_one_json_line(world, caplog):
    caplog.set_level(logging.INFO, logger="ibl.request")
    assert Client().get("/nope%0aFORGED%1b[31m%c2%85").status_code == 404
    [record] = [r for r in caplog.records if r.name == "ibl.request"]
    line = record.getMessage()
    assert "\n" not in line and "\x1b" not in line and "\x85" not in line
    assert json.loads(line)["path"] == "/nope\nFORGED\x1b[31m\x85"


def test_console_messages_escape_control_characters(settings):
    from ibl_core.ops.log import SingleLineFormatter

    handler = settings.LOGGING["handlers"]["console"]
    assert settings.LOGGING["formatters"][handler["formatter"]]["()"] == (
        "ibl_core.ops.log.SingleLineFormatter"
    )
    formatter = SingleLineFormatter("%(levelname)s %(message)s")
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "bad %s", ("a\nb\r\tc\x9bd\u2028e",), None
    )
    assert formatter.format(record) == "WARNING bad a\\x0ab\\x0d\\x09c\\x9bd\\u2028e"
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    lines = formatter.format(record).splitlines()
    assert lines[0] == "WARNING bad a\\x0ab\\x0d\\x09c\\x9bd\\u2028e"
    assert lines[1] == "Traceback (most recent call last):"  # tracebacks keep their lines


def test_django_does_not_add_a_second_line_for_a_4xx(world, caplog):
    caplog.set_level(logging.DEBUG)  # the root: every logger that lets a record through
    assert Client().get("/nope").status_code == 404
    assert world.client("anonymous").get(MANAGE).status_code == 401
    names = [r.name for r in caplog.records if r.levelno >= logging.INFO]
    assert names == ["ibl.request", "ibl.request"]  # no "Not Found:" / "Unauthorized:"
