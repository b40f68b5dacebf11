"""Credentials (badge classes): the collection, one credential, course-credentials/
(contract ``credentials-lifecycle.md``: "Credentials (badge classes)")."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from ibl_credentials.models import Credential, CredentialItem, Signatory
from tests.conftest import ROLES
from tests.credentials.test_credentials_issuers import failed, issuer_json, ok
from tests.support.credentials_factories import (
    AssertionFactory,
    CredentialFactory,
    CredentialItemFactory,
    IssuerFactory,
    SignatoryFactory,
    png_bytes,
    upload,
)
from tests.support.factories import CourseFactory, PathwayFactory, ProgramFactory

pytestmark = pytest.mark.django_db

BASE = "http://testserver"
SIGNATURE = "https://example.org/sign.png"
NOT_ADMIN = "Only platform admins may create, change or delete credentials."
HAS_ASSERTIONS = "This credential has active assertions: revoke them (or let them expire) first."
UTC_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def list_url(user: str = "learner_p1", org: str = "p1") -> str:
    return f"/api/credentials/orgs/{org}/users/{user}/"


def detail_url(entity_id: str, user: str = "learner_p1", org: str = "p1", slash="") -> str:
    return f"/api/credentials/orgs/{org}/users/{user}/{entity_id}{slash}"


def course_credentials_url(user: str = "learner_p1", org: str = "p1") -> str:
    return f"/api/credentials/orgs/{org}/users/{user}/course-credentials/"


def stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def credential_json(credential: Credential) -> dict:
    """The exact credential object, built from the database."""
    credential.refresh_from_db()
    items = credential.items.order_by("id")
    issuer = credential.issuer
    signatories = [
        *issuer.signatories.filter(credential=None).order_by("order", "id"),
        *credential.own_signatories.order_by("order", "id"),
    ]
    return {
        "entityId": credential.entity_id,
        "name": credential.name,
        "description": credential.description,
        "credentialType": credential.credential_type,
        "criteriaUrl": credential.criteria_url,
        "criteriaNarrative": credential.criteria_narrative,
        "signal": credential.signal,
        "html_template": credential.html_template,
        "css_template": credential.css_template,
        "tags": credential.tags,
        "metadata": credential.metadata,
        "expires": (
            {"amount": credential.expires_amount, "duration": credential.expires_duration}
            if credential.expires_amount
            else None
        ),
        "iconImage": credential.icon_image,
        "backgroundImage": credential.background_image,
        "thumbnailImage": credential.thumbnail_image,
        "courses": [i.key for i in items if i.kind == "course"],
        "programs": [i.key for i in items if i.kind == "program"],
        "pathways": [i.key for i in items if i.kind == "pathway"],
        "public": credential.public,
        "issuer": issuer.entity_id,
        "issuerDetails": issuer_json(issuer),
        "signatories": [
            {"name": s.name, "title": s.title, "signature": s.signature_image} for s in signatories
        ],
        "created": stamp(credential.created),
        "modified": stamp(credential.modified),
    }


def page(data: list, count: int | None = None, key: str = "data", **overrides) -> dict:
    result = {
        "next": None,
        "previous": None,
        "count": len(data) if count is None else count,
        key: data,
        "num_pages": 1,
        "page_number": 1,
        "max_page_size": 100,
    }
    return ok({**result, **overrides})


def snapshot() -> list:
    return [
        list(Credential.objects.order_by("pk").values_list()),
        list(CredentialItem.objects.order_by("pk").values_list()),
        list(Signatory.objects.order_by("pk").values_list()),
    ]


@pytest.fixture
def issuer(world):
    """The default issuer of p1 (its oldest), with an issuer-wide signatory."""
    issuer = IssuerFactory(platform=world.p1, name="Acme", entity_id="acme")
    SignatoryFactory(issuer=issuer, name="Jane Doe", title="Dean", signature_image=SIGNATURE)
    return issuer


@pytest.fixture
def catalog(world):
    """Catalog items of p1 (and one course of p2 with a key of its own)."""
    CourseFactory(platform=world.p1, course_id="course-v1:acme+c1+2026")
    CourseFactory(platform=world.p1, course_id="course-v1:acme+c2+2026")
    ProgramFactory(platform=world.p1, program_key="program-v1:acme+p1+run")
    PathwayFactory(platform=world.p1, pathway_id="data-analyst")
    CourseFactory(platform=world.p2, course_id="course-v1:other+c9+2026")


def create(world, body, role: str = "platform_admin_p1"):
    return world.client(role).post(list_url(role), body, format="json")


# Access -----------------------------------------------------------------------------

OPERATIONS = ("list", "create", "get", "put", "delete", "course-credentials")
#  role:                 list  create  get   put   delete course-credentials
EXPECTED = {
    "anonymous":          (401,  401,    401,  401,  401,   401),
    "outsider":           (403,  403,    403,  403,  403,   403),
    "learner_p1":         (200,  403,    200,  403,  403,   200),
    "learner_p2":         (403,  403,    403,  403,  403,   403),
    "department_admin":   (200,  403,    200,  403,  403,   200),
    "platform_admin_p1":  (200,  201,    200,  200,  200,   200),
    "platform_admin_p2":  (403,  403,    403,  403,  403,   403),
    "dm_admin":           (200,  201,    200,  200,  200,   200),
}  # fmt: skip


def test_matrix_covers_every_role():
    assert set(EXPECTED) == set(ROLES)


@pytest.mark.parametrize("department_mode", [False, True])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_access_matrix(world, issuer, role, operation, department_mode):
    CredentialFactory(issuer=issuer, entity_id="badge")
    client = world.client(role)
    query = "?department_mode=true" if department_mode else ""
    before = snapshot()
    if operation == "list":
        response = client.get(list_url(role) + query)
    elif operation == "create":
        response = client.post(list_url(role) + query, {"name": "New"}, format="json")
    elif operation == "course-credentials":
        response = client.get(course_credentials_url(role) + query)
    elif operation == "put":
        response = client.put(detail_url("badge", role) + query, {"name": "X"}, format="json")
    else:
        response = getattr(client, operation)(detail_url("badge", role) + query)
    expected = EXPECTED[role][OPERATIONS.index(operation)]
    assert response.status_code == expected, response.content
    assert response.json()["status"]["success"] is (expected < 400)
    if expected >= 400:
        assert snapshot() == before


@pytest.mark.parametrize("operation", ["create", "put", "delete"])
def test_403_body_for_members(world, issuer, operation):
    CredentialFactory(issuer=issuer, entity_id="badge")
    client = world.client("learner_p1")
    if operation == "create":
        response = client.post(list_url(), {"name": "X"}, format="json")
    else:
        response = getattr(client, operation)(detail_url("badge"), {"name": "X"}, format="json")
    assert (response.status_code, response.json()) == (
        403,
        failed({"detail": NOT_ADMIN}, NOT_ADMIN),
    )


@pytest.mark.parametrize("role", ["platform_admin_p2", "dm_admin"])
def test_another_tenants_credential_is_404(world, issuer, role):
    CredentialFactory(issuer=issuer, entity_id="badge")
    before = snapshot()
    message = "Credential 'badge' not found."
    client = world.client(role)
    url = detail_url("badge", role, org="p2")
    for response in (
        client.get(url),
        client.put(url, {"name": "X"}, format="json"),
        client.delete(url),
    ):
        assert (response.status_code, response.json()) == (
            404,
            failed({"detail": message}, message),
        )
    assert snapshot() == before
    assert client.get(list_url(role, "p2")).json() == page([])


def test_private_credential_is_404_for_members_and_seen_by_admins(world, issuer):
    private = CredentialFactory(issuer=issuer, entity_id="private", public=False)
    public = CredentialFactory(issuer=issuer, entity_id="public")
    message = "Credential 'private' not found."
    for role in ("learner_p1", "department_admin"):
        response = world.client(role).get(detail_url("private", role))
        assert (response.status_code, response.json()) == (
            404,
            failed({"detail": message}, message),
        )
        assert world.client(role).get(list_url(role)).json() == page([credential_json(public)])
    for role in ("platform_admin_p1", "dm_admin"):
        response = world.client(role).get(detail_url("private", role))
        assert response.json() == ok(credential_json(private))
        listed = world.client(role).get(list_url(role)).json()
        assert listed == page([credential_json(public), credential_json(private)])


def test_unknown_credential_and_null_character(world, issuer):
    response = world.client("learner_p1").get(detail_url("nope"))
    message = "Credential 'nope' not found."
    assert (response.status_code, response.json()) == (404, failed({"detail": message}, message))
    assert world.client("learner_p1").get(detail_url("a%00")).status_code == 404


@pytest.mark.parametrize(
    "segment",
    ["issuers", "assertions", "course-credentials", "images", "credentials-over-time"],
)
@pytest.mark.parametrize("role", ["platform_admin_p1", "anonymous"])
def test_literal_segments_are_never_a_credential(world, issuer, segment, role):
    CredentialFactory(issuer=issuer)
    url = detail_url(segment, "platform_admin_p1")
    for method in ("get", "put", "delete"):
        response = getattr(world.client(role), method)(url, {}, format="json")
        assert (response.status_code, response.json()) == (
            404,
            {"detail": f"Not found. This URL ends with a slash: {url}/"},
        )
    assert Credential.objects.count() == 1


def test_authority_without_its_slash_is_not_an_issuer(world, issuer):
    url = "/api/credentials/orgs/p1/users/platform_admin_p1/issuers/authority"
    response = world.client("platform_admin_p1").delete(url)
    assert (response.status_code, response.json()) == (
        404,
        {"detail": f"Not found. This URL ends with a slash: {url}/"},
    )


# Create -----------------------------------------------------------------------------


def test_create_with_every_field(world, issuer, catalog):
    other = IssuerFactory(platform=world.p1, name="Other", entity_id="other")
    body = {
        "name": "Data Analyst",
        "entityId": "data-analyst-badge",
        "issuer": "other",
        "description": "Awarded for the data track.",
        "credentialType": "certificate",
        "criteriaUrl": "https://acme.org/criteria",
        "criteriaNarrative": "Pass every course.",
        "signal": "PROGRAM_COMPLETED",
        "html_template": "<p>{{ name }}</p>",
        "css_template": "p { color: red }",
        "tags": ["data", "python"],
        "metadata": {"level": 2, "nested": {"a": [1, 2]}},
        "expires": {"amount": 2, "duration": "years"},
        "iconImage": "https://acme.org/icon.png",
        "backgroundImage": "/media/uploaded_images/p1/bg.png",
        "thumbnailImage": "uploaded_images/p1/thumb.png",
        "courses": ["course-v1:acme+c2+2026", "course-v1:acme+c1+2026"],
        "programs": ["program-v1:acme+p1+run"],
        "pathways": ["data-analyst"],
        "public": False,
    }
    response = create(world, body)
    assert response.status_code == 201, response.content
    credential = Credential.objects.get()
    expected = {
        **{k: v for k, v in body.items() if k != "issuer"},
        "issuer": "other",
        "issuerDetails": issuer_json(other),
        "signatories": [],
        "created": stamp(credential.created),
        "modified": stamp(credential.modified),
    }
    assert response.json() == ok(expected, "Created")
    assert response.json() == ok(credential_json(credential), "Created")
    assert (credential.platform, credential.issuer, credential.created_by) == (
        world.p1,
        other,
        world.users["platform_admin_p1"],
    )
    assert UTC_Z.fullmatch(response.json()["result"]["created"])


def test_create_minimal_uses_the_defaults_and_the_default_issuer(world, issuer):
    IssuerFactory(platform=world.p1, name="Younger", entity_id="younger")
    response = create(world, {"name": "Badge"})
    assert response.status_code == 201
    result = response.json()["result"]
    credential = Credential.objects.get()
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", result["entityId"])
    assert result == credential_json(credential)
    assert {k: v for k, v in result.items() if k not in ("entityId", "created", "modified")} == {
        "name": "Badge",
        "description": "",
        "credentialType": "badge",
        "criteriaUrl": "",
        "criteriaNarrative": "",
        "signal": "COURSE_PASSED",
        "html_template": "",
        "css_template": "",
        "tags": [],
        "metadata": {},
        "expires": None,
        "iconImage": "",
        "backgroundImage": "",
        "thumbnailImage": "",
        "courses": [],
        "programs": [],
        "pathways": [],
        "public": True,
        "issuer": "acme",
        "issuerDetails": issuer_json(issuer),
        "signatories": [{"name": "Jane Doe", "title": "Dean", "signature": SIGNATURE}],
    }


def test_null_optional_strings_are_unset(world, issuer):
    body = {"name": "B", "description": None, "criteriaUrl": None, "iconImage": None}
    body |= {"tags": None, "courses": None, "expires": None}
    response = create(world, body)
    assert response.status_code == 201
    result = response.json()["result"]
    assert (result["description"], result["criteriaUrl"], result["iconImage"]) == ("", "", "")
    assert (result["tags"], result["courses"], result["expires"]) == ([], [], None)


def test_snake_case_aliases(world, issuer):
    body = {
        "name": "B",
        "icon_image": "https://x.org/i.png",
        "background_image": "https://x.org/b.png",
        "thumbnail_image": "https://x.org/t.png",
        "criteria_url": "https://x.org/c",
        "criteria_text": "Do it.",
        "issuing_signal": "PATHWAY_COMPLETED",
        "credential_type": "certificate",
    }
    response = create(world, body)
    assert response.status_code == 201
    result = response.json()["result"]
    assert {
        k: result[k]
        for k in (
            "iconImage",
            "backgroundImage",
            "thumbnailImage",
            "criteriaUrl",
            "criteriaNarrative",
            "signal",
            "credentialType",
        )
    } == {
        "iconImage": "https://x.org/i.png",
        "backgroundImage": "https://x.org/b.png",
        "thumbnailImage": "https://x.org/t.png",
        "criteriaUrl": "https://x.org/c",
        "criteriaNarrative": "Do it.",
        "signal": "PATHWAY_COMPLETED",
        "credentialType": "certificate",
    }
    for alias in ("icon_image", "criteria_text", "credential_type"):
        assert alias not in result


@pytest.mark.parametrize(
    ("alias", "name", "value"),
    [
        ("icon_image", "iconImage", "https://x.org/i.png"),
        ("background_image", "backgroundImage", "https://x.org/b.png"),
        ("thumbnail_image", "thumbnailImage", "https://x.org/t.png"),
        ("criteria_url", "criteriaUrl", "https://x.org/c"),
        ("criteria_text", "criteriaNarrative", "x"),
        ("issuing_signal", "signal", "X"),
        ("credential_type", "credentialType", "x"),
    ],
)
def test_both_spellings_of_one_field_are_400(world, issuer, alias, name, value):
    response = create(world, {"name": "B", alias: value, name: value})
    message = f"Send {alias} or {name}, not both."
    assert (response.status_code, response.json()) == (
        400,
        failed({alias: [message]}, f"{alias}: {message}"),
    )
    assert not Credential.objects.exists()


def test_errors_name_the_alias_that_was_sent(world, issuer):
    response = create(world, {"name": "B", "icon_image": "uploaded_images/p2/x.png"})
    assert response.status_code == 400
    assert list(response.json()["result"]) == ["icon_image"]
    response = create(world, {"name": "B", "criteria_url": "ftp://x"})
    assert response.json()["result"] == {"criteria_url": ["Enter a valid http or https URL."]}


@pytest.mark.parametrize("spelling", ["url", "path"])
def test_an_own_upload_is_the_badge_image_by_its_url_or_its_path(world, issuer, spelling, settings):
    """The images endpoint's URL and the stored path name the same file (both spellings
    the docs allow): the badge class names it and the badge image is that file."""
    host = "dm.example.org"  # a URL must have a real host name ("testserver" has none)
    settings.ALLOWED_HOSTS = [host]
    admin = world.client("platform_admin_p1")
    uploaded = admin.post(
        "/api/credentials/orgs/p1/users/platform_admin_p1/images/",
        {"image": upload(png_bytes((40, 20)))},
        format="multipart",
        HTTP_HOST=host,
    )
    assert uploaded.status_code == 201, uploaded.content
    url = uploaded.json()["image"]
    path = url.removeprefix(f"http://{host}/media/")
    body = {"name": "Own", "iconImage": url if spelling == "url" else path}
    response = admin.post(list_url("platform_admin_p1"), body, format="json", HTTP_HOST=host)
    assert response.status_code == 201, response.content
    entity_id = response.json()["result"]["entityId"]
    client = APIClient(HTTP_HOST=host)
    assert client.get(f"/ob/v2/badges/{entity_id}").json()["image"] == url
    image = client.get(f"/ob/v2/badges/{entity_id}/image")
    assert image.status_code == 200
    assert Image.open(io.BytesIO(image.content)).size == (40, 20)  # not the 256 px default


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"name": ["This field is required."]}),
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"name": 3}, {"name": ["Not a valid string."]}),
        ({"name": "x" * 256}, {"name": ["Ensure this field has no more than 255 characters."]}),
        ({"name": "B", "issuer": "nope"}, {"issuer": ["No issuer 'nope' on this platform."]}),
        (
            {"name": "B", "issuer": "p2-issuer"},
            {"issuer": ["No issuer 'p2-issuer' on this platform."]},
        ),
        ({"name": "B", "entityId": "has space"}, {"entityId": None}),
        ({"name": "B", "entityId": "issuers"}, {"entityId": None}),
        (
            {"name": "B", "entityId": "taken"},
            {"entityId": ["A credential with this entityId already exists."]},
        ),
        ({"name": "B", "credentialType": ""}, {"credentialType": None}),
        ({"name": "B", "signal": None}, {"signal": None}),
        ({"name": "B", "criteriaUrl": "javascript:x"}, {"criteriaUrl": None}),
        ({"name": "B", "iconImage": "javascript:alert(1)"}, {"iconImage": None}),
        ({"name": "B", "thumbnailImage": "uploaded_images/p2/x.png"}, {"thumbnailImage": None}),
        ({"name": "B", "tags": "a"}, {"tags": None}),
        ({"name": "B", "tags": [1]}, {"tags": None}),
        ({"name": "B", "tags": ["x"] * 101}, {"tags": None}),
        ({"name": "B", "metadata": []}, {"metadata": ["Must be a JSON object."]}),
        ({"name": "B", "metadata": None}, {"metadata": None}),
        ({"name": "B", "metadata": {"a": "x" * 70000}}, {"metadata": None}),
        ({"name": "B", "expires": {"amount": 0, "duration": "days"}}, {"expires": None}),
        ({"name": "B", "expires": {"amount": 1, "duration": "hours"}}, {"expires": None}),
        ({"name": "B", "expires": {"amount": True, "duration": "days"}}, {"expires": None}),
        ({"name": "B", "expires": {"amount": "1", "duration": "days"}}, {"expires": None}),
        ({"name": "B", "expires": {"amount": 1}}, {"expires": None}),
        ({"name": "B", "expires": {"amount": 1, "duration": "days", "x": 1}}, {"expires": None}),
        ({"name": "B", "expires": 5}, {"expires": None}),
        (
            {"name": "B", "expires": {"amount": 101, "duration": "years"}},
            {"expires": ["At most 100 years."]},
        ),
        ({"name": "B", "courses": "course-v1:acme+c1+2026"}, {"courses": None}),
        (
            {"name": "B", "courses": ["course-v1:acme+c1+2026", "nope", "course-v1:other+c9+2026"]},
            {
                "courses": [
                    "Unknown course keys on this platform: 'nope', 'course-v1:other+c9+2026'."
                ]
            },
        ),
        (
            {"name": "B", "programs": ["nope"]},
            {"programs": ["Unknown program keys on this platform: 'nope'."]},
        ),
        (
            {"name": "B", "pathways": ["nope"]},
            {"pathways": ["Unknown pathway keys on this platform: 'nope'."]},
        ),
        ({"name": "B", "public": "maybe"}, {"public": None}),
    ],
)
def test_create_refuses_bad_fields(world, issuer, catalog, body, errors):
    IssuerFactory(platform=world.p2, entity_id="p2-issuer")
    CredentialFactory(issuer=issuer, entity_id="taken")
    before = snapshot()
    response = create(world, body)
    assert response.status_code == 400, response.content
    result = response.json()["result"]
    assert set(result) == set(errors)
    for field, messages in errors.items():
        if messages is not None:
            assert result[field] == messages
    assert response.json()["status"]["success"] is False
    assert snapshot() == before


def test_create_without_any_issuer_is_400(world):
    response = create(world, {"name": "B"})
    message = "This platform has no issuer yet: create one first."
    assert (response.status_code, response.json()) == (
        400,
        failed({"issuer": [message]}, f"issuer: {message}"),
    )


def test_create_with_a_non_object_body_is_400(world, issuer):
    assert create(world, ["x"]).status_code == 400
    assert not Credential.objects.exists()


def test_duplicate_keys_are_linked_once(world, issuer, catalog):
    key = "course-v1:acme+c1+2026"
    response = create(world, {"name": "B", "courses": [key, key]})
    assert response.json()["result"]["courses"] == [key]


def test_dm_admin_creates_for_itself(world, issuer):
    response = create(world, {"name": "B"}, role="dm_admin")
    assert response.status_code == 201
    assert Credential.objects.get().created_by == world.users["dm_admin"]


# Detail -----------------------------------------------------------------------------


@pytest.fixture
def badge(world, issuer, catalog):
    credential = CredentialFactory(
        issuer=issuer,
        entity_id="badge",
        metadata={"a": 1, "b": 2},
        tags=["x"],
        expires_amount=30,
        expires_duration="days",
    )
    CredentialItemFactory(credential=credential, kind="course", key="course-v1:acme+c1+2026")
    CredentialItemFactory(credential=credential, kind="program", key="program-v1:acme+p1+run")
    SignatoryFactory(
        issuer=issuer, credential=credential, name="Prof", title="Chair", signature_image=""
    )
    return credential


@pytest.mark.parametrize("slash", ["", "/"])
def test_get_detail(world, badge, slash):
    response = world.client("learner_p1").get(detail_url("badge", slash=slash))
    assert response.status_code == 200
    assert response.json() == ok(credential_json(badge))
    result = response.json()["result"]
    assert result["signatories"] == [
        {"name": "Jane Doe", "title": "Dean", "signature": SIGNATURE},
        {"name": "Prof", "title": "Chair", "signature": ""},
    ]
    assert (result["courses"], result["programs"], result["pathways"]) == (
        ["course-v1:acme+c1+2026"],
        ["program-v1:acme+p1+run"],
        [],
    )
    assert result["expires"] == {"amount": 30, "duration": "days"}


@pytest.mark.parametrize("slash", ["", "/"])
def test_put_is_partial_merges_metadata_and_replaces_links_sent(world, badge, slash):
    body = {
        "name": "Renamed",
        "metadata": {"b": 3, "c": 4},
        "courses": ["course-v1:acme+c2+2026"],
        "expires": None,
    }
    response = world.client("platform_admin_p1").put(
        detail_url("badge", "platform_admin_p1", slash=slash), body, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == ok(credential_json(badge), "Updated")
    result = response.json()["result"]
    assert result["name"] == "Renamed"
    assert result["metadata"] == {"a": 1, "b": 3, "c": 4}
    assert result["courses"] == ["course-v1:acme+c2+2026"]
    assert result["programs"] == ["program-v1:acme+p1+run"]  # not sent: kept
    assert (result["expires"], result["tags"]) == (None, ["x"])


def test_put_with_aliases_and_emptying_links(world, badge):
    body = {"criteria_text": "New criteria", "issuing_signal": "X", "programs": []}
    response = world.client("dm_admin").put(detail_url("badge", "dm_admin"), body, format="json")
    result = response.json()["result"]
    assert (result["criteriaNarrative"], result["signal"], result["programs"]) == (
        "New criteria",
        "X",
        [],
    )


def test_put_changes_the_issuer_within_the_platform(world, badge):
    other = IssuerFactory(platform=world.p1, entity_id="other")
    url = detail_url("badge", "platform_admin_p1")
    response = world.client("platform_admin_p1").put(url, {"issuer": "other"}, format="json")
    result = response.json()["result"]
    assert (result["issuer"], result["issuerDetails"]) == ("other", issuer_json(other))
    # The credential's own signatory moved with it; the old issuer's stayed behind.
    assert result["signatories"] == [{"name": "Prof", "title": "Chair", "signature": ""}]
    assert Signatory.objects.get(name="Prof").issuer == other


def test_put_ignores_entity_id(world, badge):
    url = detail_url("badge", "platform_admin_p1")
    response = world.client("platform_admin_p1").put(url, {"entityId": "new"}, format="json")
    assert response.status_code == 200
    assert Credential.objects.get().entity_id == "badge"


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"metadata": {"a": "x" * 70000}},
        {"metadata": "x"},
        {"courses": ["nope"]},
        {"issuer": "nope"},
        {"iconImage": "uploaded_images/p2/x.png"},
        {"icon_image": "https://x.org/a.png", "iconImage": "https://x.org/a.png"},
    ],
)
def test_put_refusals_change_nothing(world, badge, body):
    before = snapshot()
    url = detail_url("badge", "platform_admin_p1")
    response = world.client("platform_admin_p1").put(url, body, format="json")
    assert response.status_code == 400
    assert snapshot() == before


def test_put_merged_metadata_over_the_bound_is_400(world, badge, settings):
    settings.IBL_DATA_MANAGER = {"JSON_MAX_BYTES": 40}
    Credential.objects.filter(pk=badge.pk).update(metadata={"a": "x" * 20})
    before = snapshot()
    url = detail_url("badge", "platform_admin_p1")
    response = world.client("platform_admin_p1").put(
        url, {"metadata": {"b": "y" * 20}}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["result"]) == ["metadata"]
    assert snapshot() == before


@pytest.mark.parametrize("slash", ["", "/"])
def test_delete(world, badge, slash):
    AssertionFactory(credential=badge, revoked=True)
    AssertionFactory(credential=badge, expires=timezone.now() - dt.timedelta(days=1))
    AssertionFactory(credential=badge, superseded=True)
    response = world.client("platform_admin_p1").delete(
        detail_url("badge", "platform_admin_p1", slash=slash)
    )
    assert (response.status_code, response.json()) == (
        200,
        {"status": {"success": True, "description": "Deleted"}},
    )
    assert not Credential.objects.exists()
    assert not CredentialItem.objects.exists()
    assert list(Signatory.objects.values_list("name", flat=True)) == ["Jane Doe"]


@pytest.mark.parametrize(
    "expires", [None, timezone.now() + dt.timedelta(days=1)], ids=["never", "future"]
)
def test_delete_with_active_assertions_is_409_and_changes_nothing(world, badge, expires):
    AssertionFactory(credential=badge, expires=expires)
    before = snapshot()
    response = world.client("platform_admin_p1").delete(detail_url("badge", "platform_admin_p1"))
    assert (response.status_code, response.json()) == (
        409,
        failed({"detail": HAS_ASSERTIONS}, HAS_ASSERTIONS),
    )
    assert snapshot() == before


# List -------------------------------------------------------------------------------


def test_empty_list(world):
    response = world.client("learner_p1").get(list_url())
    assert (response.status_code, response.json()) == (200, page([]))


def test_list_is_newest_first_and_scoped(world, issuer):
    first = CredentialFactory(issuer=issuer)
    second = CredentialFactory(issuer=issuer)
    CredentialFactory(issuer=IssuerFactory(platform=world.p2))
    response = world.client("learner_p1").get(list_url())
    assert response.json() == page([credential_json(second), credential_json(first)])


@pytest.fixture
def twelve(world, issuer):
    return [CredentialFactory(issuer=issuer, name=f"Badge {n:02d}") for n in range(12)]


@pytest.mark.parametrize(
    ("query", "indexes", "next_query", "previous_query", "page_number", "num_pages"),
    [
        ("", list(range(11, 1, -1)), "page=2", None, 1, 2),
        ("page=2", [1, 0], None, "", 2, 2),
        ("page_size=5&page=2", [6, 5, 4, 3, 2], "page=3&page_size=5", "page_size=5", 2, 3),
        ("page_size=500", list(range(11, -1, -1)), None, None, 1, 1),
    ],
)
def test_pagination(
    world, twelve, query, indexes, next_query, previous_query, page_number, num_pages
):
    url = list_url()
    response = world.client("learner_p1").get(f"{url}?{query}")

    def link(q):
        if q is None:
            return None
        return f"{BASE}{url}?{q}" if q else f"{BASE}{url}"

    assert response.json() == page(
        [credential_json(twelve[n]) for n in indexes],
        count=12,
        next=link(next_query),
        previous=link(previous_query),
        page_number=page_number,
        num_pages=num_pages,
    )


def test_page_sizes_come_from_the_settings_and_are_reported(world, twelve, settings):
    """``max_page_size`` in the answer is the maximum in force, as the settings table of
    the docs says (the list reported a fixed 100 whatever was configured)."""
    settings.IBL_DATA_MANAGER = {"CREDENTIAL_LIST_PAGE_SIZE": 3, "CREDENTIAL_LIST_MAX_PAGE_SIZE": 5}
    client = world.client("learner_p1")
    first = client.get(list_url()).json()["result"]
    assert (len(first["data"]), first["num_pages"], first["max_page_size"]) == (3, 4, 5)
    clamped = client.get(f"{list_url()}?page_size=500").json()["result"]
    assert (len(clamped["data"]), clamped["num_pages"], clamped["max_page_size"]) == (5, 3, 5)
    settings.IBL_DATA_MANAGER = {}
    default = client.get(list_url()).json()["result"]
    assert (len(default["data"]), default["max_page_size"]) == (10, 100)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("page=0", "page", "A positive integer is required."),
        ("page=x", "page", "A positive integer is required."),
        ("page_size=0", "page_size", "A positive integer is required."),
        ("page_size=-3", "page_size", "A positive integer is required."),
        ("page_size=1.5", "page_size", "A positive integer is required."),
    ],
)
def test_bad_page_values_are_400(world, issuer, query, field, message):
    response = world.client("learner_p1").get(f"{list_url()}?{query}")
    assert (response.status_code, response.json()) == (
        400,
        failed({field: [message]}, f"{field}: {message}"),
    )


def test_page_past_the_end_is_404(world, twelve):
    response = world.client("learner_p1").get(f"{list_url()}?page=3")
    assert (response.status_code, response.json()) == (
        404,
        failed({"detail": "Invalid page."}, "Invalid page."),
    )


def test_search_filters_and_platform_org(world, issuer, catalog):
    python = CredentialFactory(issuer=issuer, name="Python basics")
    data = CredentialFactory(issuer=issuer, name="Other", description="Learn PYTHON data")
    CredentialFactory(issuer=issuer, name="Unrelated")
    CredentialItemFactory(credential=python, kind="course", key="course-v1:acme+c1+2026")
    CredentialItemFactory(credential=data, kind="program", key="program-v1:acme+p1+run")
    CredentialItemFactory(credential=data, kind="pathway", key="data-analyst")
    client = world.client("learner_p1")

    def names(query):
        response = client.get(f"{list_url()}?{query}")
        assert response.status_code == 200, response.content
        return [item["name"] for item in response.json()["result"]["data"]]

    assert names("search=python") == ["Other", "Python basics"]
    assert names("course=course-v1:acme%2Bc1%2B2026") == ["Python basics"]
    assert names("program=program-v1:acme%2Bp1%2Brun") == ["Other"]
    assert names("pathway=data-analyst") == ["Other"]
    assert names("pathway=nope") == []
    assert names("platform_org=org-one&search=python") == ["Other", "Python basics"]
    assert names("platform_org=p1") == ["Unrelated", "Other", "Python basics"]
    response = client.get(f"{list_url()}?platform_org=org-two")
    message = "platform_org and the path name different platforms."
    assert (response.status_code, response.json()) == (
        400,
        failed({"platform_org": [message]}, f"platform_org: {message}"),
    )
    assert client.get(f"{list_url()}?search=a%00").status_code == 400


def test_hundred_credentials_in_a_fixed_number_of_queries(
    world, issuer, django_assert_max_num_queries
):
    def fill(count):
        for _ in range(count):
            credential = CredentialFactory(issuer=IssuerFactory(platform=world.p1))
            SignatoryFactory(issuer=credential.issuer)
            SignatoryFactory(issuer=credential.issuer, credential=credential)
            CredentialItemFactory(credential=credential)
            CredentialItemFactory(credential=credential, kind="program", key="p")

    client = world.client("platform_admin_p1")
    fill(2)
    url = f"{list_url('platform_admin_p1')}?page_size=100"
    # key, key last_used (once a minute), platform, membership, count, page, items,
    # issuer-wide signatories, the credentials' own signatories
    with django_assert_max_num_queries(9):
        assert client.get(url).json()["result"]["count"] == 2
    fill(98)
    with django_assert_max_num_queries(9):
        result = client.get(url).json()["result"]
    assert (result["count"], len(result["data"])) == (100, 100)
    assert all(len(item["signatories"]) == 2 for item in result["data"])
    assert all(len(item["courses"]) == 1 for item in result["data"])
    with django_assert_max_num_queries(9):
        course_page = client.get(
            f"{course_credentials_url('platform_admin_p1')}?page_size=100"
        ).json()
    assert len(course_page["result"]["results"]) == 100


# course-credentials ---------------------------------------------------------------------


def test_course_credentials_lists_those_linked_to_a_course(world, issuer):
    with_course = CredentialFactory(issuer=issuer)
    CredentialItemFactory(credential=with_course, kind="course")
    CredentialItemFactory(credential=with_course, kind="course")
    program_only = CredentialFactory(issuer=issuer)
    CredentialItemFactory(credential=program_only, kind="program")
    private = CredentialFactory(issuer=issuer, public=False)
    CredentialItemFactory(credential=private, kind="course")
    response = world.client("learner_p1").get(course_credentials_url())
    assert response.json() == page([credential_json(with_course)], key="results")
    response = world.client("platform_admin_p1").get(course_credentials_url("platform_admin_p1"))
    assert response.json() == page(
        [credential_json(private), credential_json(with_course)], key="results"
    )


def test_course_credentials_pages(world, issuer):
    for _ in range(3):
        CredentialItemFactory(credential=CredentialFactory(issuer=issuer))
    url = course_credentials_url()
    result = world.client("learner_p1").get(f"{url}?page_size=2").json()["result"]
    assert (len(result["results"]), result["count"], result["num_pages"]) == (2, 3, 2)
    assert result["next"] == f"{BASE}{url}?page=2&page_size=2"
    response = world.client("learner_p1").get(f"{url}?page_size=x")
    assert response.status_code == 400


# Races ------------------------------------------------------------------------------

TAKEN = "A credential with this entityId already exists."


def test_entity_id_race_lost_at_insert_is_400_not_500(world, issuer, monkeypatch):
    from ibl_credentials.credentials.serializers import CredentialWriteSerializer

    CredentialFactory(issuer=issuer, entity_id="raced")
    monkeypatch.setattr(CredentialWriteSerializer, "validate_entityId", lambda self, value: value)
    response = create(world, {"name": "B", "entityId": "raced"})
    assert (response.status_code, response.json()) == (
        400,
        failed({"entityId": [TAKEN]}, f"entityId: {TAKEN}"),
    )
    assert Credential.objects.count() == 1


def test_generated_entity_id_collision_is_retried(world, issuer, monkeypatch):
    from ibl_credentials.credentials import services

    CredentialFactory(issuer=issuer, entity_id="collides")
    generated = iter(["collides", "fresh"])
    monkeypatch.setattr(services, "generate_entity_id", lambda: next(generated))
    response = create(world, {"name": "B", "courses": []})
    assert (response.status_code, response.json()["result"]["entityId"]) == (201, "fresh")


def run_together(count: int, work) -> list:
    """``work()`` in ``count`` threads started at once; their results."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(count)
    results: list = []

    def worker():
        try:
            barrier.wait()
            results.append(work())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


postgres_only = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite in-process threads serialize on one file; run with PostgreSQL",
)


@pytest.mark.django_db(transaction=True)
@postgres_only
def test_concurrent_creates_of_one_entity_id_give_one_201(world, issuer, monkeypatch):
    from ibl_credentials.credentials.serializers import CredentialWriteSerializer

    monkeypatch.setattr(CredentialWriteSerializer, "validate_entityId", lambda self, value: value)
    statuses = run_together(6, lambda: create(world, {"name": "B", "entityId": "same"}).status_code)
    assert sorted(statuses) == [201] + [400] * 5
    assert Credential.objects.filter(entity_id="same").count() == 1


@pytest.mark.django_db(transaction=True)
@postgres_only
def test_concurrent_signatories_of_one_name_give_one_201(world, issuer):
    body = {"name": "Same", "title": "Dean", "signature": SIGNATURE}
    url = "/api/credentials/orgs/p1/users/platform_admin_p1/issuers/authority/"
    statuses = run_together(
        6, lambda: world.client("platform_admin_p1").post(url, body, format="json").status_code
    )
    assert sorted(statuses) == [200] * 5 + [201]
    assert Signatory.objects.filter(name="Same").count() == 1
