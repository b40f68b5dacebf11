"""API paths answer JSON errors (404, 405, 500), with DEBUG off; no write is redirected.

Django answers unknown URLs and unhandled exceptions with HTML pages, and
``CommonMiddleware`` redirects a URL without its trailing slash with a 301, which
turns a POST into a GET. Under ``/api/`` the answers are JSON, and the URL without
its slash is a 404 that names the right URL, whatever the method.
"""

from __future__ import annotations

import pytest
from django.test import Client

from ibl_catalog.models import ProgramSuggestion
from ibl_credentials.models import Issuer
from tests.support.factories import ProgramFactory

pytestmark = pytest.mark.django_db

JSON = "application/json"
MANAGE = "/api/catalog/suggestions/program/manage/"


@pytest.fixture(autouse=True)
def debug_off(settings):
    settings.DEBUG = False


def assert_json_error(response, status: int, detail: str) -> None:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == JSON
    assert response.json() == {"detail": detail}


@pytest.mark.parametrize(
    "path",
    [
        "/api/",
        "/api/nope/",
        "/api/nope",
        "/api/catalog/",
        "/api/catalog/suggestions/video/manage/",
        "/api/credentials/orgs/p1/users/1/badges/extra/",
        "/api/schema/extra/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_unknown_api_paths_are_json_404(path, method):
    assert_json_error(getattr(Client(), method)(path), 404, "Not found.")


def test_paths_outside_the_api_keep_django_pages():
    response = Client().get("/nope/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "get", "head"])
@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/catalog/suggestions/program/manage", "?platform_key=p1"),
        ("/api/catalog/suggestions/program/manage/bulk", ""),
        ("/api/credentials/orgs/p1/users/dm_admin/issuers", ""),
        ("/api/credentials/orgs/p1/users/dm_admin/images", "?query=a"),
    ],
)
def test_an_api_url_without_its_slash_is_a_404_naming_the_right_url(world, method, path, query):
    client = world.client("dm_admin")
    program = ProgramFactory(platform=world.p1)
    body = {
        "platform_key": "p1", "user_id": world.users["learner_p1"].pk,
        "program_key": program.program_key, "name": "Acme",
        "suggestion_data": [{"user_id": world.users["learner_p1"].pk,
                             "program_key": program.program_key}],
    }  # fmt: skip
    if method in ("get", "head"):
        response = getattr(client, method)(path + query)
    else:
        response = getattr(client, method)(path + query, body, format="json")
    assert response.status_code == 404, response.content[:500]  # never a 301 to a GET
    assert not response.has_header("Location")
    if method != "head":
        detail = f"Not found. This URL ends with a slash: {path}/{query}"
        assert_json_error(response, 404, detail)
    assert not ProgramSuggestion.objects.exists()
    assert not Issuer.objects.exists()


def test_without_its_slash_is_no_redirect_with_debug_on_either(world, settings):
    """Django raises a RuntimeError (500) for a POST it cannot redirect when DEBUG is on."""
    settings.DEBUG = True
    client = world.client("dm_admin")
    response = client.post(MANAGE.rstrip("/"), {"platform_key": "p1"}, format="json")
    assert response.status_code == 404


def test_other_urls_without_their_slash_still_redirect():
    response = Client().get("/admin")
    assert response.status_code == 301
    assert response["Location"] == "/admin/"


@pytest.mark.parametrize("method", ["put", "patch", "trace"])
def test_an_unsupported_method_is_a_json_405(world, method):
    response = getattr(world.client("dm_admin"), method)(f"{MANAGE}?platform_key=p1")
    assert_json_error(response, 405, f'Method "{method.upper()}" not allowed.')


@pytest.mark.urls("tests.support.error_urls")
@pytest.mark.parametrize("path", ["/api/boom/", "/api/boom-drf/"])
def test_a_server_error_under_the_api_is_a_json_500(path):
    client = Client(raise_request_exception=False)
    assert_json_error(client.get(path), 500, "A server error occurred.")


@pytest.mark.urls("tests.support.error_urls")
def test_a_server_error_outside_the_api_is_django_page():
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_bad_request_and_permission_denied_under_the_api_are_json(rf):
    from django.core.exceptions import PermissionDenied, SuspiciousOperation

    from ibl_core.api import errors

    request = rf.get("/api/anything/")
    bad = errors.bad_request(request, SuspiciousOperation("x"))
    assert (bad.status_code, bad["Content-Type"]) == (400, JSON)
    denied = errors.permission_denied(request, PermissionDenied())
    assert (denied.status_code, denied["Content-Type"]) == (403, JSON)
    assert errors.bad_request(rf.get("/other/"), SuspiciousOperation("x"))[
        "Content-Type"
    ].startswith("text/html")


def test_a_disallowed_host_under_the_api_is_a_json_400():
    response = Client(HTTP_HOST="evil.example").get("/api/nope/")
    assert_json_error(response, 400, "Bad request.")


def test_api_path_prefixes_are_configurable(settings):
    settings.IBL_DATA_MANAGER = {"API_PATH_PREFIXES": ["/data/"]}
    response = Client().get("/data/nope/")
    assert_json_error(response, 404, "Not found.")
    assert Client().get("/api/nope/")["Content-Type"].startswith("text/html")
