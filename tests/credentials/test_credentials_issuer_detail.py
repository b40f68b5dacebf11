"""issuers/{entity_id} GET/PUT/DELETE and issuers/authority/ POST
(contract ``credentials-lifecycle.md``: "Issuer detail", "Signatories")."""

from __future__ import annotations

import pytest

from ibl_credentials.models import Credential, Issuer, Signatory
from tests.conftest import ROLES
from tests.credentials.test_credentials_issuers import failed, issuer_json
from tests.support.credentials_factories import CredentialFactory, IssuerFactory, SignatoryFactory

pytestmark = pytest.mark.django_db

DELETED = {"status": {"success": True, "description": "Deleted"}}
NOT_MEMBER = "You are not a member of this platform."
NOT_ADMIN = "Only platform admins may change or delete issuers."
NOT_ADMIN_SIGNATORY = "Only platform admins may add signatories."
HAS_CREDENTIALS = "This issuer still has credentials: delete them first."
ONE_TARGET = "Send at most one of org, entityId and credential."
SIGNATURE = "https://example.org/sign.png"


def issuer_url(entity_id: str, user: str = "learner_p1", org: str = "p1", slash: str = "") -> str:
    return f"/api/credentials/orgs/{org}/users/{user}/issuers/{entity_id}{slash}"


def authority_url(user: str = "platform_admin_p1", org: str = "p1") -> str:
    return f"/api/credentials/orgs/{org}/users/{user}/issuers/authority/"


@pytest.fixture
def acme(world):
    issuer = IssuerFactory(
        platform=world.p1,
        name="Acme",
        entity_id="acme",
        url="https://acme.org",
        email="a@acme.org",
        allowed_template_tags=["course_name"],
    )
    SignatoryFactory(issuer=issuer, name="Jane Doe", title="Dean", signature_image=SIGNATURE)
    return issuer


def snapshot() -> list[tuple]:
    """Every issuer, credential and signatory row, to show that a refusal changed nothing."""
    return [
        list(Issuer.objects.order_by("pk").values_list()),
        list(Credential.objects.order_by("pk").values_list()),
        list(Signatory.objects.order_by("pk").values_list()),
    ]


# Access -----------------------------------------------------------------------------

#  role:                 GET    PUT    DELETE   (own path user, issuer of p1)
EXPECTED = {
    "anonymous":          (401,   401,   401),
    "outsider":           (403,   403,   403),
    "learner_p1":         (200,   403,   403),
    "learner_p2":         (403,   403,   403),
    "department_admin":   (200,   403,   403),
    "platform_admin_p1":  (200,   200,   200),
    "platform_admin_p2":  (403,   403,   403),
    "dm_admin":           (200,   200,   200),
}  # fmt: skip


def test_matrix_covers_every_role():
    assert set(EXPECTED) == set(ROLES)


@pytest.mark.parametrize("department_mode", [False, True])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_access_matrix(world, acme, role, method, department_mode):
    url = issuer_url("acme", user=role)
    if department_mode:
        url += "?department_mode=true"
    client = world.client(role)
    before = snapshot()
    if method == "put":
        response = client.put(url, {"name": "Renamed"}, format="json")
    else:
        response = getattr(client, method)(url)
    expected = EXPECTED[role][["get", "put", "delete"].index(method)]
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["status"]["success"] is False
        assert snapshot() == before
    if (method, expected) == ("delete", 200):
        assert not Issuer.objects.exists()


@pytest.mark.parametrize("method", ["put", "delete"])
def test_403_bodies(world, acme, method):
    response = getattr(world.client("learner_p1"), method)(issuer_url("acme"), {}, format="json")
    assert (response.status_code, response.json()) == (
        403,
        failed({"detail": NOT_ADMIN}, NOT_ADMIN),
    )


@pytest.mark.parametrize("role", ["learner_p2", "platform_admin_p2", "dm_admin"])
def test_another_tenants_issuer_is_404(world, role):
    IssuerFactory(platform=world.p1, entity_id="p1-issuer")
    url = issuer_url("p1-issuer", user=role, org="p2")
    message = "Issuer 'p1-issuer' not found."
    for method in ("get", "put", "delete"):
        response = getattr(world.client(role), method)(url, {"name": "X"}, format="json")
        expected = 404 if role != "learner_p2" or method == "get" else 403
        assert response.status_code == expected
        if expected == 404:
            assert response.json() == failed({"detail": message}, message)
    assert Issuer.objects.get().name != "X"


