"""POST {entity_id}/assertions/bulk/: many recipients, set-based, reasons by name as sent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ibl_core.models import PlatformMembership
from ibl_credentials.models import Assertion
from tests.support.assertion_helpers import bulk_url
from tests.support.credentials_factories import AssertionFactory, CredentialFactory, IssuerFactory
from tests.support.factories import CourseFactory

pytestmark = pytest.mark.django_db

COURSE = "course-v1:org+python+2026"
NO_COURSE = "No such course on this platform."


@pytest.fixture
def credential(world):
    CourseFactory(platform=world.p1, course_id=COURSE, name="Python 101")
    return CredentialFactory(
        issuer=IssuerFactory(platform=world.p1), entity_id="cred-python", expires_amount=1,
        expires_duration="years",
    )  # fmt: skip


def bulk(world, body, role="platform_admin_p1", entity_id="cred-python"):
    return world.client(role).post(bulk_url(entity_id, role), body, format="json")


def members(world, count: int, prefix: str = "bulk") -> list:
    """``count`` members of p1, created set-based."""
    User = get_user_model()
    users = User.objects.bulk_create(
        User(username=f"{prefix}{n}", email=f"{prefix}{n}@example.com") for n in range(count)
    )
    if connection.vendor != "postgresql":  # SQLite returns no ids from bulk_create before 3.35
        users = list(User.objects.filter(username__startswith=prefix).order_by("pk"))
    PlatformMembership.objects.bulk_create(
        PlatformMembership(user=user, platform=world.p1) for user in users
    )
    return users


def test_bulk_answers_names_as_sent_with_reasons(world, credential):
    learner = world.users["learner_p1"]
    holder = world.users["learner_other_department"]
    AssertionFactory(credential=credential, recipient=holder, item_kind="course", item_key=COURSE)
    expired = AssertionFactory(
        credential=credential,
        recipient=world.users["department_admin"],
        item_kind="course",
        item_key=COURSE,
        expires=timezone.now() - dt.timedelta(days=1),
    )
    users = [
        "learner_p1",  # issued
        "learner_other_department",  # holds it: already_issued
        "nobody",  # user_not_found
        "learner_p2",  # another platform's member: user_not_found
        learner.pk,  # learner_p1 again, by id: duplicate
        "LEARNER_P1@example.com",  # and by email: duplicate
        "department_admin",  # expired one: superseded, issued
        "nobody",  # the same unknown name again
        str(world.users["platform_admin_p1"].pk),  # by id as text: issued
    ]
    response = bulk(world, {"users": users, "course": COURSE, "metadata": {"cohort": 7}})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "issued": ["learner_p1", "department_admin", str(world.users["platform_admin_p1"].pk)],
        "skipped": [
            "learner_other_department",
            "nobody",
            "learner_p2",
            str(learner.pk),
            "LEARNER_P1@example.com",
            "nobody",
        ],
        "reasons": {
            "learner_other_department": "already_issued",
            "nobody": "user_not_found",
            "learner_p2": "user_not_found",
            str(learner.pk): "duplicate",
            "LEARNER_P1@example.com": "duplicate",
        },
    }
    expired.refresh_from_db()
    assert expired.superseded
    new = Assertion.objects.get(recipient=learner)
    assert (new.item_kind, new.item_key, new.item_name) == ("course", COURSE, "Python 101")
    assert new.metadata == {"cohort": 7} and new.issued_by == world.users["platform_admin_p1"]
    assert new.expires.year == new.issued_on.year + 1
    assert Assertion.objects.filter(revoked=False, superseded=False).count() == 4
    # Sent again: every one already issued.
    again = bulk(world, {"users": ["learner_p1", "department_admin"], "course": COURSE})
    assert again.json() == {
        "issued": [],
        "skipped": ["learner_p1", "department_admin"],
        "reasons": {"learner_p1": "already_issued", "department_admin": "already_issued"},
    }


def test_bulk_for_a_department_admin(world, credential):
    body = {
        "users": ["learner_p1", "learner_other_department", "nobody", "learner_p2"],
        "department_mode": True,
    }
    response = bulk(world, body, role="department_admin")
    assert response.status_code == 200
    assert response.json() == {
        "issued": ["learner_p1"],
        "skipped": ["learner_other_department", "nobody", "learner_p2"],
        "reasons": {
            "learner_other_department": "user_not_in_department",
            "nobody": "user_not_in_department",
            "learner_p2": "user_not_in_department",
        },
    }
    assert list(Assertion.objects.values_list("recipient__username", flat=True)) == ["learner_p1"]


@pytest.mark.parametrize(
    ("role", "mode", "expected"),
    [
        ("anonymous", False, 401),
        ("outsider", False, 403),
        ("learner_p1", False, 403),
        ("learner_p2", False, 403),
        ("department_admin", False, 403),
        ("department_admin", True, 200),
        ("platform_admin_p1", False, 200),
        ("platform_admin_p2", False, 403),
        ("dm_admin", False, 200),
    ],
)
def test_bulk_access(world, credential, role, mode, expected):
    body = {"users": ["learner_p1"], "department_mode": mode}
    path_user = role if role != "anonymous" else "learner_p1"
    response = world.client(role).post(bulk_url("cred-python", path_user), body, format="json")
    assert response.status_code == expected
    assert Assertion.objects.exists() is (expected == 200)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"users": ["This field is required."]}),
        ({"users": []}, {"users": ["At least one user is required."]}),
        ({"users": "learner_p1"}, {"users": ["A list of users is required."]}),
        (
            {"users": ["learner_p1", None]},
            {"users": ["Item 1: A username, an email or a user id is required."]},
        ),
        (
            {"users": [True]},
            {"users": ["Item 0: A username, an email or a user id is required."]},
        ),
        ({"users": ["a"] * 6}, {"users": ["At most 5 users are accepted; got 6."]}),
        ({"users": ["learner_p1"], "course": "nope"}, {"course": [NO_COURSE]}),
        ({"users": ["learner_p1"], "metadata": "x"}, {"metadata": ["A JSON object is required."]}),
    ],
)  # fmt: skip
def test_bad_bulk_bodies_are_400(world, credential, settings, body, errors):
    settings.IBL_DATA_MANAGER = {**getattr(settings, "IBL_DATA_MANAGER", {}), "BULK_MAX_ROWS": 5}
    response = bulk(world, body)
    assert (response.status_code, response.json()) == (400, errors)
    assert not Assertion.objects.exists()


def test_bulk_of_another_platforms_credential_is_404(world, credential):
    CredentialFactory(issuer__platform=world.p2, entity_id="cred-p2")
    response = bulk(world, {"users": ["learner_p1"]}, entity_id="cred-p2")
    assert (response.status_code, response.json()) == (404, {"detail": "Credential not found."})


def bulk_with_holders(world, credential, count: int, prefix: str):
    """Bulk-issue to ``count`` new members (half hold it, a tenth hold an expired one)
    and an unknown user; the answer and the queries it took."""
    users = members(world, count, prefix)
    for user in users[: count // 2]:
        AssertionFactory(credential=credential, recipient=user, item_kind="course", item_key=COURSE)
    for user in users[count // 2 : count // 2 + count // 10]:
        AssertionFactory(
            credential=credential,
            recipient=user,
            item_kind="course",
            item_key=COURSE,
            expires=timezone.now() - dt.timedelta(days=1),
        )
    names = [user.username for user in users]
    with CaptureQueriesContext(connection) as queries:
        response = bulk(world, {"users": [*names, "nobody"], "course": COURSE})
    return response.json(), len(queries)


def test_bulk_queries_do_not_grow(world, credential):
    bulk(world, {"users": ["nobody"]})  # the key's first use records it: not counted below
    small, small_queries = bulk_with_holders(world, credential, 10, "small")
    large, large_queries = bulk_with_holders(world, credential, 500, "large")
    assert small_queries == large_queries <= 17  # the credential's row lock included
    assert (len(small["issued"]), len(large["issued"])) == (5, 250)
    assert set(large["reasons"].values()) == {"already_issued", "user_not_found"}
    assert Assertion.objects.filter(revoked=False, superseded=False).count() == 510


@pytest.mark.slow
def test_ten_thousand_recipients(world, credential):
    # The contract's maximum in one request; its speed is measured by make bench
    # (part credentials), not asserted here.
    users = members(world, 10_000)
    names = [user.username for user in users]
    client = world.client("platform_admin_p1")
    response = client.post(
        bulk_url("cred-python", "platform_admin_p1"),
        {"users": names, "course": COURSE},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["issued"] == names
    assert Assertion.objects.filter(item_key=COURSE).count() == 10_000


def test_odd_identities_name_nobody(world, credential):
    users = [10**30, "-1", "x" * 254, "learner_p1 ", 0]
    response = bulk(world, {"users": users})
    assert response.status_code == 200
    assert response.json()["issued"] == []
    assert set(response.json()["reasons"].values()) == {"user_not_found"}
    single = world.client("platform_admin_p1").post(
        "/api/credentials/orgs/p1/users/platform_admin_p1/cred-python/assertions/",
        {"recipient": {"identity": 10**30}},
        format="json",
    )
    assert single.status_code == 400
