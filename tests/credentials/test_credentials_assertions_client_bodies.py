"""Issue, revoke and answer with the bodies the published client sends (contract
``assignments-providers.md``, "Issuing through the published client").

The client's ``Assertion`` model never sends ``recipient``, ``course``, ``program`` or
``credentialDetails`` and always sends ``entityId``, ``issuedOn``, ``revocationReason``
and ``expires``, as "" when unset. ``tests/project/test_sdk_operations.py`` sends these bodies
through the client itself; this module pins every rule with the test client.
"""

from __future__ import annotations

import pytest

from ibl_credentials.models import Assertion
from tests.support.assertion_helpers import assertion_json, credential_url, detail_url
from tests.support.credentials_factories import AssertionFactory, CredentialFactory, IssuerFactory
from tests.support.factories import CourseFactory, PathwayFactory, ProgramFactory

pytestmark = pytest.mark.django_db

COURSE = "course-v1:org+python+2026"
#: What the client sends for an ``Assertion`` built with nothing set.
CLIENT_BODY = {"entityId": "", "issuedOn": "", "revocationReason": "", "expires": ""}


@pytest.fixture
def credential(world):
    CourseFactory(platform=world.p1, course_id=COURSE, name="Python 101")
    return CredentialFactory(
        issuer=IssuerFactory(platform=world.p1, entity_id="issuer-p1"), entity_id="cred-python"
    )


def issue(world, body, role="platform_admin_p1", user=None):
    return world.client(role).post(credential_url("cred-python", user or role), body, format="json")


@pytest.mark.parametrize("path_user", ["learner_p1", "id"])
def test_without_recipient_the_path_user_receives_it(world, credential, path_user):
    learner = world.users["learner_p1"]
    segment = str(learner.pk) if path_user == "id" else "learner_p1"
    response = issue(world, CLIENT_BODY, user=segment)
    assert response.status_code == 201, response.content
    assertion = Assertion.objects.get()
    assert (assertion.recipient, assertion.issued_by) == (learner, world.users["platform_admin_p1"])
    assert response.json() == assertion_json(assertion)
    assert response.json()["expires"] == ""  # "" is "none": the credential's rule (none)


def test_an_admin_naming_themself_receives_it(world, credential):
    response = issue(world, {})
    assert response.status_code == 201, response.content
    assert Assertion.objects.get().recipient == world.users["platform_admin_p1"]


def test_read_only_fields_are_ignored(world, credential):
    body = {
        "entityId": "chosen-by-the-client",
        "issuedOn": "2001-01-01T00:00:00Z",
        "credentialDetails": {"name": "Forged"},
        "revocationReason": "",
        "expires": "",
    }
    response = issue(world, body, user="learner_p1")
    assert response.status_code == 201, response.content
    assertion = Assertion.objects.get()
    assert assertion.entity_id != "chosen-by-the-client"
    assert assertion.issued_on.year > 2001
    assert response.json()["credentialDetails"]["name"] == credential.name


@pytest.mark.parametrize("reference", [COURSE, {"key": COURSE}, {"key": COURSE, "name": "ignored"}])
def test_an_item_is_a_key_or_an_object_with_a_key(world, credential, reference):
    response = issue(world, {**CLIENT_BODY, "course": reference}, user="learner_p1")
    assert response.status_code == 201, response.content
    assert response.json()["course"] == {"key": COURSE, "name": "Python 101"}


def test_program_and_pathway_objects_too(world, credential):
    program = ProgramFactory(platform=world.p1, program_key="program-v1:org+p+r", name="Prog")
    pathway = PathwayFactory(platform=world.p1)
    response = issue(world, {"program": {"key": program.program_key}}, user="learner_p1")
    assert response.json()["program"] == {"key": program.program_key, "name": "Prog"}
    response = issue(world, {"pathway": {"key": str(pathway.pathway_id)}}, user="learner_p1")
    assert response.status_code == 201, response.content
    assert response.json()["pathway"]["key"] == str(pathway.pathway_id)


