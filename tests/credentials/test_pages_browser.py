"""The badge page and the verifier page in a real browser: Debian's chromium, driven by
Playwright (never a browser download), checked by axe-core for accessibility.

Screenshots at 375 px and 1280 px are written to ``build/screenshots/`` (not committed)
for a reviewer to look at. Skipped, with the reason, where chromium is not installed
(``make browser`` installs it; CI does).
"""

from __future__ import annotations

import base64
import os
import shutil
import urllib.request
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.support.credentials_factories import AssertionFactory, CredentialFactory, IssuerFactory
from tests.support.factories import MembershipFactory, PlatformFactory, UserFactory, issue_key

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
#: Chromium flags for a closed network and no sandbox (root in CI): no background
#: connections to Google, no first-run work.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium is not installed: run `make browser` (Debian package)"
    ),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own database
    # work is synchronous and safe (Django would otherwise refuse it).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def issued(live_server):
    platform = PlatformFactory(key="pages")
    admin = UserFactory(username="pages-admin")
    MembershipFactory(user=admin, platform=platform, is_admin=True)
    learner = UserFactory(username="pages-learner", first_name="Grace", last_name="Hopper")
    MembershipFactory(user=learner, platform=platform)
    issuer = IssuerFactory(platform=platform, name="Harbour Institute", entity_id="pages-issuer")
    credential = CredentialFactory(
        issuer=issuer, entity_id="pages-cred", name="Compilers and Languages",
        description="Designs and builds a compiler.", tags=["compilers"],
    )  # fmt: skip
    assertion = AssertionFactory(credential=credential, recipient=learner, entity_id="pages-held")
    return {"assertion": assertion, "admin_key": issue_key(admin, platform)}


def open_page(browser, live_server, path: str, width: int):
    """A fresh page at ``width`` px, recording every request it makes."""
    context = browser.new_context(
        viewport={"width": width, "height": 900}, java_script_enabled=True
    )
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    response = page.goto(live_server.url + path)
    page.wait_for_load_state("networkidle")
    return context, page, response, requests


def assert_only_this_server(requests: list[str], live_server) -> None:
    outside = [url for url in requests if not url.startswith((live_server.url, "data:"))]
    assert outside == []


def assert_accessible(page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]])
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert violations == []


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


@pytest.mark.parametrize("width", [375, 1280])
def test_the_badge_page_in_a_browser(browser, live_server, issued, width):
    context, page, response, requests = open_page(browser, live_server, "/badges/pages-held", width)
    try:
        assert response.status == 200
        assert page.title() == "Compilers and Languages · Harbour Institute"
        assert page.locator(".status-label").inner_text() == "Valid"
        assert page.get_by_text("Awarded to Grace Hopper").is_visible()
        image = page.locator(".badge-image img")
        assert image.evaluate("img => img.complete && img.naturalWidth") == 512
        # Nothing overflows the phone's width.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.get_by_role("link", name="Add to LinkedIn profile").is_visible()
        assert page.get_by_role("button", name="Copy link").count() == 1  # the script ran
        assert_only_this_server(requests, live_server)
        assert_accessible(page)
        screenshot(page, f"badge-{width}.png")
    finally:
        context.close()


def test_the_badge_page_works_without_javascript(browser, live_server, issued):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/badges/pages-held")
        assert page.locator(".status-label").inner_text() == "Valid"
        assert page.locator("#share-link").input_value() == live_server.url + "/badges/pages-held"
    finally:
        context.close()


def test_the_page_says_revoked_after_a_revoke(browser, live_server, issued):
    context, page, _, _ = open_page(browser, live_server, "/badges/pages-held", 1280)
    try:
        assert page.locator(".status-label").inner_text() == "Valid"
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Token {issued['admin_key']}")
        revoked = client.put(
            "/api/credentials/orgs/pages/users/pages-admin/assertions/pages-held",
            {"revoked": True, "revocationReason": "Issued by mistake"},
            format="json",
        )
        assert revoked.status_code == 200
        again = page.reload()
        assert again.status == 410
        assert page.locator(".status-label").inner_text() == "Revoked"
        assert "Issued by mistake" in page.locator(".status").inner_text()
        assert_accessible(page)
        screenshot(page, "badge-revoked-1280.png")
    finally:
        context.close()


def test_the_not_found_page_in_a_browser(browser, live_server, issued):
    context, page, response, requests = open_page(browser, live_server, "/badges/nothing", 375)
    try:
        assert response.status == 404
        assert page.locator("h1").inner_text() == "Credential not found"
        assert_only_this_server(requests, live_server)
        assert_accessible(page)
    finally:
        context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_the_verifier_page_checks_a_dropped_baked_png(browser, live_server, issued, width):
    # Baked by the live server, so the assertion inside names this server's URLs.
    with urllib.request.urlopen(live_server.url + "/ob/v2/assertions/pages-held/image") as baked:
        assert baked.status == 200
        png = baked.read()
    context, page, response, requests = open_page(browser, live_server, "/verify/", width)
    try:
        assert response.status == 200
        assert_accessible(page)
        with page.expect_navigation():
            page.evaluate(
                """(data) => {
                    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
                    const transfer = new DataTransfer();
                    const file = new File([bytes], "badge.png", {type: "image/png"});
                    transfer.items.add(file);
                    const options = {dataTransfer: transfer, bubbles: true, cancelable: true};
                    document.querySelector("[data-drop]").dispatchEvent(
                        new DragEvent("drop", options)
                    );
                }""",
                base64.b64encode(png).decode(),
            )
        assert page.locator("#result-h").inner_text() == "Valid"
        checks = page.locator(".checks li")
        assert checks.count() >= 3
        assert page.locator(".check-failed").count() == 0
        assert_only_this_server(requests, live_server)
        assert_accessible(page)
        screenshot(page, f"verify-{width}.png")
    finally:
        context.close()
