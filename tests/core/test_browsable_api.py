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
from ibl_core.api.renderers import BrowsableAPIRenderer
from ibl_credentials.models import Issuer, UploadedImage
from tests.support.catalog_helpers import make_item, suggest
from tests.support.credentials_factories import (
    IssuerFactory,
    UploadedImageFactory,
    png_bytes,
    upload,
)
from tests.support.factories import ProgramFactory

pytestmark = pytest.mark.django_db

MANAGE = "/api/catalog/suggestions/program/manage/"
BULK = "/api/catalog/suggestions/program/manage/bulk/"
IMAGES = "/api/credentials/orgs/p1/users/dm_admin/images/"
ISSUERS = "/api/credentials/orgs/p1/users/dm_admin/issuers/"
HTML = "text/html; charset=utf-8"
#: The POST form's fields: the required ones and the flags with their defaults (the
#: optional ones without a default are in the API docs, not prefilled with a bad value).
WRITE_FIELDS = {"user_id", "program_key", "accepted", "visible", "direct"}


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
    assert raw_post_form(body) == {"suggestion_data": []}


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
    assert raw_post_form(body) == {"name": ""}


def test_issuers_post_creates_once_and_shows_the_envelope(browser, world):
    response = browser.post(ISSUERS, {"name": "Acme Academy"}, content_type="application/json")
    body = assert_page(response, 201)
    assert Issuer.objects.get().name == "Acme Academy"
    assert "Acme Academy" in body and "Created" in body
    assert set(raw_post_form(body)) == {"name"}


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


# Every form, posted as a browser posts it -------------------------------------------


def page_forms(body: str) -> list[tuple[str, str, dict]]:
    """Each raw-data form of a page: (action, method, the JSON it is prefilled with)."""
    found = []
    for attributes, inner in re.findall(r"<form ([^>]*)>(.*?)</form>", body, re.S):
        content = re.search(r'<textarea name="_content"[^>]*>(.*?)</textarea>', inner, re.S)
        if content is None:
            continue
        action = html.unescape(re.search(r'action="([^"]*)"', attributes).group(1))
        method = re.search(r'(?:data-method|method)="([A-Z]+)"', attributes).group(1)
        found.append((action, method, json.loads(html.unescape(content.group(1)))))
    return found


def submit(client: Client, page: str, fill: dict) -> tuple[dict, object]:
    """Open ``page`` (HTML), take its one raw-data form with its prefilled values, fill in
    ``fill`` and send it as the page's script does (the text as the body, as JSON, with
    the form's method to its action). Returns the prefilled values and the answer."""
    opened = client.get(page)
    (form,) = page_forms(assert_page(opened, status=opened.status_code))  # 405: a POST-only page
    action, method, prefilled = form
    body = json.dumps({**prefilled, **fill})
    send = getattr(client, method.lower())
    return prefilled, send(action, body, content_type="application/json", HTTP_ACCEPT=JSON)


JSON = "application/json"
CREDENTIALS = "/api/credentials/orgs/p1/users/dm_admin/"


