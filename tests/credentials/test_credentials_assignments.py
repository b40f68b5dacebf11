"""Credential assignments: users/ and groups/ (GET, POST), {id} (DELETE), the job, the
group membership hook, and all ten operations through the published client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ibl_core.events.tasks import default_task_backend
from ibl_core.models import DepartmentMember, Event, PlatformMembership, UserGroup
from ibl_core.tenancy.groups import change_members, create_or_update_group, delete_group
from ibl_credentials.assertions.jobs import run_bulk_issue_job
from ibl_credentials.assignments.models import GroupAssignment, UserAssignment
from ibl_credentials.models import Assertion, BulkIssueJob, Revocation
from tests.support.assertion_helpers import assertion_json, public_url, z
from tests.support.credentials_factories import AssertionFactory, CredentialFactory, IssuerFactory

pytestmark = pytest.mark.django_db

NO_VIEW = "You don't have permission to view these assignments"
NO_CREDENTIAL = {"credential_id": ["No such credential on this platform."]}
NOT_FOUND = {"detail": "Assignment not found."}


def users_url(user: str = "platform_admin_p1", org: str = "p1", query: str = "") -> str:
    return f"/api/credentials/orgs/{org}/users/{user}/assignments/users/{query}"


def groups_url(user: str = "platform_admin_p1", org: str = "p1", query: str = "") -> str:
    return f"/api/credentials/orgs/{org}/users/{user}/assignments/groups/{query}"


def detail_url(assignment_id: str, user: str = "platform_admin_p1", org: str = "p1") -> str:
    return f"/api/credentials/orgs/{org}/users/{user}/assignments/{assignment_id}"


def ok(result: Any, description: str = "Ok") -> dict:
    return {"status": {"success": True, "description": description}, "result": result}


def failure(result: Any, description: str) -> dict:
    return {"status": {"success": False, "description": description}, "result": result}


def page(data: list, count: int | None = None, **overrides) -> dict:
    return {
        "next": None,
        "previous": None,
        "count": len(data) if count is None else count,
        "data": data,
        "num_pages": 1,
        "page_number": 1,
        "max_page_size": 100,
        **overrides,
    }


def user_assignment_json(assignment: UserAssignment) -> dict:
    """The exact user assignment object, from the database."""
    assignment = UserAssignment.objects.select_related(
        "credential", "user", "group_assignment", "assertion"
    ).get(pk=assignment.pk)
    return {
        "id": assignment.entity_id,
        "credential_id": assignment.credential.entity_id,
        "credential_name": assignment.credential.name,
        "user_id": assignment.user_id,
        "username": assignment.user.username,
        "group_assignment_id": (
            assignment.group_assignment.entity_id if assignment.group_assignment else None
        ),
        "status": assignment.status,
        "assertion": assertion_json(assignment.assertion) if assignment.assertion else None,
        "created": z(assignment.created),
    }


def job_location(job: BulkIssueJob, user: str = "platform_admin_p1", query: str = "") -> str:
    return (
        f"http://testserver/api/credentials/orgs/p1/users/{user}/"
        f"{job.credential.entity_id}/assertions/bulk/{job.entity_id}{query}"
    )


def group_assignment_json(
    assignment: GroupAssignment,
    members: int,
    status: str,
    user: str = "platform_admin_p1",
    query: str = "",
) -> dict:
    assignment.refresh_from_db()
    return {
        "id": assignment.entity_id,
        "credential_id": assignment.credential.entity_id,
        "group_id": assignment.group_id,
        "group_name": assignment.group.name,
        "member_count": members,
        "status": status,
        "job": job_location(assignment.job, user, query) if assignment.job else None,
        "created": z(assignment.created),
    }


@pytest.fixture
def credential(world):
    return CredentialFactory(
        issuer=IssuerFactory(platform=world.p1), entity_id="cred-assign", name="Python 101"
    )


@pytest.fixture
def learners(world):
    """learner_p1 (in Engineering, the department admin's) and learner_other_department."""
    return world.users["learner_p1"], world.users["learner_other_department"]


@pytest.fixture
def threshold(settings):
    def set_threshold(value: int) -> None:
        settings.IBL_DATA_MANAGER = {
            **settings.IBL_DATA_MANAGER,
            "BULK_ISSUE_TASK_THRESHOLD": value,
        }

    return set_threshold


def assign(world, user_ids, role="platform_admin_p1", credential_id="cred-assign", **extra):
    return world.client(role).post(
        users_url(role),
        {"credential_id": credential_id, "user_ids": user_ids, **extra},
        format="json",
    )


def assign_groups(world, group_ids, role="platform_admin_p1", **extra):
    return world.client(role).post(
        groups_url(role),
        {"credential_id": "cred-assign", "group_ids": group_ids, **extra},
        format="json",
    )


def queued_jobs() -> list[int]:
    return [r.args[0] for r in default_task_backend.results if r.task.name == "run_bulk_issue_job"]


@pytest.fixture(autouse=True)
def no_queued_tasks():
    default_task_backend.clear()
    yield
    default_task_backend.clear()


def data_state() -> tuple:
    return (
        list(UserAssignment.objects.values_list("pk", "assertion_id", "status")),
        list(GroupAssignment.objects.values_list("pk", "follow_membership", "job_id")),
        list(Assertion.objects.values_list("pk", "revoked")),
        Event.objects.count(),
        BulkIssueJob.objects.count(),
    )


# Assigning users ---------------------------------------------------------------------------


def test_assigning_users_issues_one_assertion_each_like_a_bulk_issue(world, credential, learners):
    first, second = learners
    response = assign(world, [first.pk, second.pk])
    assert response.status_code == 201, response.json()
    made = {a.user_id: a for a in UserAssignment.objects.all()}
    assert set(made) == {first.pk, second.pk}
    assert all(a.status == "completed" and a.assertion_id for a in made.values())
    assert response.json() == ok(
        {
            "successful_assignments": [
                user_assignment_json(made[first.pk]),
                user_assignment_json(made[second.pk]),
            ],
            "failed_assignments": [],
            "message": "2 users assigned.",
        },
        "Created",
    )
    # Issued as any assertion is: one active assertion each, an event each, publicly
    # readable, issued by the path user.
    assertions = Assertion.objects.filter(credential=credential)
    assert sorted(assertions.values_list("recipient_id", flat=True)) == sorted(made)
    assert set(assertions.values_list("issued_by__username", flat=True)) == {"platform_admin_p1"}
    events = Event.objects.filter(type="assertion.issued").order_by("id")
    assert sorted(e.object_id for e in events) == sorted(a.entity_id for a in assertions)
    for event in events:
        assertion = assertions.get(entity_id=event.object_id)
        assert event.payload == assertion_json(assertion)
    assert world.client("anonymous").get(public_url(assertions[0].entity_id)).status_code == 200
    # The hosted Open Badges assertion answers too.
    hosted = world.client("anonymous").get(f"/ob/v2/assertions/{assertions[0].entity_id}")
    assert hosted.status_code == 200


def test_assigning_again_changes_nothing(world, credential, learners):
    first, _ = learners
    assert assign(world, [first.pk]).status_code == 201
    before = data_state()
    again = assign(world, [first.pk, str(first.pk), first.pk])
    assert again.status_code == 200
    (assignment,) = UserAssignment.objects.all()
    assert again.json() == ok(
        {
            "successful_assignments": [user_assignment_json(assignment)],
            "failed_assignments": [],
            "message": "1 user assigned (already assigned: nothing changed).",
        }
    )
    assert data_state() == before


def test_an_assignment_whose_assertion_was_revoked_gets_a_new_one(world, credential, learners):
    first, _ = learners
    assign(world, [first.pk])
    (assignment,) = UserAssignment.objects.all()
    old = assignment.assertion
    Assertion.objects.filter(pk=old.pk).update(revoked=True, revocation_reason="x")
    assert assign(world, [first.pk]).status_code == 201
    assignment.refresh_from_db()
    assert assignment.assertion_id != old.pk
    assert not assignment.assertion.revoked
    assert UserAssignment.objects.count() == 1


def test_a_user_who_already_held_the_credential_is_assigned_that_assertion(
    world, credential, learners
):
    first, _ = learners
    held = AssertionFactory(credential=credential, recipient=first)
    assert assign(world, [first.pk]).status_code == 201
    assert UserAssignment.objects.get().assertion_id == held.pk
    assert Assertion.objects.count() == 1


def test_unknown_users_and_non_members_fail_with_the_same_reason(world, credential, learners):
    first, _ = learners
    inactive = get_user_model().objects.create(username="gone", is_active=False)
    PlatformMembership.objects.create(user=inactive, platform=world.p1)
    others = [world.users["learner_p2"].pk, 999_999, inactive.pk, world.users["outsider"].pk]
    response = assign(world, [first.pk, *others])
    assert response.status_code == 201
    body = response.json()["result"]
    assert [a["user_id"] for a in body["successful_assignments"]] == [first.pk]
    assert body["failed_assignments"] == [
        {"user_id": user_id, "reason": "user_not_found"} for user_id in others
    ]
    assert body["message"] == "1 user assigned, 4 failed."
    assert list(UserAssignment.objects.values_list("user_id", flat=True)) == [first.pk]


def test_department_admins_assign_their_departments_users_only(world, credential, learners):
    inside, outside = learners
    response = assign(
        world,
        [inside.pk, outside.pk, 999_999],
        role="department_admin",
        department_mode=True,
    )
    assert response.status_code == 201
    body = response.json()["result"]
    assert [a["user_id"] for a in body["successful_assignments"]] == [inside.pk]
    # Decided first: outside their departments, unknown alike.
    assert body["failed_assignments"] == [
        {"user_id": outside.pk, "reason": "user_not_in_department"},
        {"user_id": 999_999, "reason": "user_not_in_department"},
    ]
    # Without department_mode: not an admin.
    refused = assign(world, [inside.pk], role="department_admin")
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "body, errors",
    [
        (
            {},
            {"credential_id": ["This field is required."], "user_ids": ["This field is required."]},
        ),
        ({"credential_id": "cred-assign"}, {"user_ids": ["This field is required."]}),
        (
            {"credential_id": "cred-assign", "user_ids": []},
            {"user_ids": ["This list may not be empty."]},
        ),
        (
            {"credential_id": "cred-assign", "user_ids": 5},
            {"user_ids": ['Expected a list of items but got type "int".']},
        ),
        (
            {"credential_id": "cred-assign", "user_ids": [True]},
            {"user_ids": {"0": ["An id is an integer (or a string of digits)."]}},
        ),
        (
            {"credential_id": "cred-assign", "user_ids": ["abc"]},
            {"user_ids": {"0": ["An id is an integer (or a string of digits)."]}},
        ),
        (
            {"credential_id": "cred-assign", "user_ids": [1.5]},
            {"user_ids": {"0": ["An id is an integer (or a string of digits)."]}},
        ),
        (
            {"credential_id": "cred-assign", "user_ids": [0]},
            {"user_ids": {"0": ["An id is 1 or more."]}},
        ),
        (
            {"credential_id": "cred-assign", "user_ids": [2**70]},
            {"user_ids": {"0": ["No such id."]}},
        ),
        (
            {"credential_id": "cred-assign", "user_ids": [None]},
            {"user_ids": {"0": ["This field may not be null."]}},
        ),
        ({"credential_id": "nope", "user_ids": [1]}, NO_CREDENTIAL),
        (
            {"credential_id": "a\x00b", "user_ids": [1]},
            {"credential_id": ["Null characters are not allowed."]},
        ),
        ({"credential_id": "cred-p2", "user_ids": [1]}, NO_CREDENTIAL),
        (
            {"credential_id": ["cred-assign"], "user_ids": [1]},
            {"credential_id": ["Not a valid string."]},
        ),
    ],
)
def test_bad_bodies_are_400_and_change_nothing(world, credential, body, errors):
    CredentialFactory(issuer=IssuerFactory(platform=world.p2), entity_id="cred-p2")
    before = data_state()
    response = world.client("platform_admin_p1").post(users_url(), body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["result"] == errors
    assert response.json()["status"]["success"] is False
    assert data_state() == before


def test_non_object_and_malformed_bodies_are_400(world, credential):
    client = world.client("platform_admin_p1")
    for raw in (b"[1, 2]", b"{not json", b'"text"'):
        response = client.post(users_url(), raw, content_type="application/json")
        assert response.status_code == 400, raw
    assert UserAssignment.objects.count() == 0


def test_more_than_the_bulk_limit_is_400(world, credential, settings, learners):
    settings.IBL_DATA_MANAGER = {**settings.IBL_DATA_MANAGER, "BULK_MAX_ROWS": 2}
    response = assign(world, [1, 2, 3])
    assert response.status_code == 400
    assert response.json()["result"] == {"user_ids": ["At most 2 ids per request."]}


def test_assigning_is_set_based(world, credential):
    User = get_user_model()
    users = User.objects.bulk_create(User(username=f"many{n}") for n in range(150))
    users = list(User.objects.filter(username__startswith="many").order_by("pk"))
    PlatformMembership.objects.bulk_create(
        PlatformMembership(user=u, platform=world.p1) for u in users
    )
    with CaptureQueriesContext(connection) as few:
        assert assign(world, [u.pk for u in users[:5]]).status_code == 201
    with CaptureQueriesContext(connection) as many:
        assert assign(world, [u.pk for u in users]).status_code == 201
    # Django batches the inserts by the database's parameter limit: a few more, not 145.
    assert len(many) <= len(few) + 6
    assert UserAssignment.objects.count() == 150


# The job -------------------------------------------------------------------------------------


def test_past_the_threshold_a_job_assigns_in_the_background(
    world, credential, learners, threshold, django_capture_on_commit_callbacks
):
    threshold(1)
    first, second = learners
    with django_capture_on_commit_callbacks(execute=True):
        response = assign(world, [first.pk, second.pk, 999_999])
    assert response.status_code == 202
    job = BulkIssueJob.objects.get()
    assert response["Location"] == job_location(job)
    assert response.json() == ok(
        {
            "id": job.entity_id,
            "status": "queued",
            "credential": "cred-assign",
            "users": 3,
            "created": z(job.created),
            "started": None,
            "finished": None,
            "result": None,
            "error": "",
        },
        "Accepted",
    )
    assert UserAssignment.objects.count() == 0
    assert queued_jobs() == [job.pk]
    assert run_bulk_issue_job.call(job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.result == {
        "issued": [str(first.pk), str(second.pk)],
        "skipped": ["999999"],
        "reasons": {"999999": "user_not_found"},
    }
    assert (job.issued_count, job.skipped_count) == (2, 1)
    assert set(UserAssignment.objects.values_list("user_id", "status")) == {
        (first.pk, "completed"),
        (second.pk, "completed"),
    }
    followed = world.client("platform_admin_p1").get(response["Location"])
    assert followed.status_code == 200
    assert followed.json()["status"] == "succeeded"


def test_a_job_whose_requester_lost_their_rights_assigns_nobody(
    world, credential, learners, threshold
):
    threshold(1)
    first, second = learners
    assert assign(world, [first.pk, second.pk]).status_code == 202
    job = BulkIssueJob.objects.get()
    PlatformMembership.objects.filter(user=world.users["platform_admin_p1"]).update(is_admin=False)
    assert run_bulk_issue_job.call(job.pk) == "failed"
    assert UserAssignment.objects.count() == 0
    assert Assertion.objects.count() == 0


# Groups ---------------------------------------------------------------------------------------


@pytest.fixture
def engineering(world, learners):
    """A group attached to the department admin's department, with learner_p1."""
    group, _ = create_or_update_group(
        world.p1, "Engineers", department=world.department, add=[learners[0]]
    )
    return group


@pytest.fixture
def everyone(world, learners):
    """A group of the platform, no department, with both learners."""
    group, _ = create_or_update_group(world.p1, "Everyone", add=list(learners))
    return group


def test_assigning_a_group_runs_a_job_for_its_current_members(
    world, credential, everyone, learners
):
    response = assign_groups(world, [str(everyone.pk)])
    assert response.status_code == 202, response.json()
    job = BulkIssueJob.objects.get()
    group_assignment = GroupAssignment.objects.get()
    assert response["Location"] == job_location(job)
    body = response.json()
    assert body["status"] == {"success": True, "description": "Accepted"}
    assert body["result"]["group_assignments"] == [
        group_assignment_json(group_assignment, 2, "pending")
    ]
    assert body["result"]["job"]["id"] == job.entity_id
    assert body["result"]["job"]["users"] == 2
    assert UserAssignment.objects.count() == 0

    assert run_bulk_issue_job.call(job.pk) == "succeeded"
    linked = UserAssignment.objects.filter(group_assignment=group_assignment)
    assert sorted(linked.values_list("user_id", flat=True)) == sorted(u.pk for u in learners)
    listed = world.client("platform_admin_p1").get(groups_url())
    assert listed.status_code == 200
    assert listed.json() == ok(page([group_assignment_json(group_assignment, 2, "completed")]))
    users = world.client("platform_admin_p1").get(users_url()).json()["result"]["data"]
    assert {u["group_assignment_id"] for u in users} == {group_assignment.entity_id}


def test_later_joiners_are_assigned_only_when_following_membership(
    world, credential, everyone, learners
):
    joiner = get_user_model().objects.create(username="joiner")
    PlatformMembership.objects.create(user=joiner, platform=world.p1)
    assert assign_groups(world, [everyone.pk]).status_code == 202
    run_bulk_issue_job.call(BulkIssueJob.objects.get().pk)
    change_members(everyone, add=[joiner])
    assert not UserAssignment.objects.filter(user=joiner).exists()

    # Following membership (assigning the group again turns it on): joiners are assigned
    # in the transaction of the change.
    change_members(everyone, remove=[joiner])
    assert assign_groups(world, [everyone.pk], follow_membership=True).status_code == 202
    assert GroupAssignment.objects.get().follow_membership is True
    late = get_user_model().objects.create(username="late")
    PlatformMembership.objects.create(user=late, platform=world.p1)
    change_members(everyone, add=[late])
    assignment = UserAssignment.objects.get(user=late)
    assert assignment.group_assignment == GroupAssignment.objects.get()
    assert assignment.status == "completed" and not assignment.assertion.revoked
    assert Event.objects.filter(
        type="assertion.issued", object_id=assignment.assertion.entity_id
    ).exists()
    # Leaving keeps what was awarded; deleting the group keeps it too.
    change_members(everyone, remove=[late])
    delete_group(everyone)
    assignment.refresh_from_db()
    assert assignment.group_assignment is None
    assert not assignment.assertion.revoked


def test_a_membership_change_without_following_assignments_costs_one_query(
    world, credential, everyone
):
    joiner = get_user_model().objects.create(username="joiner")
    PlatformMembership.objects.create(user=joiner, platform=world.p1)
    from ibl_credentials.assignments.services import on_group_members_changed

    with CaptureQueriesContext(connection) as queries:
        on_group_members_changed(UserGroup, group=everyone, added=[joiner.pk], removed=[])
    assert len(queries) == 1


def test_department_admins_assign_groups_of_their_departments_only(
    world, credential, engineering, everyone
):
    refused = assign_groups(world, [everyone.pk], role="department_admin", department_mode=True)
    assert refused.status_code == 400
    assert refused.json()["result"] == {
        "group_ids": [f"No such group on this platform. ({everyone.pk})"]
    }
    assert GroupAssignment.objects.count() == 0
    response = assign_groups(world, [engineering.pk], role="department_admin", department_mode=True)
    assert response.status_code == 202
    assert response["Location"] == job_location(
        BulkIssueJob.objects.get(), "department_admin", "?department_mode=true"
    )
    run_bulk_issue_job.call(BulkIssueJob.objects.get().pk)
    assert list(UserAssignment.objects.values_list("user__username", flat=True)) == ["learner_p1"]
    # They list their departments' groups only.
    assign_groups(world, [everyone.pk])
    listed = world.client("department_admin").get(
        groups_url("department_admin", query="?department_mode=true")
    )
    assert [g["group_id"] for g in listed.json()["result"]["data"]] == [engineering.pk]


@pytest.mark.parametrize(
    "body, errors",
    [
        ({"credential_id": "cred-assign"}, {"group_ids": ["This field is required."]}),
        (
            {"credential_id": "cred-assign", "group_ids": []},
            {"group_ids": ["This list may not be empty."]},
        ),
        (
            {"credential_id": "cred-assign", "group_ids": ["x"]},
            {"group_ids": {"0": ["An id is an integer (or a string of digits)."]}},
        ),
        (
            {"credential_id": "cred-assign", "group_ids": ["1"], "follow_membership": "maybe"},
            {"follow_membership": ["Must be a valid boolean."]},
        ),
        ({"credential_id": "nope", "group_ids": ["1"]}, NO_CREDENTIAL),
        (
            {"credential_id": "cred-assign", "group_ids": ["999999"]},
            {"group_ids": ["No such group on this platform. (999999)"]},
        ),
    ],
)
def test_bad_group_bodies_are_400_and_change_nothing(world, credential, body, errors):
    before = data_state()
    response = world.client("platform_admin_p1").post(groups_url(), body, format="json")
    assert response.status_code == 400
    assert response.json()["result"] == errors
    assert data_state() == before


def test_another_platforms_group_is_unknown(world, credential):
    foreign, _ = create_or_update_group(world.p2, "Theirs", add=[world.users["learner_p2"]])
    response = assign_groups(world, [foreign.pk])
    assert response.status_code == 400
    assert response.json()["result"] == {
        "group_ids": [f"No such group on this platform. ({foreign.pk})"]
    }
    assert GroupAssignment.objects.count() == 0


def test_group_list_filters_by_group_and_shows_job_state(world, credential, everyone, engineering):
    assign_groups(world, [everyone.pk, engineering.pk])
    by_group = {a.group_id: a for a in GroupAssignment.objects.all()}
    one = world.client("platform_admin_p1").get(groups_url(query=f"?group_id={engineering.pk}"))
    assert one.json() == ok(page([group_assignment_json(by_group[engineering.pk], 1, "pending")]))
    bad = world.client("platform_admin_p1").get(groups_url(query="?group_id=abc"))
    assert bad.status_code == 400
    BulkIssueJob.objects.update(status="failed", error="x")
    failed = world.client("platform_admin_p1").get(groups_url(query=f"?group_id={everyone.pk}"))
    assert failed.json()["result"]["data"][0]["status"] == "failed"


# Reading user assignments ------------------------------------------------------------------------


@pytest.fixture
def assigned(world, credential, learners):
    """Both learners assigned directly; the admin's own assignment too."""
    admin = world.users["platform_admin_p1"]
    assert assign(world, [*(u.pk for u in learners), admin.pk]).status_code == 201
    return {a.user.username: a for a in UserAssignment.objects.select_related("user")}


def listed_usernames(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [a["username"] for a in response.json()["result"]["data"]]


def test_the_list_is_role_filtered(world, assigned):
    everyone = listed_usernames(world.client("platform_admin_p1").get(users_url()))
    assert sorted(everyone) == ["learner_other_department", "learner_p1", "platform_admin_p1"]
    dm = listed_usernames(world.client("dm_admin").get(users_url("dm_admin")))
    assert sorted(dm) == sorted(everyone)
    own = world.client("learner_p1").get(users_url("learner_p1"))
    assert own.json() == ok(page([user_assignment_json(assigned["learner_p1"])]))
    department = world.client("department_admin").get(
        users_url("department_admin", query="?department_mode=true")
    )
    assert listed_usernames(department) == ["learner_p1"]


def test_newest_first_search_and_pages(world, assigned):
    client = world.client("platform_admin_p1")
    rows = UserAssignment.objects.order_by("-created", "-id")
    full = client.get(users_url())
    assert full.json() == ok(page([user_assignment_json(a) for a in rows]))
    assert listed_usernames(client.get(users_url(query="?search=OTHER_dep"))) == [
        "learner_other_department"
    ]
    assert len(listed_usernames(client.get(users_url(query="?search=python")))) == 3
    second = client.get(users_url(query="?page=2&page_size=2"))
    assert second.json()["result"]["count"] == 3
    assert second.json()["result"]["page_number"] == 2
    assert len(second.json()["result"]["data"]) == 1
    assert client.get(users_url(query="?page_size=1000")).json()["result"]["max_page_size"] == 100
    assert client.get(users_url(query="?page=9")).status_code == 404
    assert client.get(users_url(query="?page=x")).status_code == 400
    assert client.get(users_url(query="?platform_org=org-one")).status_code == 200
    mismatch = client.get(users_url(query="?platform_org=org-two"))
    assert mismatch.status_code == 400
    assert mismatch.json()["result"] == {
        "platform_org": ["platform_org and the path name different platforms."]
    }


def test_revoked_assertions_leave_the_list(world, assigned):
    Assertion.objects.filter(recipient__username="learner_p1").update(revoked=True)
    listed = listed_usernames(world.client("platform_admin_p1").get(users_url()))
    assert "learner_p1" not in listed


def test_a_department_admin_with_no_users_may_see_none(world, assigned):
    DepartmentMember.objects.filter(department=world.department).delete()
    response = world.client("department_admin").get(
        users_url("department_admin", query="?department_mode=true")
    )
    assert response.status_code == 403
    assert response.json() == failure({"detail": NO_VIEW}, NO_VIEW)


def test_the_list_costs_a_fixed_number_of_queries(world, credential, django_assert_max_num_queries):
    User = get_user_model()
    users = [User.objects.create(username=f"reader{n}") for n in range(30)]
    PlatformMembership.objects.bulk_create(
        PlatformMembership(user=u, platform=world.p1) for u in users
    )
    assign(world, [u.pk for u in users])
    client = world.client("platform_admin_p1")
    with django_assert_max_num_queries(8):
        response = client.get(users_url(query="?page_size=30"))
    assert len(response.json()["result"]["data"]) == 30
    assign_groups_for = [
        create_or_update_group(world.p1, f"G{n}", add=users[:3])[0] for n in range(12)
    ]
    assign_groups(world, [g.pk for g in assign_groups_for])
    with django_assert_max_num_queries(8):
        groups = client.get(groups_url(query="?page_size=12"))
    assert [g["member_count"] for g in groups.json()["result"]["data"]] == [3] * 12


# Removing ----------------------------------------------------------------------------------------


def test_removing_a_user_assignment_revokes_its_assertion(world, assigned):
    assignment = assigned["learner_p1"]
    assertion = assignment.assertion
    response = world.client("platform_admin_p1").delete(detail_url(assignment.entity_id))
    assert response.status_code == 204
    assert not UserAssignment.objects.filter(pk=assignment.pk).exists()
    assertion.refresh_from_db()
    assert (assertion.revoked, assertion.revocation_reason) == (True, "assignment removed")
    assert Revocation.objects.filter(entity_id=assertion.entity_id).exists()
    event = Event.objects.get(type="assertion.revoked")
    assert event.object_id == assertion.entity_id
    assert event.payload["revocationReason"] == "assignment removed"
    public = world.client("anonymous").get(public_url(assertion.entity_id))
    assert public.status_code == 404
    assert public.json()["revocationReason"] == "assignment removed"
    # Gone: a second DELETE is 404; with the trailing slash too.
    again = world.client("platform_admin_p1").delete(detail_url(assignment.entity_id) + "/")
    assert again.status_code == 404
    assert again.json()["result"] == NOT_FOUND
    # Assigning again issues a new assertion (the old one stays revoked).
    assign(world, [assignment.user_id])
    renewed = UserAssignment.objects.get(user_id=assignment.user_id)
    assert renewed.assertion_id != assertion.pk


def test_removing_a_group_assignment_revokes_what_it_issued_only(
    world, credential, everyone, learners
):
    first, second = learners
    assign(world, [first.pk])  # direct, before the group
    direct = UserAssignment.objects.get()
    assign_groups(world, [everyone.pk])
    run_bulk_issue_job.call(BulkIssueJob.objects.get().pk)
    group_assignment = GroupAssignment.objects.get()
    via_group = UserAssignment.objects.get(group_assignment=group_assignment)
    assert via_group.user_id == second.pk
    response = world.client("platform_admin_p1").delete(detail_url(group_assignment.entity_id))
    assert response.status_code == 204
    assert not GroupAssignment.objects.exists()
    assert list(UserAssignment.objects.all()) == [direct]
    assert Assertion.objects.get(recipient=second).revocation_reason == "assignment removed"
    assert not Assertion.objects.get(recipient=first).revoked
    assert Revocation.objects.count() == 1


def test_department_admins_remove_only_what_they_manage(world, assigned):
    client = world.client("department_admin")
    outside = assigned["learner_other_department"]
    refused = client.delete(
        detail_url(outside.entity_id, "department_admin") + "?department_mode=true"
    )
    assert refused.status_code == 404
    inside = assigned["learner_p1"]
    removed = client.delete(
        detail_url(inside.entity_id, "department_admin") + "?department_mode=true"
    )
    assert removed.status_code == 204


def test_another_platforms_assignment_is_not_found(world, assigned):
    before = data_state()
    response = world.client("platform_admin_p2").delete(
        detail_url(assigned["learner_p1"].entity_id, "platform_admin_p2", org="p2")
    )
    assert response.status_code == 404
    assert response.json()["result"] == NOT_FOUND
    unknown = world.client("platform_admin_p1").delete(detail_url("nope"))
    assert unknown.status_code == 404
    assert data_state() == before
    # Their lists hold only their platform's assignments.
    theirs = world.client("platform_admin_p2").get(users_url("platform_admin_p2", org="p2"))
    assert theirs.json() == ok(page([]))
    groups = world.client("platform_admin_p2").get(groups_url("platform_admin_p2", org="p2"))
    assert groups.json() == ok(page([]))


def test_a_group_assignment_removed_before_its_job_runs_assigns_nobody(world, credential, everyone):
    assign_groups(world, [everyone.pk])
    job = BulkIssueJob.objects.get()
    removed = world.client("platform_admin_p1").delete(
        detail_url(GroupAssignment.objects.get().entity_id)
    )
    assert removed.status_code == 204
    job.refresh_from_db()
    assert job.status == "queued"  # the job goes with its credential, not its assignments
    assert run_bulk_issue_job.call(job.pk) == "succeeded"
    assert UserAssignment.objects.count() == 0
    assert Assertion.objects.count() == 0


# Who may call -----------------------------------------------------------------------------------

ROLE_MATRIX = {
    # role: (GET users, POST users, GET groups, POST groups, DELETE)
    "anonymous": (401, 401, 401, 401, 401),
    "outsider": (403, 403, 403, 403, 403),
    "learner_p1": (200, 403, 403, 403, 403),
    "learner_p2": (403, 403, 403, 403, 403),  # a key of another platform
    "department_admin": (200, 403, 403, 403, 403),  # without department_mode
    "platform_admin_p1": (200, 201, 200, 202, 204),
    "platform_admin_p2": (403, 403, 403, 403, 403),
    "dm_admin": (200, 201, 200, 202, 204),
}


@pytest.mark.parametrize("role", list(ROLE_MATRIX))
def test_permission_matrix(world, credential, everyone, learners, role):
    assign(world, [learners[0].pk])
    target = UserAssignment.objects.get()
    path_user = role if role != "anonymous" else "learner_p1"
    client = world.client(role)
    got = (
        client.get(users_url(path_user)).status_code,
        client.post(
            users_url(path_user),
            {"credential_id": "cred-assign", "user_ids": [learners[1].pk]},
            format="json",
        ).status_code,
        client.get(groups_url(path_user)).status_code,
        client.post(
            groups_url(path_user),
            {"credential_id": "cred-assign", "group_ids": [everyone.pk]},
            format="json",
        ).status_code,
        client.delete(detail_url(target.entity_id, path_user)).status_code,
    )
    assert got == ROLE_MATRIX[role]


def test_department_mode_department_admin_matrix(world, credential, engineering, learners):
    assign(world, [learners[0].pk])
    target = UserAssignment.objects.get()
    client = world.client("department_admin")
    query = "?department_mode=true"
    assert client.get(users_url("department_admin", query=query)).status_code == 200
    assert client.get(groups_url("department_admin", query=query)).status_code == 200
    assert (
        assign_groups(
            world, [engineering.pk], role="department_admin", department_mode=True
        ).status_code
        == 202
    )
    assert (
        client.delete(detail_url(target.entity_id, "department_admin") + query).status_code == 204
    )
    bad = client.get(users_url("department_admin", query="?department_mode=perhaps"))
    assert bad.status_code == 400


def test_a_learner_naming_someone_else_is_refused(world, assigned):
    response = world.client("learner_p1").get(users_url("platform_admin_p1"))
    assert response.status_code == 403


def test_assignments_is_a_reserved_entity_id():
    from ibl_credentials.validators import RESERVED_ENTITY_IDS

    assert "assignments" in RESERVED_ENTITY_IDS


# The published client ------------------------------------------------------------------------


@pytest.mark.sdk_operations(
    "credentials_orgs_users_assignments_users_create",
    "credentials_orgs_users_assignments_users_create2",
    "credentials_orgs_users_assignments_users_retrieve",
    "credentials_orgs_users_assignments_users_retrieve2",
    "credentials_orgs_users_assignments_groups_create",
    "credentials_orgs_users_assignments_groups_create2",
    "credentials_orgs_users_assignments_groups_retrieve",
    "credentials_orgs_users_assignments_groups_retrieve2",
    "credentials_orgs_users_assignments_destroy",
    "credentials_orgs_users_assignments_destroy2",
)
@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_all_ten_operations_through_the_published_client(world, published_client):
    api = published_client.credentials(world.keys["platform_admin_p1"])
    admin = world.users["platform_admin_p1"]
    learner, other = world.users["learner_p1"], world.users["learner_other_department"]
    CredentialFactory(issuer=IssuerFactory(platform=world.p1), entity_id="cred-assign")
    group, _ = create_or_update_group(world.p1, "Everyone", add=[learner, other])

    def send(operation: str, payload: dict, **params: Any):
        """The client declares no body for these POSTs: its request, with the body."""
        method, url, headers, _, post_params = getattr(api, f"_{operation}_serialize")(
            **params, _request_auth=None, _content_type=None, _headers=None, _host_index=0
        )
        headers["Content-Type"] = "application/json"
        return api.api_client.call_api(method, url, headers, payload, post_params).response

    def body(response) -> Any:
        return json.loads(response.data) if response.data else None

    by_id = {"platform_key": "p1", "user_id": admin.pk}
    by_name = {"platform_key": "p1", "username": admin.username}

    created = send(
        "credentials_orgs_users_assignments_users_create",
        {"credential_id": "cred-assign", "user_ids": [learner.pk]},
        **by_id,
    )
    assert created.status == 201, body(created)
    created2 = send(
        "credentials_orgs_users_assignments_users_create2",
        {"credential_id": "cred-assign", "user_ids": [learner.pk, other.pk]},
        **by_name,
    )
    assert created2.status == 201
    assert len(body(created2)["result"]["successful_assignments"]) == 2

    listed = api.credentials_orgs_users_assignments_users_retrieve(**by_id)
    listed2 = api.credentials_orgs_users_assignments_users_retrieve2(**by_name)
    assert listed.status == listed2.status == 200
    assert body(listed) == body(listed2)
    assert body(listed)["result"]["count"] == 2

    grouped = send(
        "credentials_orgs_users_assignments_groups_create",
        {"credential_id": "cred-assign", "group_ids": [str(group.pk)]},
        **by_id,
    )
    assert grouped.status == 202
    grouped2 = send(
        "credentials_orgs_users_assignments_groups_create2",
        {"credential_id": "cred-assign", "group_ids": [str(group.pk)], "follow_membership": True},
        **by_name,
    )
    assert grouped2.status == 202
    groups = api.credentials_orgs_users_assignments_groups_retrieve(**by_id)
    groups2 = api.credentials_orgs_users_assignments_groups_retrieve2(**by_name)
    assert groups.status == groups2.status == 200
    [listed_group] = body(groups)["result"]["data"]
    assert listed_group["group_id"] == group.pk
    assert listed_group["member_count"] == 2

    first, second = body(listed)["result"]["data"]
    removed = api.credentials_orgs_users_assignments_destroy(assignment_id=first["id"], **by_id)
    assert removed.status == 204
    removed2 = api.credentials_orgs_users_assignments_destroy2(
        assignment_id=listed_group["id"], **by_name
    )
    assert removed2.status == 204
    assert not GroupAssignment.objects.exists()
    assert Assertion.objects.get(entity_id=first["assertion"]["entityId"]).revoked
    assert not Assertion.objects.get(entity_id=second["assertion"]["entityId"]).revoked


def test_assigning_many_groups_is_set_based(world, credential, learners):
    made = [create_or_update_group(world.p1, f"Team {n}", add=list(learners))[0] for n in range(30)]
    with CaptureQueriesContext(connection) as few:
        assert assign_groups(world, [g.pk for g in made[:3]]).status_code == 202
    with CaptureQueriesContext(connection) as many:
        assert assign_groups(world, [g.pk for g in made]).status_code == 202
    assert len(many) <= len(few)  # the first request also records the key's use
    assert GroupAssignment.objects.count() == 30
    assert BulkIssueJob.objects.order_by("-id").first().user_count == 60
