"""The OpenAPI schema: valid, warning-free, committed, and with the contract's ids."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
OPERATION_IDS = {
    "catalog_suggestions_program_manage_retrieve",
    "catalog_suggestions_program_manage_create",
    "catalog_suggestions_program_manage_destroy",
    "catalog_suggestions_program_manage_bulk_create",
    "credentials_orgs_users_images_retrieve",
    "credentials_orgs_users_images_create",
    "credentials_orgs_users_issuers_retrieve",
    "credentials_orgs_users_issuers_create",
}


def generate() -> str:
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture(scope="module")
def schema_text() -> str:
    return generate()


def test_schema_is_valid_without_warnings(schema_text):
    # --fail-on-warn raises SystemExit on any warning or error; reaching here is the check.
    assert schema_text.startswith("openapi: 3")


def test_committed_schema_is_current(schema_text):
    assert COMMITTED.read_text() == schema_text, (
        "docs/openapi.yaml is stale: run `make schema` and commit it."
    )


def test_operation_ids_and_security_scheme(schema_text):
    schema = yaml.safe_load(schema_text)
    ids = {op["operationId"] for path in schema["paths"].values() for op in path.values()
           if isinstance(op, dict) and "operationId" in op}  # fmt: skip
    assert ids >= OPERATION_IDS
    scheme = schema["components"]["securitySchemes"]["PlatformApiKeyAuthentication"]
    assert {k: v for k, v in scheme.items() if k != "description"} == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
    }
    # Swagger's Authorize dialog shows this text: it must say what to paste.
    assert "`Authorization: Api-Token <key>`" in scheme["description"]
    assert "the word `Api-Token`, one space, then your key" in scheme["description"]


@pytest.mark.slow
def test_sort_parameter_lists_its_values(schema_text):
    schema = yaml.safe_load(schema_text)
    get = schema["paths"]["/api/catalog/suggestions/program/manage/"]["get"]
    sort = next(p for p in get["parameters"] if p["name"] == "sort")
    assert "-program_name" in sort["schema"]["enum"] and "id" in sort["schema"]["enum"]


def test_served_schema_matches_the_committed_one(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert response.content.decode() == COMMITTED.read_text()


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_every_asset_locally(client, page):
    """No script, style or font comes from another host: the pages render offline."""
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert assets, html
    for asset in assets:
        assert not re.match(r"^(https?:)?//", asset), f"{page} loads {asset} from the network"
        if asset.startswith("/static/"):
            assert client.get(asset).status_code == 200, asset
    assert "/static/drf_spectacular_sidecar/" in html or "/api/redoc/redoc.standalone.js" in html


def test_redoc_script_fetches_nothing_from_elsewhere(client):
    """ReDoc's side menu loaded its logo from cdn.redoc.ly on every page load: refused by
    the page's policy, with an error in the browser's console each time."""
    html = client.get("/api/redoc/").content.decode()
    (script,) = re.findall(r'<script src="([^"]+)"', html)
    assert script == "/api/redoc/redoc.standalone.js"
    response = client.get(script)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert "max-age=86400" in response["Cache-Control"]
    bundle = response.content.decode()
    assert "Redoc" in bundle and "API docs by Redocly" in bundle  # the whole script
    image_urls = re.findall(r'src:"((?:https?:)?//[^"]+)"', bundle)
    assert image_urls == [], image_urls
    assert "cdn.redoc.ly" not in bundle
    source_map = bundle.rstrip().rsplit("\n", 1)[-1].removeprefix("//# sourceMappingURL=")
    assert client.get(source_map).status_code == 200
    assert client.post(script).status_code == 405


#: Sources a docs page may fetch from: this site and in-page data, nothing else.
LOCAL_SOURCES = {"'self'", "'none'", "'unsafe-inline'", "'unsafe-eval'", "data:", "blob:"}


def content_security_policy(response) -> dict[str, set[str]]:
    header = response["Content-Security-Policy"]
    return {
        directive.split()[0]: set(directive.split()[1:])
        for directive in header.split(";")
        if directive.strip()
    }


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_name_no_outside_url(client, page):
    """Neither the page nor its inline configuration (Swagger's settings, ReDoc's
    options) names another host."""
    html = client.get(page).content.decode()
    assert re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}", html) == []


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_may_fetch_only_from_this_site(client, page):
    """The bundles name outside hosts (ReDoc's logo on cdn.redoc.ly, Swagger's online
    validator): the page's policy makes the browser refuse every such fetch."""
    policy = content_security_policy(client.get(page))
    assert policy["default-src"] == {"'self'"}
    for directive in ("script-src", "style-src", "img-src", "font-src", "connect-src",
                      "worker-src", "frame-src", "object-src"):  # fmt: skip
        assert directive in policy, directive
        assert policy[directive] <= LOCAL_SOURCES, (directive, policy[directive])


