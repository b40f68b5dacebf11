"""The example project's landing page at ``/`` and its favicon (served locally)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_landing_page_links_to_docs_schema_admin_and_health(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = response.content.decode()
    links = re.findall(r'<a href="([^"]+)">', page)
    assert links == [
        "/api/docs/",
        "/api/redoc/",
        "/api/schema/",
        "/api/schema/?format=json",
        "/admin/",
        "/healthz",
        "/readyz",
    ]
    for link in links:  # every link answers (the admin sends a visitor to its login)
        assert client.get(link).status_code in (200, 302), link


def test_landing_page_loads_nothing_from_elsewhere(client):
    page = client.get("/").content.decode()
    assert re.findall(r'(?:href|src)="(?:https?:)?//', page) == []
    icons = re.findall(r'<link rel="(?:alternate )?icon" href="([^"]+)"', page)
    assert icons == ["/static/example_project/favicon.svg", "/favicon.ico"]
    svg = client.get(icons[0])
    assert (svg.status_code, svg["Content-Type"]) == (200, "image/svg+xml")
    assert b"<svg" in b"".join(svg.streaming_content)


def test_favicon_ico_is_an_icon(client):
    from io import BytesIO

    from PIL import Image

    response = client.get("/favicon.ico")
    assert (response.status_code, response["Content-Type"]) == (200, "image/x-icon")
    icon = Image.open(BytesIO(b"".join(response.streaming_content)))
    assert icon.format == "ICO"


def test_landing_page_answers_only_reads(client):
    assert client.post("/").status_code == 405
    assert client.head("/").status_code == 200


def test_landing_page_and_api_docs_say_what_the_api_does(client):
    """One description, in the schema (Swagger UI, ReDoc) and on the landing page, naming
    every part of the API (it said "Program suggestions, credential issuers and images")."""
    import yaml

    description = yaml.safe_load(client.get("/api/schema/").content)["info"]["description"]
    for part in ("courses", "programs", "pathways", "groups", "Open Badges 2.0 and 3.0",
                 "verified", "signed webhooks"):  # fmt: skip
        assert part in description, part
    page = client.get("/").content.decode()
    (lead,) = re.findall(r'<p class="lead">([^<]+)</p>', page)
    assert lead == f"A REST API for learning platforms. {description}"
