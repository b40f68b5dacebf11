"""GET/POST /api/credentials/orgs/{org}/users/{user_id}/issuers/ (contract ``credentials.md``)."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection, connections

from ibl_credentials.issuers import services
from ibl_credentials.issuers.serializers import IssuerCreateSerializer
from ibl_credentials.models import Issuer
from tests.conftest import ROLES
from tests.credentials.test_credentials_images import images_url
from tests.support.credentials_factories import IssuerFactory, SignatoryFactory, png_bytes, upload

pytestmark = pytest.mark.django_db

BASE = "http://testserver"
TAKEN = "An issuer with this entityId already exists."
ADMINS_ONLY = "Only platform admins may create issuers."
BAD_URL = "Enter a valid http or https URL."


def issuers_url(user: str = "learner_p1", org: str = "p1") -> str:
    return f"/api/credentials/orgs/{org}/users/{user}/issuers/"


def ok(result, description: str = "Ok") -> dict:
    return {"status": {"success": True, "description": description}, "result": result}


def failed(result: dict, description: str) -> dict:
    return {"status": {"success": False, "description": description}, "result": result}


def issuer_json(issuer: Issuer) -> dict:
    """The exact issuer object, built from the database."""
    issuer.refresh_from_db()
    return {
        "name": issuer.name,
        "org": issuer.platform.key,
        "entityId": issuer.entity_id,
        "signatories": {
            s.name: s.title
            for s in issuer.signatories.filter(credential=None).order_by("order", "id")
        },
        "url": issuer.url,
        "iconImage": issuer.icon_image,
        "email": issuer.email,
        "allowed_template_tags": issuer.allowed_template_tags,
    }


def page(data: list, count: int | None = None, **overrides) -> dict:
    result = {
        "next": None,
        "previous": None,
        "count": len(data) if count is None else count,
        "data": data,
        "num_pages": 1,
        "page_number": 1,
        "max_page_size": 1000,
    }
    return ok({**result, **overrides})


def create(world, body, role: str = "platform_admin_p1", user: str | None = None, **kwargs):
    return world.client(role).post(issuers_url(user or role), body, format="json", **kwargs)


# Access -----------------------------------------------------------------------------

#  role:                 GET own  POST own  GET for learner_p1  POST for learner_p1
EXPECTED = {
    "anonymous":          (401,   401,      401,                401),
    "outsider":           (403,   403,      403,                403),
    "learner_p1":         (200,   403,      200,                403),
    "learner_p2":         (403,   403,      403,                403),
    "department_admin":   (200,   403,      403,                403),
    "platform_admin_p1":  (200,   201,      200,                201),
    "platform_admin_p2":  (403,   403,      403,                403),
    "dm_admin":           (200,   201,      200,                201),
}  # fmt: skip
OPERATIONS = ("get-own", "post-own", "get-for-learner", "post-for-learner")


def test_matrix_covers_every_role():
    assert set(EXPECTED) == set(ROLES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_access_matrix(world, role, operation):
    user = role if operation.endswith("own") else "learner_p1"
    client = world.client(role)
    if operation.startswith("get"):
        response = client.get(issuers_url(user))
    else:
        response = client.post(issuers_url(user), {"name": "Acme"}, format="json")
    assert response.status_code == EXPECTED[role][OPERATIONS.index(operation)], response.content
    assert response.json()["status"]["success"] is (response.status_code < 400)
    assert Issuer.objects.exists() is (response.status_code == 201)


def test_401_in_the_envelope_keeps_the_challenge(world):
    response = world.client("anonymous").get(issuers_url())
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Token"
    message = "Authentication credentials were not provided."
    assert response.json() == failed({"detail": message}, message)
    bad_key = world.client("anonymous")
    bad_key.credentials(HTTP_AUTHORIZATION="Api-Token " + "0" * 64)
    assert bad_key.get(issuers_url()).json() == failed(
        {"detail": "Invalid API key."}, "Invalid API key."
    )


@pytest.mark.parametrize(
    ("role", "user", "method", "message"),
    [
        ("outsider", "outsider", "get", "You are not a member of this platform."),
        ("learner_p2", "learner_p2", "post", "You are not a member of this platform."),
        ("platform_admin_p2", "nobody", "get", "You are not a member of this platform."),
        (
            "learner_p1",
            "platform_admin_p1",
            "get",
            "The user in the path must be you, unless you are an admin of this platform.",
        ),
        (
            "learner_p1",
            "nobody",
            "get",
            "The user in the path must be you, unless you are an admin of this platform.",
        ),
        ("learner_p1", "learner_p1", "post", "Only platform admins may create issuers."),
        (
            "department_admin",
            "department_admin",
            "post",
            "Only platform admins may create issuers.",
        ),
    ],
)
def test_403_bodies(world, role, user, method, message):
    client = world.client(role)
    if method == "get":
        response = client.get(issuers_url(user))
    else:
        response = client.post(issuers_url(user), {"name": "Acme"}, format="json")
    assert response.status_code == 403
    assert response.json() == failed({"detail": message}, message)


@pytest.mark.parametrize("user", ["nobody", "424242", "learner_p2", "outsider"])
@pytest.mark.parametrize("role", ["platform_admin_p1", "dm_admin"])
def test_admin_naming_an_unknown_or_foreign_user_gets_404(world, role, user):
    message = f"User {user!r} not found on this platform."
    for response in (
        world.client(role).get(issuers_url(user)),
        world.client(role).post(issuers_url(user), {"name": "Acme"}, format="json"),
    ):
        assert response.status_code == 404
        assert response.json() == failed({"detail": message}, message)
    assert not Issuer.objects.exists()


def test_unknown_platform_is_404_in_the_envelope(world):
    message = "Platform 'nope' not found."
    for role in ("learner_p1", "dm_admin"):
        response = world.client(role).get(issuers_url(role, "nope"))
        assert (response.status_code, response.json()) == (
            404,
            failed({"detail": message}, message),
        )
    assert world.client("anonymous").get(issuers_url("x", "nope")).status_code == 401


def test_path_user_by_numeric_id_and_username(world):
    learner = world.users["learner_p1"]
    client = world.client("learner_p1")
    assert client.get(issuers_url(str(learner.pk))).status_code == 200
    assert client.get(issuers_url("learner_p1")).status_code == 200
    other = world.users["platform_admin_p1"]
    assert client.get(issuers_url(str(other.pk))).status_code == 403
    admin = world.client("platform_admin_p1")
    assert admin.get(issuers_url(str(learner.pk))).status_code == 200


def test_method_not_allowed_is_enveloped(world):
    response = world.client("platform_admin_p1").put(issuers_url("platform_admin_p1"), {})
    message = 'Method "PUT" not allowed.'
    assert (response.status_code, response.json()) == (405, failed({"detail": message}, message))


# List -------------------------------------------------------------------------------


def test_empty_list(world):
    response = world.client("learner_p1").get(issuers_url())
    assert (response.status_code, response.json()) == (200, page([]))


def test_list_is_exact_ordered_and_scoped_to_the_platform(world):
    acme = IssuerFactory(
        platform=world.p1,
        name="Acme Academy",
        url="https://acme.org",
        email="badges@acme.org",
        icon_image="uploaded_images/p1/icon.png",
        allowed_template_tags=["course_name"],
    )
    SignatoryFactory(issuer=acme, name="John Roe", title="Registrar", order=2)
    SignatoryFactory(issuer=acme, name="Jane Doe", title="Dean", order=1)
    beta_2 = IssuerFactory(platform=world.p1, name="Beta")
    beta_1 = Issuer.objects.get(pk=IssuerFactory(platform=world.p1, name="Beta").pk)
    IssuerFactory(platform=world.p2, name="Another tenant")
    response = world.client("learner_p1").get(issuers_url())
    expected = [issuer_json(issuer) for issuer in (acme, beta_2, beta_1)]
    assert response.json() == page(expected)
    assert expected[0]["signatories"] == {"Jane Doe": "Dean", "John Roe": "Registrar"}
    assert list(expected[0]["signatories"]) == ["Jane Doe", "John Roe"]
    assert expected[1] == {
        "name": "Beta",
        "org": "p1",
        "entityId": beta_2.entity_id,
        "signatories": {},
        "url": "",
        "iconImage": "",
        "email": "",
        "allowed_template_tags": None,
    }


def test_org_value_names_the_same_platform(world):
    IssuerFactory(platform=world.p1, name="Acme")
    response = world.client("learner_p1").get(issuers_url(org="org-one"))
    assert [item["org"] for item in response.json()["result"]["data"]] == ["p1"]


def test_q_is_a_case_insensitive_name_substring(world):
    IssuerFactory(platform=world.p1, name="Acme Academy")
    IssuerFactory(platform=world.p1, name="Old ACME labs")
    IssuerFactory(platform=world.p1, name="Other")
    IssuerFactory(platform=world.p2, name="acme on p2")
    response = world.client("learner_p1").get(issuers_url() + "?q=aCmE")
    names = [item["name"] for item in response.json()["result"]["data"]]
    assert names == ["Acme Academy", "Old ACME labs"]
    assert world.client("learner_p1").get(issuers_url() + "?q=%25").json() == page([])


def test_q_with_a_null_character_is_400(world):
    response = world.client("learner_p1").get(issuers_url() + "?q=a%00")
    assert response.status_code == 400
    assert response.json() == failed(
        {"q": ["Null characters are not allowed."]}, "q: Null characters are not allowed."
    )


@pytest.fixture
def seven(world):
    return [IssuerFactory(platform=world.p1, name=f"Issuer {n}") for n in range(7)]


@pytest.mark.parametrize(
    ("query", "names", "next_query", "previous_query", "page_number"),
    [
        ("limit=3", [0, 1, 2], "limit=3&offset=3", None, 1),
        ("limit=3&offset=3", [3, 4, 5], "limit=3&offset=6", "limit=3", 2),
        ("limit=3&offset=6", [6], None, "limit=3&offset=3", 3),
        ("limit=3&offset=4", [4, 5, 6], None, "limit=3&offset=1", 2),
        ("limit=3&offset=2", [2, 3, 4], "limit=3&offset=5", "limit=3", 1),
        ("limit=3&offset=100", [], None, "limit=3&offset=97", 34),
        ("offset=5", [5, 6], None, "limit=50", 1),
        ("limit=5000", list(range(7)), None, None, 1),
    ],
)
def test_pagination_arithmetic(world, seven, query, names, next_query, previous_query, page_number):
    url = issuers_url()
    response = world.client("learner_p1").get(f"{url}?{query}")
    limit = int(dict(p.split("=") for p in query.split("&")).get("limit", 50))
    limit = min(limit, 1000)
    assert response.json() == page(
        [issuer_json(seven[n]) for n in names],
        count=7,
        next=f"{BASE}{url}?{next_query}" if next_query else None,
        previous=f"{BASE}{url}?{previous_query}" if previous_query else None,
        num_pages=-(-7 // limit),
        page_number=page_number,
    )


def test_links_keep_the_other_parameters(world, seven):
    url = issuers_url()
    result = world.client("learner_p1").get(f"{url}?q=issuer&limit=2&offset=2").json()["result"]
    assert result["next"] == f"{BASE}{url}?limit=2&offset=4&q=issuer"
    assert result["previous"] == f"{BASE}{url}?limit=2&q=issuer"


def test_limit_above_the_maximum_is_clamped(world, seven, settings):
    settings.IBL_DATA_MANAGER = {"CREDENTIALS_MAX_PAGE_SIZE": 5}
    url = issuers_url()
    result = world.client("learner_p1").get(f"{url}?limit=50").json()["result"]
    assert len(result["data"]) == 5
    assert (result["max_page_size"], result["num_pages"]) == (5, 2)
    assert result["next"] == f"{BASE}{url}?limit=5&offset=5"


def test_default_limit_is_50(world):
    for n in range(55):
        IssuerFactory(platform=world.p1, name=f"Issuer {n:02d}")
    result = world.client("learner_p1").get(issuers_url()).json()["result"]
    assert (len(result["data"]), result["count"], result["num_pages"]) == (50, 55, 2)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("limit=0", "limit", "A positive integer is required."),
        ("limit=-1", "limit", "A positive integer is required."),
        ("limit=abc", "limit", "A positive integer is required."),
        ("limit=1.5", "limit", "A positive integer is required."),
        ("limit=", "limit", "A positive integer is required."),
        ("offset=-1", "offset", "A non-negative integer is required."),
        ("offset=x", "offset", "A non-negative integer is required."),
    ],
)
def test_bad_limit_or_offset_is_400_in_the_envelope(world, query, field, message):
    response = world.client("learner_p1").get(f"{issuers_url()}?{query}")
    assert response.status_code == 400
    assert response.json() == failed({field: [message]}, f"{field}: {message}")


def test_list_queries_do_not_grow_with_rows(world, django_assert_max_num_queries):
    def fill(count):
        for _ in range(count):
            issuer = IssuerFactory(platform=world.p1)
            SignatoryFactory(issuer=issuer)
            SignatoryFactory(issuer=issuer)

    client = world.client("learner_p1")
    fill(3)
    # key, key last_used, platform, membership, count, page, signatories of the page
    with django_assert_max_num_queries(7):
        assert client.get(issuers_url()).json()["result"]["count"] == 3
    fill(30)
    with django_assert_max_num_queries(7):
        result = client.get(issuers_url()).json()["result"]
    assert (result["count"], len(result["data"])) == (33, 33)
    assert all(len(item["signatories"]) == 2 for item in result["data"])


# Create -----------------------------------------------------------------------------


def test_create_with_every_field(world):
    body = {
        "name": "Acme Academy",
        "entityId": "acme-academy_1",
        "url": "https://acme.org/",
        "email": "badges@acme.org",
        "iconImage": "https://acme.org/icon.png",
        "allowed_template_tags": ["course_name", "grade"],
    }
    response = create(world, body)
    assert response.status_code == 201
    issuer = Issuer.objects.get()
    assert response.json() == ok(
        {
            "name": "Acme Academy",
            "org": "p1",
            "entityId": "acme-academy_1",
            "signatories": {},
            "url": "https://acme.org/",
            "iconImage": "https://acme.org/icon.png",
            "email": "badges@acme.org",
            "allowed_template_tags": ["course_name", "grade"],
        },
        "Created",
    )
    assert (issuer.platform, issuer.created_by) == (world.p1, world.users["platform_admin_p1"])


def test_create_minimal_generates_the_entity_id(world):
    response = create(world, {"name": "Acme"})
    assert response.status_code == 201
    result = response.json()["result"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", result["entityId"])
    assert result == issuer_json(Issuer.objects.get())
    assert result | {"entityId": "x"} == {
        "name": "Acme",
        "org": "p1",
        "entityId": "x",
        "signatories": {},
        "url": "",
        "iconImage": "",
        "email": "",
        "allowed_template_tags": None,
    }


def test_nulls_for_optional_fields_mean_unset(world):
    body = {"name": "Acme", "entityId": None, "url": None, "email": None, "iconImage": None}
    result = create(world, {**body, "allowed_template_tags": None}).json()["result"]
    assert (result["url"], result["email"], result["iconImage"]) == ("", "", "")
    assert result["allowed_template_tags"] is None
    assert result["entityId"]


@pytest.mark.parametrize(
    "icon", ["uploaded_images/p1/0a1b.png", "/media/uploaded_images/p1/x.webp", "http://a.io/i"]
)
def test_icon_image_accepts_urls_and_media_paths(world, icon):
    response = create(world, {"name": "Acme", "iconImage": icon})
    assert (response.status_code, response.json()["result"]["iconImage"]) == (201, icon)


FOREIGN_ICON = (
    "Use an http or https URL, or an image uploaded to this platform "
    "(a path under uploaded_images/p1/)."
)


@pytest.mark.parametrize(
    "icon",
    [
        "uploaded_images/p2/0a1b.png",  # another tenant's upload
        "/media/uploaded_images/p2/0a1b.png",
        "http://localhost/media/uploaded_images/p2/0a1b.png",  # its absolute URL
        "HTTPS://LOCALHOST/media/uploaded_images/p2/0a1b.png",
        "http://localhost/media/uploaded_images/p1/%2e%2e/p2/0a1b.png",
        "http://localhost/media/uploaded_images/p1/",
        "uploaded_images/0a1b.png",  # not in any platform's folder
        "uploaded_images/p1",
        "uploaded_images/p10/0a1b.png",  # a folder whose name only starts like p1
        "logos/0a1b.png",  # elsewhere in the media storage
    ],
)
def test_icon_image_of_another_tenant_or_outside_the_uploads_is_refused(world, icon):
    # The test client's "testserver" is no valid URL host: the site is "localhost" here.
    response = create(world, {"name": "Acme", "iconImage": icon}, HTTP_HOST="localhost")
    assert response.status_code == 400
    errors = {"iconImage": [FOREIGN_ICON]}
    assert response.json() == failed(errors, first_error(errors))
    assert not Issuer.objects.exists()


@pytest.mark.parametrize(
    "icon",
    [
        "http://localhost/media/uploaded_images/p1/0a1b.png",
        "https://localhost:8000/media/uploaded_images/p1/sub/0a1b.png",
        "http://cdn.example.org/media/uploaded_images/p2/0a1b.png",  # another site
    ],
)
def test_icon_image_accepts_own_absolute_media_urls_and_other_sites(world, icon):
    response = create(world, {"name": "Acme", "iconImage": icon}, HTTP_HOST="localhost:8000")
    assert (response.status_code, response.json()["result"]["iconImage"]) == (201, icon)


def test_an_uploaded_image_url_is_accepted_as_icon_on_its_platform_only(world):
    client = world.client("platform_admin_p1")
    host = {"HTTP_HOST": "localhost"}
    image = {"image": upload(png_bytes(), "i.png")}
    url = client.post(images_url("platform_admin_p1"), image, **host).json()["image"]
    assert url.startswith("http://localhost/media/uploaded_images/p1/")
    response = create(world, {"name": "Acme", "iconImage": url}, **host)
    assert (response.status_code, response.json()["result"]["iconImage"]) == (201, url)
    path = url.removeprefix("http://localhost/media/")
    assert create(world, {"name": "B", "iconImage": path}).status_code == 201
    # The same URL on p2's issuers: another tenant's media.
    other = world.client("platform_admin_p2").post(
        issuers_url("platform_admin_p2", org="p2"),
        {"name": "C", "iconImage": url},
        format="json",
        **host,
    )
    assert other.status_code == 400
    assert other.json()["result"] == {"iconImage": [FOREIGN_ICON.replace("/p1/", "/p2/")]}


def test_icon_image_under_an_absolute_media_url_must_be_the_platforms(world, settings):
    settings.MEDIA_URL = "https://cdn.example.org/media/"
    theirs = create(
        world, {"name": "A", "iconImage": settings.MEDIA_URL + "uploaded_images/p2/x.png"}
    )
    assert theirs.status_code == 400
    assert theirs.json()["result"] == {"iconImage": [FOREIGN_ICON]}
    ours = create(
        world, {"name": "A", "iconImage": settings.MEDIA_URL + "uploaded_images/p1/x.png"}
    )
    assert ours.status_code == 201


def test_dm_admin_creates_on_the_path_platform_for_a_member(world):
    response = create(world, {"name": "Acme"}, role="dm_admin", user="platform_admin_p1")
    assert response.status_code == 201
    issuer = Issuer.objects.get()
    assert (issuer.platform, issuer.created_by) == (world.p1, world.users["platform_admin_p1"])


def test_created_issuer_is_listed(world):
    created = create(world, {"name": "Acme"}).json()["result"]
    assert world.client("learner_p1").get(issuers_url()).json() == page([created])


ICON_MESSAGE = (
    "Enter an http or https URL, or a path in the media storage "
    "(for example uploaded_images/<platform>/<file>.png)."
)
ENTITY_MESSAGE = "Use only letters, digits, '-' and '_' (a URL-safe identifier)."


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"name": ["This field is required."]}),
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"name": "   "}, {"name": ["This field may not be blank."]}),
        ({"name": None}, {"name": ["This field may not be null."]}),
        ({"name": 123}, {"name": ["Not a valid string."]}),
        ({"name": True}, {"name": ["Not a valid string."]}),
        ({"name": ["a"]}, {"name": ["Not a valid string."]}),
        ({"name": "x" * 256}, {"name": ["Ensure this field has no more than 255 characters."]}),
        ({"name": "a\x00b"}, {"name": ["Null characters are not allowed."]}),
        ({"name": "A", "email": "nope"}, {"email": ["Enter a valid email address."]}),
        ({"name": "A", "email": 5}, {"email": ["Enter a valid email address."]}),
        ({"name": "A", "url": "ftp://acme.org"}, {"url": [BAD_URL]}),
        (
            {"name": "A", "url": "javascript:alert(1)"},
            {"url": [BAD_URL]},
        ),
        ({"name": "A", "url": "acme.org"}, {"url": [BAD_URL]}),
        ({"name": "A", "url": 1}, {"url": ["Not a valid string."]}),
        ({"name": "A", "iconImage": "javascript:alert(1)"}, {"iconImage": [ICON_MESSAGE]}),
        ({"name": "A", "iconImage": "../../etc/passwd"}, {"iconImage": [ICON_MESSAGE]}),
        ({"name": "A", "iconImage": "//evil.org/x.png"}, {"iconImage": [ICON_MESSAGE]}),
        ({"name": "A", "iconImage": "data:image/png;base64,AA=="}, {"iconImage": [ICON_MESSAGE]}),
        (
            {"name": "A", "iconImage": "https://"},
            {"iconImage": [BAD_URL]},
        ),
        (
            {"name": "A", "allowed_template_tags": "course"},
            {"allowed_template_tags": ['Expected a list of items but got type "str".']},
        ),
        (
            {"name": "A", "allowed_template_tags": {"a": 1}},
            {"allowed_template_tags": ['Expected a list of items but got type "dict".']},
        ),
        (
            {"name": "A", "allowed_template_tags": ["ok", 1]},
            {"allowed_template_tags": {"1": ["Not a valid string."]}},
        ),
        (
            {"name": "A", "allowed_template_tags": [""]},
            {"allowed_template_tags": {"0": ["This field may not be blank."]}},
        ),
        (
            {"name": "A", "allowed_template_tags": ["t"] * 101},
            {"allowed_template_tags": ["Ensure this field has no more than 100 elements."]},
        ),
        ({"name": "A", "entityId": "has space"}, {"entityId": [ENTITY_MESSAGE]}),
        ({"name": "A", "entityId": "a/b"}, {"entityId": [ENTITY_MESSAGE]}),
        ({"name": "A", "entityId": ""}, {"entityId": ["This field may not be blank."]}),
        ({"name": "A", "entityId": 7}, {"entityId": ["Not a valid string."]}),
        (
            {"name": "A", "entityId": "x" * 101},
            {"entityId": ["Ensure this field has no more than 100 characters."]},
        ),
    ],
)
def test_field_validation(world, body, errors):
    response = create(world, body)
    assert response.status_code == 400
    assert response.json() == failed(errors, first_error(errors))
    assert not Issuer.objects.exists()


def first_error(errors: dict) -> str:
    """The envelope's description of a single-field error body."""
    field, value = next(iter(errors.items()))
    if isinstance(value, dict):  # list items: {index: [message]}
        index, messages = next(iter(value.items()))
        return f"{field}: {index}: {messages[0]}"
    return f"{field}: {value[0]}"