def test_unknown_issuer_is_404(world):
    message = "Issuer 'nope' not found."
    response = world.client("learner_p1").get(issuer_url("nope"))
    assert (response.status_code, response.json()) == (404, failed({"detail": message}, message))


def test_null_character_in_the_id_is_404(world):
    response = world.client("learner_p1").get(issuer_url("a%00b"))
    assert response.status_code == 404


# GET --------------------------------------------------------------------------------


@pytest.mark.parametrize("slash", ["", "/"])
def test_get_answers_an_array_with_the_issuer(world, acme, slash):
    response = world.client("learner_p1").get(issuer_url("acme", slash=slash))
    assert response.status_code == 200
    assert response.json() == [
        {
            "name": "Acme",
            "org": "p1",
            "entityId": "acme",
            "signatories": {"Jane Doe": "Dean"},
            "url": "https://acme.org",
            "iconImage": "",
            "email": "a@acme.org",
            "allowed_template_tags": ["course_name"],
        }
    ]


@pytest.mark.parametrize("reference", ["p1", "org-one"])
def test_platform_key_or_org_names_the_oldest_issuer(world, acme, reference):
    IssuerFactory(platform=world.p1, name="Younger", entity_id="younger")
    response = world.client("learner_p1").get(issuer_url(reference))
    assert response.json() == [issuer_json(acme)]


def test_platform_key_without_issuers_is_404(world):
    response = world.client("learner_p1").get(issuer_url("p1"))
    assert response.status_code == 404


def test_an_entity_id_wins_over_the_platform_key(world, acme):
    named_p1 = IssuerFactory(platform=world.p1, name="Named p1", entity_id="p1")
    response = world.client("learner_p1").get(issuer_url("p1"))
    assert response.json() == [issuer_json(named_p1)]


@pytest.mark.parametrize("reference", ["acme", "p1"])
def test_get_in_a_fixed_number_of_queries(world, acme, reference, django_assert_max_num_queries):
    for n in range(5):
        SignatoryFactory(issuer=acme, name=f"Signer {n}")
    client = world.client("learner_p1")
    # key, key last_used (once a minute), platform, membership, issuer by entityId,
    # the default issuer (by key only), its signatories
    with django_assert_max_num_queries(7):
        assert len(client.get(issuer_url(reference)).json()[0]["signatories"]) == 6


def test_credential_signatories_are_not_the_issuers(world, acme):
    credential = CredentialFactory(issuer=acme)
    SignatoryFactory(issuer=acme, credential=credential, name="Only here", title="Chair")
    response = world.client("learner_p1").get(issuer_url("acme"))
    assert response.json()[0]["signatories"] == {"Jane Doe": "Dean"}


# PUT --------------------------------------------------------------------------------


@pytest.mark.parametrize("slash", ["", "/"])
def test_put_changes_only_the_fields_sent(world, acme, slash):
    body = {"name": "Acme Academy", "iconImage": "https://acme.org/i.png"}
    response = world.client("platform_admin_p1").put(
        issuer_url("acme", user="platform_admin_p1", slash=slash), body, format="json"
    )
    assert response.status_code == 200
    assert response.json() == [
        {
            "name": "Acme Academy",
            "org": "p1",
            "entityId": "acme",
            "signatories": {"Jane Doe": "Dean"},
            "url": "https://acme.org",
            "iconImage": "https://acme.org/i.png",
            "email": "a@acme.org",
            "allowed_template_tags": ["course_name"],
        }
    ]
    assert response.json() == [issuer_json(acme)]


def test_put_clears_with_null_and_ignores_read_only_fields(world, acme):
    body = {
        "url": None,
        "email": "",
        "allowed_template_tags": None,
        "entityId": "other",
        "org": "p2",
        "signatories": {"X": "Y"},
    }
    response = world.client("platform_admin_p1").put(
        issuer_url("acme", user="platform_admin_p1"), body, format="json"
    )
    assert response.status_code == 200
    acme.refresh_from_db()
    assert (acme.url, acme.email, acme.allowed_template_tags) == ("", "", None)
    assert (acme.entity_id, acme.platform, acme.signatories.count()) == ("acme", world.p1, 1)


