"""The badge page, content negotiation at the verifyUrl, the default badge image and the
browsable API's login link (the browser itself: tests/credentials/test_pages_browser.py)."""

from __future__ import annotations

import datetime as dt
import io
import re
from urllib.parse import parse_qs, urlsplit

import html5lib
import pytest
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from ibl_credentials.models import Credential
from ibl_credentials.openbadges import baking
from tests.support.assertion_helpers import detail_url
from tests.support.credentials_factories import AssertionFactory, CredentialFactory, IssuerFactory

pytestmark = pytest.mark.django_db
BASE = "http://testserver"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def held(world):
    learner = world.users["learner_p1"]
    learner.first_name, learner.last_name = "Ada", "Lovelace"
    learner.email = "ada.private@example.org"
    learner.save()
    issuer = IssuerFactory(
        platform=world.p1, entity_id="page-issuer", name="Open Academy",
        url="https://academy.example.org",
    )  # fmt: skip
    credential = CredentialFactory(
        issuer=issuer, entity_id="page-cred", name="Data Analysis with Python",
        description="Cleans, explores and explains data.", criteria_narrative="Pass all units.",
        tags=["python", "data"],
        metadata={"alignment": [{"targetName": "ESCO: data analysis", "targetUrl": "https://esco.example/1"}]},
    )  # fmt: skip
    return AssertionFactory(
        credential=credential, recipient=learner, entity_id="page-held",
        issued_on=timezone.now() - dt.timedelta(days=3), narrative="Built a dashboard.",
        evidence=[{"url": "https://example.org/work", "narrative": "The dashboard"}],
    )  # fmt: skip


def page(path: str, **extra):
    return APIClient().get(path, **extra)


def strict_html(body: bytes) -> None:
    """Valid HTML5: html5lib's strict parser raises on any parse error."""
    html5lib.HTMLParser(strict=True).parse(body)


def meta(body: str, attribute: str, name: str) -> str:
    found = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)"', body)
    assert found, name
    return found.group(1).replace("&amp;", "&")


def test_the_badge_page_shows_the_credential_and_never_the_email(held):
    response = page("/badges/page-held")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    strict_html(response.content)
    body = response.content.decode()
    for text in (
        "Data Analysis with Python", "Cleans, explores and explains data.",
        "Awarded to Ada Lovelace", "Open Academy", "https://academy.example.org",
        "Pass all units.", "Built a dashboard.",
        "https://example.org/work", "python", "ESCO: data analysis", "Valid",
    ):  # fmt: skip
        assert text in body, text
    assert "ada.private@example.org" not in body
    assert "learner_p1" not in body  # nor the username
    assert f'href="{BASE}/ob/v2/assertions/page-held/image?format=png" download' in body
    assert f'href="{BASE}/ob/v2/assertions/page-held/image?format=svg" download' in body
    assert f'href="{BASE}/ob/v2/assertions/page-held?format=json"' in body
    assert f'href="{BASE}/ob/v3/credentials/page-held?format=json"' in body
    assert f'href="{BASE}/ob/v3/credentials/page-held?format=jwt"' in body
    assert f'<link rel="canonical" href="{BASE}/badges/page-held">' in body
    # Nothing loaded from elsewhere: every src and stylesheet is this server's.
    for url in re.findall(r'(?:src|href)="([^"]+)"', body):
        stylesheet = r'<link rel="stylesheet" href="' + re.escape(url)
        if re.search(stylesheet, body) or f'src="{url}"' in body:
            assert url.startswith(("/", BASE)), url
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_the_badge_page_unfurls_and_adds_to_linkedin(held):
    body = page("/badges/page-held").content.decode()
    image = meta(body, "property", "og:image")
    assert image == f"{BASE}/ob/v2/assertions/page-held/image?format=png"
    assert meta(body, "property", "og:title") == "Data Analysis with Python"
    assert meta(body, "name", "twitter:card") == "summary"
    assert meta(body, "name", "twitter:image") == image
    png = page(image.removeprefix(BASE))
    assert png.status_code == 200
    assert min(Image.open(io.BytesIO(png.content)).size) >= 400
    link = re.search(r'href="(https://www\.linkedin\.com/profile/add\?[^"]+)"', body).group(1)
    query = parse_qs(urlsplit(link.replace("&amp;", "&")).query)
    assert query == {
        "startTask": ["CERTIFICATION_NAME"],
        "name": ["Data Analysis with Python"],
        "organizationName": ["Open Academy"],
        "issueYear": [str(held.issued_on.year)],
        "issueMonth": [str(held.issued_on.month)],
        "certUrl": [f"{BASE}/badges/page-held"],
        "certId": ["page-held"],
    }


