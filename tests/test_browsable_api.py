"""The browsable API (HTML) on every endpoint, for a superuser logged in with a session.

A browser sends ``Accept: text/html``: DRF then renders the answer as an HTML page
with forms built from the view's serializers, after the view has returned (so after
a POST has committed). Every endpoint must render its page with its forms, and a
form that cannot be built must never turn an answered request into a 500.
"""

from __future__ import annotations

import html
import json
import logging
import re

import pytest
from django.test import Client
from rest_framework import renderers
from rest_framework.views import APIView

from ibl_catalog.declarations import SUGGESTION_KINDS
from ibl_catalog.models import ProgramSuggestion
from ibl_core.renderers import BrowsableAPIRenderer
from ibl_credentials.models import Issuer, UploadedImage
from tests.catalog_helpers import make_item, suggest
from tests.credentials_factories import IssuerFactory, UploadedImageFactory, png_bytes, upload
from tests.factories import ProgramFactory

pytestmark = pytest.mark.django_db

MANAGE = "/api/catalog/suggestions/program/manage/"
BULK = "/api/catalog/suggestions/program/manage/bulk/"
IMAGES = "/api/credentials/orgs/p1/users/dm_admin/images/"
ISSUERS = "/api/credentials/orgs/p1/users/dm_admin/issuers/"
HTML = "text/html; charset=utf-8"
WRITE_FIELDS = {
    "user_id", "username", "email", "accepted", "visible", "direct", "metadata",
    "platform_key", "platform_org", "department_mode", "program_key", "suggested_by",
}  # fmt: skip


@pytest.fixture(params=["ibl_core", "rest_framework"])
def browser(request, world, monkeypatch) -> Client:
    """A superuser's browser session; the views render with this package's renderer
    and with DRF's own (a host project may keep DRF's default)."""
    browsable = (
        BrowsableAPIRenderer if request.param == "ibl_core" else renderers.BrowsableAPIRenderer
    )
    monkeypatch.setattr(APIView, "renderer_classes", [renderers.JSONRenderer, browsable])
    client = Client(HTTP_ACCEPT="text/html")
    client.force_login(world.users["dm_admin"])
    client.renderer = browsable  # type: ignore[attr-defined]
    return client


def raw_post_form(body: str) -> dict:
    """The JSON the page's raw POST form is prefilled with (the body serializer's fields)."""
    match = re.search(r'<textarea name="_content"[^>]*>(.*?)</textarea>', body, re.S)
    assert match, "the page has no raw POST form"
    return json.loads(html.unescape(match.group(1)))


def assert_page(response, status: int) -> str:
    assert response.status_code == status, response.content[:2000]
    assert response["Content-Type"] == HTML
    return response.content.decode()


# Catalog: manage (GET, POST, DELETE) and bulk (POST) --------------------------------


def test_manage_get_shows_the_list_and_the_post_form(browser, world):
    program = ProgramFactory(platform=world.p1, program_key="prog-1")
    suggest(world, "learner_p1", program)
    body = assert_page(browser.get(f"{MANAGE}?platform_key=p1"), 200)
    assert "prog-1" in body
    # The POST form is the raw JSON form of the write serializer, prefilled with its fields.
    form = raw_post_form(body)
    assert set(form) == WRITE_FIELDS
    # Prefilled with the API's defaults: posting it as it is makes a visible suggestion.
    assert (form["accepted"], form["visible"], form["direct"]) == (False, True, True)
    assert 'data-method="DELETE"' in body
    assert 'id="filtersModal"' in body  # the filter form (query, sort...)


def test_manage_post_creates_once_and_shows_the_answer(browser, world):
    program = ProgramFactory(platform=world.p1, program_key="prog-1")
    learner = world.users["learner_p1"]
    response = browser.post(
        MANAGE,
        {"user_id": learner.pk, "program_key": "prog-1", "platform_key": "p1"},
        content_type="application/json",
    )
    body = assert_page(response, 200)
    suggestion = ProgramSuggestion.objects.get()
    assert (suggestion.user_id, suggestion.program_id) == (learner.pk, program.pk)
    assert "prog-1" in body
    assert set(raw_post_form(body)) == WRITE_FIELDS


def test_manage_post_error_is_a_page_and_writes_nothing(browser, world):
    response = browser.post(
        MANAGE,
        {"user_id": "nope", "program_key": "prog-1", "platform_key": "p1"},
        content_type="application/json",
    )
    body = assert_page(response, 400)
    assert "user_id" in body
    assert not ProgramSuggestion.objects.exists()


def test_manage_delete_answers_a_page(browser, world):
    suggestion = suggest(world, "learner_p1")
    response = browser.delete(f"{MANAGE}?platform_key=p1&suggestion_id={suggestion.pk}")
    body = assert_page(response, 200)
    assert "Suggestion deleted." in body
    assert not ProgramSuggestion.objects.exists()


def test_bulk_get_is_a_405_page_with_the_post_form(browser, world):
    body = assert_page(browser.get(f"{BULK}?platform_key=p1"), 405)
    assert raw_post_form(body) == {
        "platform_key": "", "platform_org": "", "department_mode": False, "suggestion_data": []
    }  # fmt: skip


def test_bulk_post_writes_and_shows_the_result(browser, world):
    ProgramFactory(platform=world.p1, program_key="prog-1")
    rows = [{"user_id": world.users["learner_p1"].pk, "program_key": "prog-1"}, {"x": 1}]
    response = browser.post(
        BULK, {"platform_key": "p1", "suggestion_data": rows}, content_type="application/json"
    )
    body = assert_page(response, 200)
    assert ProgramSuggestion.objects.count() == 1
    assert "&quot;successes&quot;: 1" in body
    assert "1:invalid_row" in body