def required_only(world) -> list[tuple[str, dict, int]]:
    """(page, its required fields filled in, the status the write answers)."""
    learner, newcomer = world.users["learner_p1"], world.users["learner_other_department"]
    program = ProgramFactory(platform=world.p1, program_key="prog-form")
    pathway = make_item(next(k for k in SUGGESTION_KINDS if k.label == "pathway"), world.p1)
    course = make_item(next(k for k in SUGGESTION_KINDS if k.label == "course"), world.p1)
    from ibl_core.tenancy.groups import create_or_update_group

    group, _ = create_or_update_group(world.p1, "Form group", add=[learner])
    issuer = IssuerFactory(platform=world.p1, entity_id="form-issuer")
    from tests.support.credentials_factories import AssertionFactory, CredentialFactory

    credential = CredentialFactory(issuer=issuer, entity_id="form-badge")
    assertion = AssertionFactory(credential=credential, recipient=learner, entity_id="form-a")
    return [
        (f"{MANAGE}?platform_key=p1", {"user_id": learner.pk, "program_key": "prog-form"}, 200),
        (
            "/api/catalog/suggestions/pathway/manage/?platform_key=p1",
            {"user_id": learner.pk, "pathway_id": pathway.pathway_id},
            200,
        ),
        (
            "/api/catalog/suggestions/course/manage/group/?platform_key=p1",
            {"group_id": group.pk, "course_id": course.course_id},
            200,
        ),
        (
            f"{BULK}?platform_key=p1",
            {"suggestion_data": [{"user_id": learner.pk, "program_key": program.program_key}]},
            200,
        ),
        (ISSUERS, {"name": "Form Academy"}, 201),
        (f"{ISSUERS}form-issuer", {"name": "Renamed Academy"}, 200),
        (
            f"{ISSUERS}authority/",
            {"name": "Dean", "title": "Dean", "signature": "https://example.org/s.png"},
            201,
        ),
        (CREDENTIALS, {"name": "Form badge"}, 201),
        (f"{CREDENTIALS}form-badge", {"name": "Renamed badge"}, 200),
        (f"{CREDENTIALS}form-badge/assertions/", {"recipient": {"identity": newcomer.pk}}, 201),
        (f"{CREDENTIALS}form-badge/assertions/bulk/", {"users": ["learner_p1"]}, 200),
        # Nothing is required: the answer says what to send, and nothing changes.
        (f"{CREDENTIALS}assertions/{assertion.entity_id}", {}, 400),
    ]


def test_every_form_posted_with_its_required_fields_does_what_it_says(world):
    """A form is prefilled with its required fields (empty) and the documented defaults
    only, so posting it with the required fields filled in succeeds (the credential form
    showed both spellings of seven fields, the suggestion form a blank username and
    email and null metadata: each a 400)."""
    client = Client()
    client.force_login(world.users["dm_admin"])
    for page, fill, status in required_only(world):
        client.defaults["HTTP_ACCEPT"] = "text/html"
        prefilled, response = submit(client, page, fill)
        assert response.status_code == status, (page, prefilled, response.content[:500])
    suggestion = ProgramSuggestion.objects.get(program__program_key="prog-form")
    assert (suggestion.accepted, suggestion.visible, suggestion.direct) == (False, True, True)
    assert suggestion.metadata == {}


def test_every_form_posted_as_it_is_names_only_its_required_fields(world):
    client = Client()
    client.force_login(world.users["dm_admin"])
    for page, fill, _ in required_only(world):
        client.defaults["HTTP_ACCEPT"] = "text/html"
        prefilled, response = submit(client, page, {})
        if not fill:
            continue
        assert response.status_code == 400, (page, response.content[:500])
        errors = response.json()
        errors = errors.get("result", errors)  # the credentials envelope
        assert set(errors) <= set(fill), (page, prefilled, errors)


def test_the_learners_answer_form_does_not_dismiss_by_default(world):
    """The answer form prefilled accepted: false, visible: false: sent with just the
    suggestion's id, it dismissed the suggestion. Now it names what is missing."""
    suggestion = suggest(world, "learner_p1")
    client = Client()
    client.force_login(world.users["learner_p1"])
    client.defaults["HTTP_ACCEPT"] = "text/html"
    page = "/api/catalog/suggestions/program/user/?username=learner_p1"
    prefilled, response = submit(client, page, {"suggestion_id": suggestion.pk})
    assert prefilled == {"suggestion_id": None}
    assert response.status_code == 400
    assert response.json() == {"accepted": ["Send accepted, visible or both."]}
    suggestion.refresh_from_db()
    assert (suggestion.accepted, suggestion.visible) == (False, True)
    client.defaults["HTTP_ACCEPT"] = "text/html"
    _, accepted = submit(client, page, {"suggestion_id": suggestion.pk, "accepted": True})
    assert accepted.status_code == 200
    suggestion.refresh_from_db()
    assert (suggestion.accepted, suggestion.visible) == (True, True)