def test_a_revoked_badge_page_is_410_with_its_reason(world, held):
    response = world.client("platform_admin_p1").put(
        detail_url("page-held", "platform_admin_p1"),
        {"revoked": True, "revocationReason": "Plagiarised project"},
        format="json",
    )
    assert response.status_code == 200
    revoked = page("/badges/page-held")
    assert revoked.status_code == 410
    strict_html(revoked.content)
    body = revoked.content.decode()
    assert "Revoked" in body and "Plagiarised project" in body
    assert "linkedin.com" not in body and "download=" not in body
    # Deleted since: still a 410 page with the reason.
    Credential.objects.filter(entity_id="page-cred").delete()
    gone = page("/badges/page-held")
    assert gone.status_code == 410
    strict_html(gone.content)
    assert "Plagiarised project" in gone.content.decode()


@pytest.mark.parametrize(
    ("issued", "expires", "label"),
    [(1, None, "Not yet valid"), (-10, -1, "Expired"), (-10, 5, "Valid")],
)
def test_the_page_says_expired_or_not_yet_valid(held, issued, expires, label):
    now = timezone.now()
    held.issued_on = now + dt.timedelta(days=issued)
    held.expires = now + dt.timedelta(days=expires) if expires is not None else None
    held.save()
    body = page("/badges/page-held").content.decode()
    assert re.search(rf'class="status-label">{label}</h2>', body)