# Credentials: images and issuers (GET, POST) -----------------------------------------


def test_images_get_shows_the_results_and_the_upload_form(browser, world):
    UploadedImageFactory(platform=world.p1, uploaded_by=world.users["dm_admin"], name="logo")
    body = assert_page(browser.get(f"{IMAGES}?query=logo"), 200)
    assert "logo" in body
    # The HTML form is the upload serializer's: a file input and a name.
    assert 'enctype="multipart/form-data"' in body
    assert re.search(r'<input name="image"[^>]*type="file"', body)


def test_images_post_uploads_once_and_shows_the_image(browser, world):
    response = browser.post(IMAGES, {"image": upload(png_bytes()), "name": "badge"})
    body = assert_page(response, 201)
    image = UploadedImage.objects.get()
    assert image.name == "badge" and image.platform == world.p1
    assert "badge" in body
    if browser.renderer is BrowsableAPIRenderer:  # DRF's rebuilds it from the answer
        assert re.search(r'<input name="image"[^>]*type="file"', body)


def test_images_post_refused_is_a_page_and_stores_nothing(browser, world):
    response = browser.post(IMAGES, {"image": upload(b"not an image"), "name": "x"})
    body = assert_page(response, 400)
    assert re.search(r'<input name="image"[^>]*type="file"', body)
    assert not UploadedImage.objects.exists()


def test_issuers_get_shows_the_envelope_and_the_create_form(browser, world):
    IssuerFactory(platform=world.p1, name="Acme Academy")
    body = assert_page(browser.get(ISSUERS), 200)
    assert "Acme Academy" in body
    assert raw_post_form(body) == {
        "name": "", "entityId": "", "url": "", "email": "", "iconImage": "",
        "allowed_template_tags": [],
    }  # fmt: skip


def test_issuers_post_creates_once_and_shows_the_envelope(browser, world):
    response = browser.post(ISSUERS, {"name": "Acme Academy"}, content_type="application/json")
    body = assert_page(response, 201)
    assert Issuer.objects.get().name == "Acme Academy"
    assert "Acme Academy" in body and "Created" in body
    assert set(raw_post_form(body)) == {
        "name",
        "entityId",
        "url",
        "email",
        "iconImage",
        "allowed_template_tags",
    }


def test_issuers_post_invalid_is_an_enveloped_page(browser, world):
    response = browser.post(ISSUERS, {"name": ""}, content_type="application/json")
    body = assert_page(response, 400)
    assert "&quot;success&quot;: false" in body
    assert not Issuer.objects.exists()


# The safety net -------------------------------------------------------------------


def test_a_form_that_cannot_be_built_never_fails_a_committed_write(world, monkeypatch, caplog):
    """Whatever breaks while building a form, the write's answer still arrives."""
    from ibl_catalog.suggestions.views import SuggestionManageView

    def broken(self):
        raise AssertionError("no serializer for this method")

    monkeypatch.setattr(SuggestionManageView, "get_serializer_class", broken)
    monkeypatch.setattr(APIView, "renderer_classes", [renderers.JSONRenderer, BrowsableAPIRenderer])
    ProgramFactory(platform=world.p1, program_key="prog-1")
    client = Client(HTTP_ACCEPT="text/html")
    client.force_login(world.users["dm_admin"])
    with caplog.at_level(logging.ERROR, logger="ibl.renderers"):
        response = client.post(
            MANAGE,
            {"user_id": world.users["learner_p1"].pk, "program_key": "prog-1",
             "platform_key": "p1"},
            content_type="application/json",
        )  # fmt: skip
    body = assert_page(response, 200)
    assert ProgramSuggestion.objects.count() == 1
    assert "prog-1" in body
    assert '<textarea name="_content"' not in body
    assert "could not be built" in caplog.text


def test_the_filter_form_keeps_the_platform_and_names_its_fields(browser, world):
    """Submitting the filter form must not drop platform_key (a 400 every time)."""
    suggest(world, "learner_p1", ProgramFactory(platform=world.p1))
    body = assert_page(
        browser.get(f"{MANAGE}?platform_key=p1&department_mode=false&page=1&sort=username"),
        200,
    )
    form = body[body.index("Field filters") :]
    form = form[: form.index("</form>")]
    assert '<input type="hidden" name="platform_key" value="p1">' in form
    assert '<input type="hidden" name="department_mode" value="false">' in form
    assert 'name="page"' not in form  # a new filter starts at page 1
    assert "[invalid name]" not in form
    assert "Search:" in form and "Sort:" in form
    assert '<option value="username" selected>' in form


# Every kind's lists (manage, the learner view, groups) in a browser ----------------


@pytest.mark.parametrize("kind", SUGGESTION_KINDS, ids=lambda kind: kind.label)
@pytest.mark.parametrize(
    ("path", "form_field"),
    [
        ("manage/?platform_key=p1", "user_id"),
        ("user/?username=learner_p1", "suggestion_id"),
        ("manage/group/?platform_key=p1", "group_id"),
    ],
    ids=["manage", "user", "group"],
)
def test_every_kinds_lists_render_with_their_post_form(browser, world, kind, path, form_field):
    item = make_item(kind, world.p1)
    kind.model._default_manager.create(
        platform=world.p1, user=world.users["learner_p1"], **{kind.item_field: item}
    )
    body = assert_page(browser.get(f"/api/catalog/suggestions/{kind.label}/{path}"), 200)
    if form_field != "group_id":  # the learner's suggestion is listed (no group has any)
        assert str(getattr(item, kind.identifiers[0].field)) in body
    assert form_field in raw_post_form(body)
