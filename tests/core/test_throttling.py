"""Throttling per caller and scope (429 with Retry-After), and the admin login lockout.

The throttles' clock is replaced by :class:`Clock`, so every ``Retry-After`` is exact
and a window passes without waiting.
"""

from __future__ import annotations

import logging
import socket
import uuid

import pytest
from django.core.cache.backends.base import BaseCache
from django.core.checks import run_checks
from rest_framework.test import APIClient

from ibl_core.conf import DEFAULTS, parse_rate, throttle_rates
from ibl_core.models import APIKey
from ibl_core.ops.throttling import ScopedApiThrottle, client_ip
from tests.support.catalog_helpers import BULK, MANAGE
from tests.support.credentials_factories import png_bytes, upload
from tests.support.factories import UserFactory, issue_key

pytestmark = pytest.mark.django_db

SCOPES = ("reads", "writes", "bulk", "uploads")
UNLIMITED = dict.fromkeys(SCOPES, "100000/hour")
ISSUERS = "/api/credentials/orgs/p1/users/platform_admin_p1/issuers/"


class Clock:
    """The throttles' timer: a time that moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(ScopedApiThrottle, "timer", fake)
    return fake


@pytest.fixture
def rates(settings):
    """``rates(bulk="2/min")``: those scopes limited, the others out of the way."""

    def set_rates(**scopes: str | None) -> None:
        settings.IBL_DATA_MANAGER = {"THROTTLE_RATES": {**UNLIMITED, **scopes}}

    return set_rates


def admin_client(world, key: str | None = None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Token {key or world.keys['platform_admin_p1']}")
    return client


# One request of each scope, as the platform admin of p1, and the status it gets when
# it is not throttled.
def read(client):
    return client.get(MANAGE, {"platform_key": "p1"})


def write(client):
    return client.delete(f"{MANAGE}?platform_key=p1&suggestion_id=999999")


def bulk(client):
    row = {"user_id": 999999, "program_key": "program-v1:none+none+none"}  # a row error
    return client.post(BULK, {"platform_key": "p1", "suggestion_data": [row]}, format="json")


def upload_image(client):
    url = "/api/credentials/orgs/p1/users/platform_admin_p1/images/"
    return client.post(url, {"image": upload(png_bytes())}, format="multipart")


REQUESTS = {"reads": (read, 200), "writes": (write, 404), "bulk": (bulk, 200)}
REQUESTS["uploads"] = (upload_image, 201)


def throttled_body(scope: str, seconds: int) -> dict:
    unit = "second" if seconds == 1 else "seconds"
    return {
        "detail": f"Too many requests ({scope}): retry in {seconds} {unit}.",
        "retry_after": seconds,
        "scope": scope,
    }


# The 429 ------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", SCOPES)
def test_the_request_past_the_limit_is_429_with_retry_after(world, rates, clock, scope):
    rates(**{scope: "3/min"})
    send, ok = REQUESTS[scope]
    client = admin_client(world)
    assert [send(client).status_code for _ in range(3)] == [ok] * 3

    throttled = send(client)
    assert throttled.status_code == 429
    assert throttled["Retry-After"] == "60"
    assert throttled.json() == throttled_body(scope, 60)

    clock.now += 45
    later = send(client)
    assert (later.status_code, later["Retry-After"]) == (429, "15")
    assert later.json() == throttled_body(scope, 15)

    clock.now += 15  # the three requests leave the one-minute window
    assert send(client).status_code == ok


def test_the_window_slides(world, rates, clock):
    rates(reads="2/min")
    client = admin_client(world)
    assert read(client).status_code == 200
    clock.now += 50
    assert read(client).status_code == 200
    clock.now += 5
    assert read(client)["Retry-After"] == "5"  # the first leaves the window at +60
    clock.now += 5
    assert read(client).status_code == 200
    clock.now += 1
    assert read(client)["Retry-After"] == "49"  # then the one sent at +50, at +110


def test_retry_after_is_exact_when_the_rate_was_lowered(world, rates, clock):
    rates(reads="10/min")
    client = admin_client(world)
    for _ in range(5):
        assert read(client).status_code == 200
        clock.now += 1  # sent at +0 .. +4
    clock.now = 1_000_000.0 + 10
    rates(reads="2/min")
    # Five requests in the window, two allowed: one passes once a single one is left,
    # when the one sent at +3 leaves the window, at +63.
    response = read(client)
    assert (response.status_code, response["Retry-After"]) == (429, "53")


def test_a_throttled_request_is_refused_before_its_body_is_read(world, rates, clock):
    rates(bulk="1/min", uploads="1/min")
    client = admin_client(world)
    garbage = {"data": b"{not json", "content_type": "application/json"}
    assert client.post(BULK, **garbage).status_code == 400
    assert client.post(BULK, **garbage).status_code == 429
    images = "/api/credentials/orgs/p1/users/platform_admin_p1/images/"
    assert client.post(images, data=b"junk", content_type="text/plain").status_code == 415
    assert client.post(images, data=b"junk", content_type="text/plain").status_code == 429


def test_the_credentials_envelope_carries_the_429(world, rates, clock):
    rates(reads="1/min")
    client = admin_client(world)
    assert client.get(ISSUERS).status_code == 200
    response = client.get(ISSUERS)
    assert (response.status_code, response["Retry-After"]) == (429, "60")
    body = throttled_body("reads", 60)
    assert response.json() == {
        "status": {"success": False, "description": body["detail"]},
        "result": body,
    }


# Who is counted, and in which scope ---------------------------------------------------


def test_keys_users_and_addresses_are_counted_apart(world, rates, clock, client):
    rates(reads="2/min")
    admin = world.users["platform_admin_p1"]
    first = admin_client(world)
    assert [read(first).status_code for _ in range(3)] == [200, 200, 429]
    # Another key of the same user has its own budget...
    second = admin_client(world, issue_key(admin, world.p1))
    assert [read(second).status_code for _ in range(3)] == [200, 200, 429]
    # ... and so has the same user logged in with a session, and another user.
    client.force_login(admin)
    assert [client.get(MANAGE, {"platform_key": "p1"}).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    other = admin_client(world, world.keys["dm_admin"])
    assert read(other).status_code == 200


def test_anonymous_callers_are_counted_by_address(world, rates, clock):
    rates(reads="2/min")
    client = APIClient()

    def get(address: str, **headers):
        return client.get(MANAGE, {"platform_key": "p1"}, REMOTE_ADDR=address, **headers)

    assert [get("203.0.113.7").status_code for _ in range(3)] == [401, 401, 429]
    # A forged X-Forwarded-For is not a new caller: no proxy is trusted by default.
    assert get("203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    assert get("203.0.113.8").status_code == 401


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_caller(world, rates, clock, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    rates(reads="1/min")
    client = APIClient()

    def get(forwarded: str):
        return client.get(
            MANAGE, {"platform_key": "p1"}, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded
        )

    assert get("203.0.113.7").status_code == 401
    assert get("203.0.113.7").status_code == 429
    # What the client itself wrote comes first, and is not read.
    assert get("198.51.100.1, 203.0.113.7").status_code == 429
    assert get("203.0.113.8").status_code == 401


@pytest.mark.parametrize(
    ("num_proxies", "remote_addr", "forwarded", "expected"),
    [
        (None, "10.0.0.2", None, "10.0.0.2"),
        (None, "10.0.0.2", "203.0.113.7", "10.0.0.2"),  # not trusted
        (0, "10.0.0.2", "203.0.113.7", "10.0.0.2"),
        (1, "10.0.0.2", None, "10.0.0.2"),
        (1, "10.0.0.2", "203.0.113.7", "203.0.113.7"),
        (1, "10.0.0.2", "1.2.3.4, 203.0.113.7", "203.0.113.7"),  # the forged one is first
        (2, "10.0.0.2", "1.2.3.4, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (3, "10.0.0.2", "203.0.113.7", "203.0.113.7"),  # fewer entries than proxies
        (1, "10.0.0.2", " 2001:db8::1 ", "2001:db8::1"),
        (1, "10.0.0.2", "not-an-address", "10.0.0.2"),
        (1, "10.0.0.2", "1.2.3.4,", "10.0.0.2"),
    ],
)
def test_client_ip(rf, settings, num_proxies, remote_addr, forwarded, expected):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    request = rf.get("/", REMOTE_ADDR=remote_addr, **headers)
    assert client_ip(request) == expected


def test_scopes_are_counted_apart(world, rates, clock):
    rates(reads="2/min", writes="1/min", bulk="1/min", uploads="1/min")
    client = admin_client(world)
    assert [bulk(client).status_code for _ in range(2)] == [200, 429]
    # The exhausted bulk budget eats neither reads, nor single writes, nor uploads.
    assert [read(client).status_code for _ in range(3)] == [200, 200, 429]
    assert [write(client).status_code for _ in range(2)] == [404, 429]
    assert [upload_image(client).status_code for _ in range(2)] == [201, 429]


def test_a_scope_set_to_none_is_never_throttled(world, rates, clock):
    rates(reads=None, writes="1/min", bulk="1/min", uploads="1/min")
    client = admin_client(world)
    assert {read(client).status_code for _ in range(30)} == {200}
    assert [write(client).status_code for _ in range(2)] == [404, 429]


def test_a_partial_setting_keeps_the_other_defaults(settings):
    settings.IBL_DATA_MANAGER = {"THROTTLE_RATES": {"bulk": "5/min", "uploads": None}}
    assert throttle_rates() == {
        **DEFAULTS["THROTTLE_RATES"],
        "bulk": "5/min",
        "uploads": None,
    }


def test_the_default_rates():
    # docs/production.md ("Throttling") explains these numbers: change both together.
    assert DEFAULTS["THROTTLE_RATES"] == {
        "reads": "1200/min",
        "writes": "300/min",
        "bulk": "30/min",
        "uploads": "60/min",
    }
    assert DEFAULTS["THROTTLE_CACHE"] == "default"


# Settings and checks ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [
        ("60/min", (60, 60)),
        ("1/s", (1, 1)),
        ("10/second", (10, 1)),
        ("5/minute", (5, 60)),
        ("100/h", (100, 3600)),
        ("1000/day", (1000, 86400)),
        (" 7 / hour ", (7, 3600)),
    ],
)
def test_parse_rate(rate, parsed):
    assert parse_rate(rate) == parsed


def ibl_errors() -> list[str]:
    return [error.msg for error in run_checks() if error.id == "ibl_core.E001"]


@pytest.mark.parametrize(
    ("throttle_settings", "fragment"),
    [
        ({"THROTTLE_RATES": {"reads": "10/fortnight"}}, "THROTTLE_RATES['reads']: '10/fortnight'"),
        ({"THROTTLE_RATES": {"bulk": "0/min"}}, "THROTTLE_RATES['bulk']: '0/min' is not a rate"),
        ({"THROTTLE_RATES": {"writes": "ten/min"}}, "THROTTLE_RATES['writes']"),
        ({"THROTTLE_RATES": {"writes": "10"}}, "THROTTLE_RATES['writes']"),
        ({"THROTTLE_RATES": {"uploads": 60}}, "THROTTLE_RATES['uploads']: 60 is not a rate"),
        ({"THROTTLE_RATES": {"upload": "1/min"}}, "unknown scope 'upload'"),
        ({"THROTTLE_RATES": ["60/min"]}, "THROTTLE_RATES must be a dict"),
        ({"THROTTLE_CACHE": "nope"}, "THROTTLE_CACHE must name one of CACHES ['default']"),
    ],
)
def test_the_system_check_rejects_bad_throttle_settings(settings, throttle_settings, fragment):
    settings.IBL_DATA_MANAGER = throttle_settings
    assert any(fragment in message for message in ibl_errors()), ibl_errors()


def test_the_system_check_accepts_good_throttle_settings(settings):
    settings.IBL_DATA_MANAGER = {
        "THROTTLE_RATES": {"reads": "5/s", "writes": None, "bulk": "2/hour", "uploads": "9/d"},
        "THROTTLE_CACHE": "default",
    }
    assert ibl_errors() == []


def deploy_warnings() -> list:
    return [e for e in run_checks(include_deployment_checks=True) if e.id == "ibl_core.W001"]


@pytest.mark.slow
def test_the_deploy_check_warns_when_the_workers_do_not_share_the_counts(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    [warning] = deploy_warnings()
    assert "per process (LocMemCache)" in warning.msg
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    [warning] = deploy_warnings()
    assert "no request is ever throttled" in warning.msg
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "x"},
    }
    settings.IBL_DATA_MANAGER = {"THROTTLE_CACHE": "shared"}
    assert deploy_warnings() == []
    settings.IBL_DATA_MANAGER = {"THROTTLE_RATES": dict.fromkeys(SCOPES)}  # all off
    assert deploy_warnings() == []


class BrokenCache(BaseCache):
    """A cache whose server does not answer."""

    def __init__(self, location, params):
        super().__init__(params)

    def get(self, key, default=None, version=None):
        raise ConnectionError("Connection refused")

    def set(self, key, value, timeout=None, version=None):
        raise ConnectionError("Connection refused")


def test_an_unreachable_cache_lets_requests_through(world, rates, settings, caplog):
    settings.CACHES = {
        **settings.CACHES,
        "broken": {"BACKEND": "tests.core.test_throttling.BrokenCache"},
    }
    rates(reads="1/min")
    settings.IBL_DATA_MANAGER = {**settings.IBL_DATA_MANAGER, "THROTTLE_CACHE": "broken"}
    client = admin_client(world)
    with caplog.at_level(logging.WARNING, logger="ibl.throttling"):
        assert [read(client).status_code for _ in range(3)] == [200] * 3
    assert caplog.messages[0] == (
        "Throttle cache 'broken' failed (ConnectionError: Connection refused): "
        "request not throttled."
    )


# A cache that every worker shares ----------------------------------------------------


def redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


needs_redis = pytest.mark.skipif(
    not redis_answers(), reason="Redis does not answer on 127.0.0.1:6379"
)
REDIS_URL = "redis://127.0.0.1:6379/0"


def delete_redis_keys(prefix: str) -> None:
    """Remove what a test wrote, and only that (the server may be shared)."""
    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    try:
        for key in connection.scan_iter(match=f"{prefix}:*"):
            connection.delete(key)
    finally:
        connection.close()


@needs_redis
def test_the_counts_live_in_redis(world, rates, clock, settings):
    prefix = f"ibl-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        },
    }
    rates(bulk="2/min")
    settings.IBL_DATA_MANAGER = {**settings.IBL_DATA_MANAGER, "THROTTLE_CACHE": "shared"}
    from django.core.cache import caches

    try:
        client = admin_client(world)
        assert [bulk(client).status_code for _ in range(3)] == [200, 200, 429]
        key = APIKey.objects.get(user=world.users["platform_admin_p1"])
        stored = caches["shared"].get(f"ibl_throttle:bulk:key:{key.pk}")
        assert stored == [clock.now, clock.now]
    finally:
        delete_redis_keys(prefix)


@pytest.mark.live
@needs_redis
def test_gunicorn_workers_share_the_counts_through_redis(tmp_path):
    from tests.support.live import start

    prefix = f"ibl-test-{uuid.uuid4().hex}"
    env = {
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": prefix,
        "IBL_THROTTLE_RATES": "reads=5/min",
    }
    server_gen = start(tmp_path, workers=3, extra_env=env)
    server = next(server_gen)
    try:
        statuses = [server.request("GET", MANAGE + "?platform_key=demo")[0] for _ in range(12)]
        # Three processes, one budget: five pass, whichever worker answers.
        assert statuses == [200] * 5 + [429] * 7
    finally:
        server_gen.close()
        delete_redis_keys(prefix)


# The admin login ---------------------------------------------------------------------

LOGIN = "/admin/login/"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff_user(db):
    user = UserFactory(username="staff", is_staff=True, is_superuser=True)
    user.set_password(PASSWORD)
    user.save()
    return user


def login(client, username: str, password: str, address: str = "198.51.100.20"):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address
    )


def test_the_admin_login_locks_an_address_out_after_five_failures(client, staff_user):
    assert [login(client, "staff", "guess").status_code for _ in range(4)] == [200] * 4
    locked = login(client, "staff", "guess")
    assert (locked.status_code, locked["Retry-After"]) == (429, "900")
    assert "Try again in 15 minutes." in locked.content.decode()
    # Even the right password is refused now, with the same answer.
    right = login(client, "staff", PASSWORD)
    assert (right.status_code, right.content) == (429, locked.content)
    assert "_auth_user_id" not in client.session
    # Another address is not locked out.
    assert login(client, "staff", PASSWORD, address="198.51.100.21").status_code == 302


def test_a_successful_login_resets_the_count(client, staff_user):
    for _ in range(4):
        assert login(client, "staff", "guess").status_code == 200
    assert login(client, "staff", PASSWORD).status_code == 302
    client.logout()
    assert [login(client, "staff", "guess").status_code for _ in range(4)] == [200] * 4


def test_the_lockout_does_not_tell_whether_the_username_exists(staff_user):
    def attempts(username: str, address: str) -> list[tuple[int, bytes]]:
        client = APIClient(enforce_csrf_checks=False)
        answers = [login(client, username, "guess", address) for _ in range(6)]
        return [(answer.status_code, answer.content) for answer in answers[4:]]

    existing = attempts("staff", "198.51.100.30")
    unknown = attempts("nobody-has-this-name", "198.51.100.31")
    assert [status for status, _ in existing] == [429, 429]
    assert existing == unknown
    assert b"staff" not in existing[0][1]