def test_put_by_platform_key(world, acme):
    response = world.client("dm_admin").put(
        issuer_url("p1", user="dm_admin"), {"email": "new@acme.org"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()[0]["email"] == "new@acme.org"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"name": None}, {"name": ["This field may not be null."]}),
        ({"name": 5}, {"name": ["Not a valid string."]}),
        ({"url": "ftp://x.org"}, {"url": ["Enter a valid http or https URL."]}),
        ({"email": "nope"}, {"email": ["Enter a valid email address."]}),
        ({"iconImage": "javascript:alert(1)"}, {"iconImage": None}),
        ({"iconImage": "uploaded_images/p2/x.png"}, {"iconImage": None}),
        ({"allowed_template_tags": "x"}, {"allowed_template_tags": None}),
    ],
)
def test_put_refuses_what_creation_refuses(world, acme, body, errors):
    before = snapshot()
    response = world.client("platform_admin_p1").put(
        issuer_url("acme", user="platform_admin_p1"), body, format="json"
    )
    assert response.status_code == 400
    result = response.json()["result"]
    assert set(result) == set(errors)
    for field, messages in errors.items():
        if messages is not None:
            assert result[field] == messages
    assert response.json()["status"]["success"] is False
    assert snapshot() == before


def test_put_with_a_non_object_body_is_400(world, acme):
    response = world.client("platform_admin_p1").put(
        issuer_url("acme", user="platform_admin_p1"), [1], format="json"
    )
    assert response.status_code == 400


# DELETE -----------------------------------------------------------------------------


@pytest.mark.parametrize("slash", ["", "/"])
def test_delete_removes_the_issuer_and_its_signatories(world, acme, slash):
    IssuerFactory(platform=world.p1, entity_id="other")
    response = world.client("platform_admin_p1").delete(
        issuer_url("acme", user="platform_admin_p1", slash=slash)
    )
    assert (response.status_code, response.json()) == (200, DELETED)
    assert list(Issuer.objects.values_list("entity_id", flat=True)) == ["other"]
    assert not Signatory.objects.exists()


def test_delete_of_an_issuer_with_credentials_is_409_and_changes_nothing(world, acme):
    CredentialFactory(issuer=acme)
    before = snapshot()
    response = world.client("platform_admin_p1").delete(
        issuer_url("acme", user="platform_admin_p1")
    )
    assert response.status_code == 409
    assert response.json() == failed({"detail": HAS_CREDENTIALS}, HAS_CREDENTIALS)
    assert snapshot() == before


# Signatories ------------------------------------------------------------------------


def sign(world, body, role: str = "platform_admin_p1", org: str = "p1"):
    return world.client(role).post(authority_url(role, org), body, format="json")


SIGNATORY_EXPECTED = {
    "anonymous": 401,
    "outsider": 403,
    "learner_p1": 403,
    "learner_p2": 403,
    "department_admin": 403,
    "platform_admin_p1": 201,
    "platform_admin_p2": 403,
    "dm_admin": 201,
}


@pytest.mark.parametrize("department_mode", [False, True])
@pytest.mark.parametrize("role", ROLES)
def test_signatory_access(world, acme, role, department_mode):
    url = authority_url(role) + ("?department_mode=true" if department_mode else "")
    body = {"name": "New", "title": "Chair", "signature": SIGNATURE}
    response = world.client(role).post(url, body, format="json")
    assert response.status_code == SIGNATORY_EXPECTED[role]
    assert Signatory.objects.filter(name="New").exists() is (response.status_code == 201)


def test_signatory_403_body(world, acme):
    response = sign(world, {"name": "N", "title": "T", "signature": SIGNATURE}, "learner_p1")
    assert response.json() == failed({"detail": NOT_ADMIN_SIGNATORY}, NOT_ADMIN_SIGNATORY)


def test_signatory_defaults_to_the_platforms_default_issuer(world, acme):
    IssuerFactory(platform=world.p1, entity_id="younger")
    body = {"name": "John Roe", "title": "Registrar", "signature": SIGNATURE}
    response = sign(world, body)
    assert (response.status_code, response.json()) == (
        201,
        {"data": {"name": "John Roe", "title": "Registrar", "signature": SIGNATURE}},
    )
    signatory = Signatory.objects.get(name="John Roe")
    assert (signatory.issuer, signatory.credential) == (acme, None)
    issuer = world.client("learner_p1").get(issuer_url("acme")).json()[0]
    assert issuer["signatories"] == {"Jane Doe": "Dean", "John Roe": "Registrar"}


@pytest.mark.parametrize("org", ["p1", "org-one"])
def test_signatory_for_org(world, acme, org):
    IssuerFactory(platform=world.p1, entity_id="younger")
    response = sign(world, {"name": "N", "title": "T", "signature": SIGNATURE, "org": org})
    assert response.status_code == 201
    assert Signatory.objects.get(name="N").issuer == acme


