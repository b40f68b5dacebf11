"""The role matrix: role x permission class x situation (contract README, "Roles")."""

from __future__ import annotations

import pytest
from django.utils import timezone

from ibl_core.models import APIKey, PlatformMembership
from tests.conftest import ROLES

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.support.probe_urls")]

#  role:                  manage  manage+dept  member  admin
EXPECTED = {
    "anonymous":          (401,   401,         401,    401),
    "outsider":           (403,   403,         403,    403),
    "learner_p1":         (403,   403,         200,    403),
    "learner_p2":         (403,   403,         403,    403),
    "department_admin":   (403,   200,         200,    403),
    "platform_admin_p1":  (200,   200,         200,    200),
    "platform_admin_p2":  (403,   403,         403,    403),
    "dm_admin":           (200,   200,         200,    200),
}  # fmt: skip
URLS = (
    "/probe/manage/?platform_key=p1",
    "/probe/manage/?platform_key=p1&department_mode=true",
    "/probe/p1/member/",
    "/probe/p1/admin/",
)


def test_matrix_covers_every_role():
    assert set(EXPECTED) == set(ROLES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("probe", range(len(URLS)))
def test_role_matrix(world, role, probe):
    response = world.client(role).get(URLS[probe])
    assert response.status_code == EXPECTED[role][probe], response.content
    if response.status_code == 200:
        assert response.json()["platform"] == "p1"


@pytest.mark.parametrize("role", ROLES)
def test_department_mode_in_json_body(world, role):
    response = world.client(role).post(
        "/probe/manage/", {"platform_key": "p1", "department_mode": True}, format="json"
    )
    assert response.status_code == EXPECTED[role][1]


@pytest.mark.parametrize("role", ROLES)
def test_unknown_platform_is_404_for_authenticated_callers(world, role):
    response = world.client(role).get("/probe/manage/?platform_key=nope")
    assert response.status_code == (401 if role == "anonymous" else 404)
    response = world.client(role).get("/probe/nope/member/")
    assert response.status_code == (401 if role == "anonymous" else 404)


def test_org_segment_resolves_by_key_then_org(world):
    client = world.client("learner_p1")
    assert client.get("/probe/org-one/member/").json() == {"platform": "p1"}
    assert client.get("/probe/org-two/member/").status_code == 403


def test_org_segment_prefers_key_over_org(world):
    world.p2.org = "p1"  # p2's org equals p1's key: the key wins
    world.p2.save()
    assert world.client("dm_admin").get("/probe/p1/member/").json() == {"platform": "p1"}


def test_platform_org_alone_and_agreeing_with_key(world):
    client = world.client("platform_admin_p1")
    assert client.get("/probe/manage/?platform_org=org-one").json()["platform"] == "p1"
    assert client.get("/probe/manage/?platform_key=p1&platform_org=org-one").status_code == 200


def test_platform_key_and_org_naming_different_platforms_is_400(world):
    response = world.client("dm_admin").get("/probe/manage/?platform_key=p1&platform_org=org-two")
    assert response.status_code == 400
    assert response.json() == {
        "platform_org": ["platform_key and platform_org name different platforms."]
    }


def test_missing_platform_is_400(world):
    response = world.client("platform_admin_p1").get("/probe/manage/")
    assert response.status_code == 400
    assert response.json() == {"platform_key": ["This field is required."]}


@pytest.mark.parametrize("value", ["maybe", "2", "tru"])
def test_bad_department_mode_is_400(world, value):
    response = world.client("department_admin").get(
        f"/probe/manage/?platform_key=p1&department_mode={value}"
    )
    assert response.status_code == 400
    assert response.json() == {"department_mode": ["Must be a boolean (true or false)."]}


def test_non_string_platform_key_in_body_is_400(world):
    response = world.client("platform_admin_p1").post(
        "/probe/manage/", {"platform_key": ["p1"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"platform_key": ["Must be a string."]}


def test_non_object_body_is_400(world):
    response = world.client("platform_admin_p1").post("/probe/manage/", [1, 2], format="json")
    assert response.status_code == 400


def test_malformed_json_is_400(world):
    response = world.client("platform_admin_p1").post(
        "/probe/manage/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400


def test_inactive_membership_loses_every_role(world):
    PlatformMembership.objects.filter(user=world.users["platform_admin_p1"]).update(active=False)
    assert world.client("platform_admin_p1").get(URLS[0]).status_code == 403
    assert world.client("platform_admin_p1").get(URLS[2]).status_code == 403


def test_inactive_platform_is_404(world):
    world.p1.active = False
    world.p1.save()
    assert world.client("platform_admin_p1").get(URLS[0]).status_code == 404


def test_roles_are_resolved_once_per_request(world, django_assert_num_queries):
    # the key with its platform and membership (one statement), department admins: the
    # second permission class in the | chain and the view reuse them.
    APIKey.objects.update(last_used=timezone.now())
    with django_assert_num_queries(2):
        response = world.client("department_admin").get(URLS[1])
    assert response.status_code == 200


def test_null_characters_in_platform_identifiers_are_refused(world):
    client = world.client("dm_admin")
    response = client.get("/probe/manage/?platform_key=p%001")
    assert response.status_code == 400
    assert response.json() == {"platform_key": ["Null characters are not allowed."]}
    assert client.get("/probe/p%001/member/").status_code == 404