def test_bundles_name_the_hosts_the_policy_refuses():
    """Keeps the reason for the policy honest: if a sidecar update drops these, the
    policy still holds; this says which fetches it exists to stop."""
    from django.contrib.staticfiles import finders

    redoc = Path(finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"))
    swagger = Path(finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"))
    assert "https://cdn.redoc.ly/redoc/logo-mini.svg" in redoc.read_text()
    assert "https://validator.swagger.io/validator" in swagger.read_text()


def test_docs_pages_allow_static_files_from_their_own_host(client, settings):
    settings.STATIC_URL = "https://static.example.org/assets/"
    policy = content_security_policy(client.get("/api/redoc/"))
    assert "https://static.example.org" in policy["script-src"]
    assert policy["connect-src"] == {"'self'"}


def test_swagger_online_validator_is_off(client):
    html = client.get("/api/docs/").content.decode()
    settings_json = re.search(r"const swaggerSettings = (\{.*?\});", html, re.S)
    assert settings_json, html
    assert yaml.safe_load(settings_json.group(1)) == {"deepLinking": True, "validatorUrl": None}


#: reST markup and notes for developers: they mean nothing to an API user.
INTERNAL_MARKERS = (":func:", ":class:", ":meth:", ":mod:", ":attr:", ":data:", ":py:",
                    "``", ".. ", "Documentation only", "see clean_", "docstring")  # fmt: skip
#: Values the API answers with that the schema has no other place for.
BULK_ERROR_CODES = {
    "invalid_row", "user_not_found", "program_not_found", "course_not_found",
    "pathway_not_found", "user_not_in_department", "duplicate_row",
}  # fmt: skip


def descriptions(node, where=""):
    """Every description (and summary) in the schema, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"description", "summary"} and isinstance(value, str):
                yield f"{where}/{key}", value
            else:
                yield from descriptions(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from descriptions(value, f"{where}[{index}]")


def api_names(node) -> set[str]:
    """The names the API itself exposes: properties, parameters, enum values."""
    names: set[str] = set()
    if isinstance(node, dict):
        names.update(node.get("properties", {}))
        if node.get("in") in {"query", "path", "header"}:
            names.add(node["name"])
        names.update(value for value in node.get("enum", []) if isinstance(value, str))
        for value in node.values():
            names |= api_names(value)
    elif isinstance(node, list):
        for value in node:
            names |= api_names(value)
    return names


@pytest.mark.slow
def test_schema_descriptions_are_written_for_api_users():
    """Docstrings become descriptions: none may carry reST roles or the code's names."""
    schema = yaml.safe_load(COMMITTED.read_text())
    known = {name.lstrip("-") for name in api_names(schema)} | BULK_ERROR_CODES
    # Event types (group_suggestion.created): their first part is a name of the API too.
    known |= {name.split(".")[0] for name in known if "." in name}
    problems = []
    for where, text in descriptions(schema):
        problems += [f"{where}: {marker!r}" for marker in INTERNAL_MARKERS if marker in text]
        # An identifier with an underscore (clean_row, IMAGE_MAX_BYTES) must be a name
        # of the API (program_key, page_size), not of the code or its settings.
        for name in re.findall(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b", text):
            if name not in known:
                problems.append(f"{where}: {name!r} is not a name of the API")
    assert problems == []