def test_an_unknown_badge_is_a_404_page(world):
    for path in ("/badges/never-issued", "/badges/a%00b"):
        response = page(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "text/html; charset=utf-8"
        strict_html(response.content)
        assert "Credential not found" in response.content.decode()


def test_the_verify_url_negotiates_html_for_browsers_and_json_ld_for_machines(held):
    browser = page("/ob/v2/assertions/page-held", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert browser.status_code == 200
    assert browser["Content-Type"] == "text/html; charset=utf-8"
    assert "Accept" in browser["Vary"]
    assert "Awarded to Ada Lovelace" in browser.content.decode()
    for accept in ("*/*", "application/ld+json", "application/json, */*"):
        machine = page("/ob/v2/assertions/page-held", HTTP_ACCEPT=accept)
        assert machine["Content-Type"] == "application/ld+json; charset=utf-8", accept
        assert machine.json()["id"] == f"{BASE}/ob/v2/assertions/page-held"
    forced = page("/ob/v2/assertions/page-held?format=json", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert forced["Content-Type"] == "application/ld+json; charset=utf-8"
    unknown = page("/ob/v2/assertions/never-issued", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert unknown.status_code == 404


def test_the_badge_page_answers_304_to_its_etag(held):
    first = page("/badges/page-held")
    again = page("/badges/page-held", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_the_badge_page_costs_fixed_queries(held, django_assert_max_num_queries):
    page("/badges/page-held")
    with django_assert_max_num_queries(1):
        assert page("/badges/page-held").status_code == 200


# The default badge image --------------------------------------------------------------


def test_the_default_badge_carries_the_name_and_the_issuers_initials(world):
    issuer = IssuerFactory(platform=world.p1, name="Open Academy")
    credential = CredentialFactory(issuer=issuer, name="Data Analysis with Python", icon_image="")
    svg = baking.default_badge_svg(credential).decode()
    assert ">OA</text>" in svg
    lines = re.findall(r'font-size="54" dominant-baseline="central">([^<]*)</text>', svg)
    assert lines == ["Data", "Analysis", "with Python"]
    assert "<title>Data Analysis with Python</title>" in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")  # nothing fetched
    png = baking.default_badge_png(credential)
    assert png == baking.default_badge_png(credential)  # stable
    other = CredentialFactory(issuer=issuer, name="Another badge", icon_image="")
    assert baking.default_badge_png(other) != png
    image = Image.open(io.BytesIO(png))
    assert image.size == (512, 512)
    # Legible at 100 px: the text is white on a dark disc (WCAG contrast >= 4.5).
    red, green, blue = baking._colour(credential.entity_id)

    def luminance(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    background = 0.2126 * luminance(red) + 0.7152 * luminance(green) + 0.0722 * luminance(blue)
    assert 1.05 / (background + 0.05) >= 4.5


def test_long_names_are_wrapped_and_shortened():
    assert baking.name_lines("Python") == ["Python"]
    assert baking.name_lines("Advanced Data Analysis with Python and SQL") == [
        "Advanced",
        "Data",
        "Analysis…",
    ]
    assert baking.name_lines("Supercalifragilisticexpialidocious badge") == [
        "Supercalifra…",
        "badge",
    ]
    assert baking.name_lines("") == ["Badge"]


def test_the_badge_image_and_the_baked_svg_use_the_default(held):
    response = page("/ob/v2/badges/page-cred/image")
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.content)).size == (512, 512)
    svg = page("/ob/v2/assertions/page-held/image?format=svg")
    assert svg.status_code == 200
    assert b">OA</text>" in svg.content
    assert b"openbadges:assertion" in svg.content


# The browsable API's login -------------------------------------------------------------


def test_an_anonymous_visitor_of_the_browsable_api_sees_a_login_link(world):
    response = APIClient().get(
        "/api/credentials/orgs/p1/users/learner_p1/", HTTP_ACCEPT="text/html"
    )
    body = response.content.decode()
    assert response.status_code in (401, 403)
    assert "href='/api-auth/login/?next=/api/credentials/orgs/p1/users/learner_p1/'>Log in" in body
    login = APIClient().get("/api-auth/login/")
    assert login.status_code == 200
    assert b'name="password"' in login.content


def test_every_visible_string_of_the_pages_is_marked_for_translation():
    """What the templates show outside a {% translate %} / {% blocktranslate %} is only
    data ({{ ... }}), markup and punctuation."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "ibl_credentials/templates/ibl_credentials/pages"
    templates = sorted(folder.glob("*.html"))
    assert len(templates) >= 5
    for template in templates:
        text = template.read_text()
        text = re.sub(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", "", text, flags=re.S)
        text = re.sub(r"{%.*?%}|{{.*?}}|{#.*?#}", "", text, flags=re.S)
        text = re.sub(r"<(script|style)\b.*?</\1>", "", text, flags=re.S)
        text = re.sub(r"<[^>]+>", " ", text)
        leftover = re.findall(r"[A-Za-z]{2,}", text)
        assert leftover == [], (template.name, leftover)


def test_the_verifier_page_shares_the_apis_budget_per_address(world, settings):
    settings.IBL_DATA_MANAGER = {
        **settings.IBL_DATA_MANAGER,
        "THROTTLE_RATES": {"reads": None, "writes": "3/min", "bulk": None, "uploads": None},
    }
    client = APIClient()
    assert client.post("/api/credentials/verify/", {}, format="json").status_code == 400
    for _ in range(2):
        assert client.post("/verify/", {"credential": ""}).status_code == 400
    refused = client.post("/verify/", {"credential": ""})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    strict_html(refused.content)
    assert "Too many verifications from your address" in refused.content.decode()
    assert client.post("/api/credentials/verify/", {}, format="json").status_code == 429
    other = APIClient(REMOTE_ADDR="203.0.113.9")
    assert other.post("/verify/", {"credential": ""}).status_code == 400