def test_empty_values_mean_none(world, credential):
    body = {
        **CLIENT_BODY,
        "recipient": {},
        "course": {},
        "program": "",
        "pathway": {},
        "narrative": "",
        "metadata": {},
    }
    response = issue(world, body, user="learner_p1")
    assert response.status_code == 201, response.content
    assert (response.json()["course"], response.json()["program"]) == ({}, {})
    assert Assertion.objects.get().recipient == world.users["learner_p1"]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"course": {"name": "x"}}, {"course": ["A key, or an object with a key, is required."]}),
        ({"course": {"key": 5}}, {"course": ["Not a valid string."]}),
        ({"course": {"key": "course-v1:nope"}}, {"course": ["No such course on this platform."]}),
        ({"course": [COURSE]}, {"course": ["Not a valid string."]}),
        ({"expires": "soon"}, None),
        ({"recipient": {"identity": ""}}, None),
    ],
)
def test_bad_client_bodies_are_400_and_change_nothing(world, credential, body, errors):
    response = issue(world, {**CLIENT_BODY, **body}, user="learner_p1")
    assert response.status_code == 400, response.content
    if errors is not None:
        assert response.json() == errors
    assert not Assertion.objects.exists()


def test_a_path_user_who_is_not_a_member_is_404(world, credential):
    response = issue(world, CLIENT_BODY, user="learner_p2")
    assert response.status_code == 404
    assert not Assertion.objects.exists()


@pytest.mark.parametrize("role", ["learner_p1", "department_admin"])
def test_a_non_admin_cannot_name_someone_else(world, credential, role):
    other = "learner_other_department"
    response = issue(world, CLIENT_BODY, role=role, user=other)
    assert response.status_code == 403, response.content
    assert not Assertion.objects.exists()


def test_a_learner_naming_themself_still_cannot_issue(world, credential):
    response = issue(world, CLIENT_BODY, role="learner_p1")
    assert response.status_code == 403
    assert not Assertion.objects.exists()


# PUT: revoke and answer with the client's body ------------------------------------------


@pytest.fixture
def held(world, credential):
    return AssertionFactory(credential=credential, recipient=world.users["learner_p1"])


def put(world, held, body, role):
    own = role if role != "anonymous" else "learner_p1"
    return world.client(role).put(detail_url(held.entity_id, own), body, format="json")


def test_the_recipient_answers_with_the_client_body(world, held):
    response = put(world, held, {**CLIENT_BODY, "acceptance": "Accepted"}, "learner_p1")
    assert response.status_code == 200, response.content
    held.refresh_from_db()
    assert (held.acceptance, held.revoked) == ("Accepted", False)


def test_an_admin_revokes_with_the_client_body(world, held):
    body = {**CLIENT_BODY, "revoked": True, "revocationReason": "Issued by mistake."}
    response = put(world, held, body, "platform_admin_p1")
    assert response.status_code == 200, response.content
    held.refresh_from_db()
    assert (held.revoked, held.revocation_reason) == (True, "Issued by mistake.")


def test_revoking_with_an_empty_reason_is_still_400(world, held):
    response = put(world, held, {**CLIENT_BODY, "revoked": True}, "platform_admin_p1")
    assert (response.status_code, response.json()) == (
        400,
        {"revocationReason": ["A reason is required to revoke an assertion."]},
    )
    held.refresh_from_db()
    assert not held.revoked


def test_the_client_body_alone_changes_nothing(world, held):
    response = put(world, held, CLIENT_BODY, "platform_admin_p1")
    assert (response.status_code, response.json()) == (
        400,
        {"non_field_errors": ["Send revoked with revocationReason, or acceptance."]},
    )


def test_a_learner_cannot_revoke_with_the_client_body(world, held):
    body = {**CLIENT_BODY, "revoked": True, "revocationReason": "Mine."}
    response = put(world, held, body, "learner_p1")
    assert response.status_code == 403
    held.refresh_from_db()
    assert not held.revoked


def test_a_list_body_is_still_400(world, held, credential):
    assert issue(world, [CLIENT_BODY], user="learner_p1").status_code == 400
    assert put(world, held, [CLIENT_BODY], "platform_admin_p1").status_code == 400