def test_several_field_errors_are_summarized_on_one_line(world):
    response = create(world, {"name": "", "email": "x"})
    assert response.json() == failed(
        {"name": ["This field may not be blank."], "email": ["Enter a valid email address."]},
        "name: This field may not be blank.; email: Enter a valid email address.",
    )


@pytest.mark.parametrize(
    ("kwargs", "status", "result", "description"),
    [
        (
            {"data": [1, 2], "format": "json"},
            400,
            {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
            "non_field_errors: Invalid data. Expected a dictionary, but got list.",
        ),
        (
            {"data": "name=Acme", "content_type": "application/x-www-form-urlencoded"},
            415,
            {"detail": 'Unsupported media type "application/x-www-form-urlencoded" in request.'},
            'Unsupported media type "application/x-www-form-urlencoded" in request.',
        ),
    ],
)
def test_bad_bodies(world, kwargs, status, result, description):
    response = world.client("platform_admin_p1").post(issuers_url("platform_admin_p1"), **kwargs)
    assert response.status_code == status
    assert response.json() == failed(result, description)


def test_oversized_json_body_is_413_in_the_envelope(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = create(world, {"name": "x" * 200})
    message = "Request body too large: at most 100 bytes are accepted."
    assert response.status_code == 413
    assert response.json() == failed({"detail": message}, message)
    assert not Issuer.objects.exists()


def test_malformed_json_is_400_in_the_envelope(world):
    response = world.client("platform_admin_p1").post(
        issuers_url("platform_admin_p1"), "{nope", content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["status"]["success"] is False
    assert body["status"]["description"] == body["result"]["detail"]
    assert body["result"]["detail"].startswith("JSON parse error")


@pytest.mark.parametrize("owner", ["p1", "p2"])
def test_entity_id_taken_is_400(world, owner):
    IssuerFactory(platform=getattr(world, owner), entity_id="taken")
    response = create(world, {"name": "Acme", "entityId": "taken"})
    assert response.status_code == 400
    assert response.json() == failed({"entityId": [TAKEN]}, f"entityId: {TAKEN}")
    assert Issuer.objects.count() == 1


def test_entity_id_race_lost_at_insert_is_400_not_500(world, monkeypatch):
    # Another request takes the id between our check and our INSERT.
    IssuerFactory(platform=world.p1, entity_id="raced")
    monkeypatch.setattr(IssuerCreateSerializer, "validate_entityId", lambda self, value: value)
    response = create(world, {"name": "Acme", "entityId": "raced"})
    assert response.status_code == 400
    assert response.json() == failed({"entityId": [TAKEN]}, f"entityId: {TAKEN}")
    assert Issuer.objects.count() == 1


def test_generated_entity_id_collision_is_retried(world, monkeypatch):
    IssuerFactory(platform=world.p1, entity_id="collides")
    generated = iter(["collides", "fresh"])
    monkeypatch.setattr(services, "generate_entity_id", lambda: next(generated))
    response = create(world, {"name": "Acme"})
    assert (response.status_code, response.json()["result"]["entityId"]) == (201, "fresh")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite in-process threads serialize on one file; run with PostgreSQL",
)
def test_concurrent_creates_of_one_entity_id_give_one_201_and_400s(world, monkeypatch):
    monkeypatch.setattr(IssuerCreateSerializer, "validate_entityId", lambda self, value: value)
    threads = 6
    barrier = threading.Barrier(threads)
    statuses: list[int] = []

    def worker():
        try:
            barrier.wait()
            response = create(world, {"name": "Acme", "entityId": "same"})
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert sorted(statuses) == [201] + [400] * (threads - 1)
    assert Issuer.objects.filter(entity_id="same").count() == 1