def test_signatory_for_an_issuer_by_entity_id(world, acme):
    younger = IssuerFactory(platform=world.p1, entity_id="younger")
    response = sign(
        world, {"name": "N", "title": "T", "signature": SIGNATURE, "entityId": "younger"}
    )
    assert response.status_code == 201
    assert Signatory.objects.get(name="N").issuer == younger


def test_signatory_for_a_credential(world, acme):
    credential = CredentialFactory(issuer=acme, entity_id="badge")
    response = sign(
        world, {"name": "Prof", "title": "Chair", "signature": SIGNATURE, "credential": "badge"}
    )
    assert response.status_code == 201
    signatory = Signatory.objects.get(name="Prof")
    assert (signatory.issuer, signatory.credential) == (acme, credential)
    issuer = world.client("learner_p1").get(issuer_url("acme")).json()[0]
    assert issuer["signatories"] == {"Jane Doe": "Dean"}


def test_repeated_name_updates_title_and_signature(world, acme):
    body = {"name": "Jane Doe", "title": "President", "signature": "https://x.org/s.png"}
    response = sign(world, body)
    assert (response.status_code, response.json()) == (200, {"data": body})
    signatory = Signatory.objects.get()
    assert (signatory.title, signatory.signature_image) == ("President", "https://x.org/s.png")


def test_same_name_on_a_credential_is_another_signatory(world, acme):
    CredentialFactory(issuer=acme, entity_id="badge")
    body = {"name": "Jane Doe", "title": "Chair", "signature": SIGNATURE, "credential": "badge"}
    assert sign(world, body).status_code == 201
    assert sign(world, body).status_code == 200
    assert Signatory.objects.count() == 2


def test_signature_may_be_an_own_upload(world, acme):
    body = {"name": "N", "title": "T", "signature": "/media/uploaded_images/p1/sig.png"}
    assert sign(world, body).status_code == 201


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"name", "title", "signature"}),
        ({"name": "N", "title": "", "signature": SIGNATURE}, {"title"}),
        ({"name": "N", "title": "T"}, {"signature"}),
        ({"name": "N", "title": "T", "signature": "javascript:alert(1)"}, {"signature"}),
        ({"name": "N", "title": "T", "signature": "uploaded_images/p2/x.png"}, {"signature"}),
        ({"name": 1, "title": "T", "signature": SIGNATURE}, {"name"}),
        (
            {"name": "N", "title": "T", "signature": SIGNATURE, "org": "p1", "entityId": "acme"},
            {"non_field_errors"},
        ),
        (
            {"name": "N", "title": "T", "signature": SIGNATURE, "entityId": "a", "credential": "b"},
            {"non_field_errors"},
        ),
    ],
)
def test_signatory_bad_bodies_are_400(world, acme, body, errors):
    before = snapshot()
    response = sign(world, body)
    assert response.status_code == 400
    assert set(response.json()["result"]) == errors
    assert snapshot() == before


def test_two_targets_message(world, acme):
    response = sign(
        world,
        {"name": "N", "title": "T", "signature": SIGNATURE, "org": "p1", "credential": "x"},
    )
    assert response.json() == failed(
        {"non_field_errors": [ONE_TARGET]}, f"non_field_errors: {ONE_TARGET}"
    )


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ({"entityId": "nope"}, "Issuer 'nope' not found."),
        ({"entityId": "p2-issuer"}, "Issuer 'p2-issuer' not found."),
        ({"credential": "nope"}, "Credential 'nope' not found."),
        ({"credential": "p2-badge"}, "Credential 'p2-badge' not found."),
        ({"org": "p2"}, "No issuer found for org 'p2'."),
    ],
)
def test_signatory_unknown_or_foreign_target_is_404(world, acme, target, message):
    p2_issuer = IssuerFactory(platform=world.p2, entity_id="p2-issuer")
    CredentialFactory(issuer=p2_issuer, entity_id="p2-badge")
    before = snapshot()
    response = sign(world, {"name": "N", "title": "T", "signature": SIGNATURE, **target})
    assert (response.status_code, response.json()) == (404, failed({"detail": message}, message))
    assert snapshot() == before


def test_signatory_without_any_issuer_is_404(world):
    message = "This platform has no issuer yet: create one first."
    response = sign(world, {"name": "N", "title": "T", "signature": SIGNATURE})
    assert (response.status_code, response.json()) == (404, failed({"detail": message}, message))
