"""Bulk issues answered 202 with a job (past BULK_ISSUE_TASK_THRESHOLD users, or sent with
``Prefer: respond-async``), the task that runs them, and GET {entity_id}/assertions/bulk/{id}.

Tasks are recorded, not run (tests/settings.py): each test runs the job's task itself,
synchronously, as tests/core/test_tasks.py and the group fan-out tests do.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ibl_core.events.tasks import default_task_backend, sweep
from ibl_core.models import DepartmentMember, Event, PlatformMembership
from ibl_credentials.assertions import jobs, services
from ibl_credentials.assertions.jobs import run_bulk_issue_job
from ibl_credentials.models import Assertion, BulkIssueJob
from tests.credentials.test_credentials_assertions_bulk import members
from tests.support.assertion_helpers import bulk_url, z
from tests.support.credentials_factories import AssertionFactory, CredentialFactory, IssuerFactory
from tests.support.factories import CourseFactory

pytestmark = pytest.mark.django_db

COURSE = "course-v1:org+python+2026"
JOB_NOT_FOUND = {"detail": "Bulk issue job not found."}


@pytest.fixture
def credentials(world):
    """Two credentials alike: one issued in the background, one in the request."""
    CourseFactory(platform=world.p1, course_id=COURSE, name="Python 101")
    issuer = IssuerFactory(platform=world.p1)
    return [
        CredentialFactory(issuer=issuer, entity_id=entity_id, expires_amount=1,
                          expires_duration="years")
        for entity_id in ("cred-job", "cred-sync")
    ]  # fmt: skip


@pytest.fixture
def threshold(settings):
    """Set BULK_ISSUE_TASK_THRESHOLD."""

    def set_threshold(value: int) -> None:
        settings.IBL_DATA_MANAGER = {
            **settings.IBL_DATA_MANAGER,
            "BULK_ISSUE_TASK_THRESHOLD": value,
        }

    return set_threshold


def job_url(job_id: str, entity_id: str = "cred-job", user: str = "platform_admin_p1",
            org: str = "p1") -> str:  # fmt: skip
    return f"{bulk_url(entity_id, user, org)}{job_id}"


def bulk(world, body, *, role="platform_admin_p1", entity_id="cred-job", prefer=None, org="p1"):
    headers = {"HTTP_PREFER": prefer} if prefer is not None else {}
    url = bulk_url(entity_id, role, org)
    return world.client(role).post(url, body, format="json", **headers)


def job_json(job: BulkIssueJob) -> dict:
    """The exact job object, from the database."""
    job.refresh_from_db()
    return {
        "id": job.entity_id,
        "status": job.status,
        "credential": job.credential.entity_id,
        "users": job.user_count,
        "created": z(job.created),
        "started": z(job.started) or None,
        "finished": z(job.finished) or None,
        "result": job.result,
        "error": job.error,
    }


def issued_events(entity_id: str) -> set[str]:
    return set(
        Event.objects.filter(
            type="assertion.issued", payload__credentialDetails__entityId=entity_id
        ).values_list("object_id", flat=True)
    )


def queued_jobs() -> list[list]:
    return [r.args for r in default_task_backend.results if r.task.name == "run_bulk_issue_job"]


# Answered with a job -----------------------------------------------------------------


def test_above_the_threshold_a_job_issues_what_the_request_would_have(
    world, credentials, threshold, django_capture_on_commit_callbacks
):
    default_task_backend.clear()
    learner = world.users["learner_p1"]
    for credential in credentials:  # the same holder of both
        AssertionFactory(credential=credential, recipient=world.users["learner_other_department"],
                         item_kind="course", item_key=COURSE)  # fmt: skip
    users = ["learner_p1", "learner_other_department", "nobody", learner.pk, "department_admin"]
    body = {"users": users, "course": COURSE, "metadata": {"cohort": 7}, "narrative": "Done."}
    threshold(4)

    with django_capture_on_commit_callbacks(execute=True):
        response = bulk(world, body)

    assert response.status_code == 202, response.content
    job = BulkIssueJob.objects.get()
    assert response.json() == job_json(job)
    assert response.json()["status"] == "queued" and response.json()["result"] is None
    assert response["Location"] == f"http://testserver{job_url(job.entity_id)}"
    assert "Preference-Applied" not in response
    assert (job.platform, job.credential, job.requested_by, job.issued_by) == (
        world.p1, credentials[0], world.users["platform_admin_p1"],
        world.users["platform_admin_p1"],
    )  # fmt: skip
    # Nothing issued, no event, until the task runs; the task is queued on commit.
    assert not Assertion.objects.filter(credential=credentials[0], issued_by__isnull=False)
    assert issued_events("cred-job") == set()
    assert queued_jobs() == [[job.pk]]
    client = world.client("platform_admin_p1")
    assert client.get(job_url(job.entity_id)).json()["status"] == "queued"

    assert run_bulk_issue_job.call(job.pk) == "succeeded"

    threshold(10_000)
    answer = bulk(world, body, entity_id="cred-sync")
    assert answer.status_code == 200
    followed = client.get(response["Location"])
    assert followed.status_code == 200
    assert followed.json() == {**job_json(job), "status": "succeeded", "result": answer.json()}
    assert followed.json()["result"] == {
        "issued": ["learner_p1", "department_admin"],
        "skipped": ["learner_other_department", "nobody", str(learner.pk)],
        "reasons": {"learner_other_department": "already_issued", "nobody": "user_not_found",
                    str(learner.pk): "duplicate"},
    }  # fmt: skip
    assert job.started is not None and job.finished >= job.started
    assert (job.issued_count, job.skipped_count) == (2, 3)
    # The same assertions as the request's, on each credential.
    fields = ("recipient__username", "item_key", "item_name", "metadata", "narrative", "issued_by")
    issued = {
        credential.entity_id: sorted(
            Assertion.objects.filter(credential=credential, issued_by__isnull=False).values_list(
                *fields
            )
        )
        for credential in credentials
    }
    assert issued["cred-job"] == issued["cred-sync"]
    assert len(issued["cred-job"]) == 2
    # The events were recorded by the task's transaction: one per assertion.
    assert issued_events("cred-job") == set(
        Assertion.objects.filter(credential=credentials[0], issued_by__isnull=False).values_list(
            "entity_id", flat=True
        )
    )
    # Named with the request's host, as the request's own events are (the task runs
    # outside any request).
    for object_id, payload in Event.objects.filter(
        type="assertion.issued", payload__credentialDetails__entityId="cred-job"
    ).values_list("object_id", "payload"):
        assert payload["verifyUrl"] == f"http://testserver/ob/v2/assertions/{object_id}"
        assert payload["imageUrl"] == payload["verifyUrl"] + "/image?format=png"
    # Run again (a duplicate delivery of the task): not run twice; the job keeps its result.
    assert run_bulk_issue_job.call(job.pk) == "succeeded"
    assert Assertion.objects.filter(credential=credentials[0]).count() == 3
    assert client.get(job_url(job.entity_id) + "/").json() == followed.json()


@pytest.mark.parametrize(
    "prefer", ["respond-async", "Respond-Async", "wait=10, respond-async", "respond-async; x=1"]
)
def test_prefer_respond_async_asks_for_a_job_at_any_size(world, credentials, prefer):
    response = bulk(world, {"users": ["learner_p1"]}, prefer=prefer)
    assert response.status_code == 202
    assert response["Preference-Applied"] == "respond-async"
    job = BulkIssueJob.objects.get()
    assert response.json() == job_json(job)
    assert job.request == {
        "users": ["learner_p1"],
        "department_mode": False,
        "base_url": "http://testserver",
        "item": {"kind": "", "key": "", "name": ""},
        "narrative": "",
        "evidence": [],
        "metadata": {},
        "expires": None,
    }
    assert not Assertion.objects.exists()
    assert run_bulk_issue_job.call(job.pk) == "succeeded"
    assert list(Assertion.objects.values_list("recipient__username", flat=True)) == ["learner_p1"]


@pytest.mark.parametrize("prefer", [None, "return=minimal", "respond-asynchronously"])
def test_at_or_below_the_threshold_the_answer_is_the_200_as_before(
    world, credentials, threshold, prefer
):
    threshold(2)
    response = bulk(world, {"users": ["learner_p1", "department_admin"]}, prefer=prefer)
    assert (response.status_code, response.json()) == (
        200,
        {"issued": ["learner_p1", "department_admin"], "skipped": [], "reasons": {}},
    )
    assert "Location" not in response and "Preference-Applied" not in response
    assert not BulkIssueJob.objects.exists()
    assert Assertion.objects.count() == 2


def test_the_job_keeps_every_detail_of_the_request(world, credentials):
    body = {
        "users": ["learner_p1", 10**30],
        "course": COURSE,
        "narrative": "Passed.",
        "evidence": [{"url": "https://example.com/work", "narrative": "Project"}],
        "metadata": {"cohort": [1, {"a": "é"}]},
        "expires": "2031-02-03T04:05:06.789Z",
    }
    response = bulk(world, body, prefer="respond-async")
    assert response.status_code == 202
    job = BulkIssueJob.objects.get()
    assert run_bulk_issue_job.call(job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.result == {
        "issued": ["learner_p1"],
        "skipped": [str(10**30)],
        "reasons": {str(10**30): "user_not_found"},
    }
    assertion = Assertion.objects.get()
    assert (assertion.item_kind, assertion.item_key, assertion.item_name) == (
        "course", COURSE, "Python 101",
    )  # fmt: skip
    assert (assertion.narrative, assertion.evidence, assertion.metadata) == (
        "Passed.", body["evidence"], body["metadata"],
    )  # fmt: skip
    assert z(assertion.expires) == "2031-02-03T04:05:06.789000Z"


# Refused in the request: no job -----------------------------------------------------


@pytest.mark.parametrize(
    ("role", "body", "entity_id", "status"),
    [
        ("platform_admin_p1", {}, "cred-job", 400),
        ("platform_admin_p1", {"users": []}, "cred-job", 400),
        ("platform_admin_p1", {"users": ["learner_p1"], "course": "nope"}, "cred-job", 400),
        ("platform_admin_p1", {"users": ["a"] * 6}, "cred-job", 400),  # BULK_MAX_ROWS 5
        ("platform_admin_p1", {"users": ["learner_p1"]}, "cred-p2", 404),
        ("platform_admin_p1", {"users": ["learner_p1"]}, "no-such", 404),
        ("anonymous", {"users": ["learner_p1"]}, "cred-job", 401),
        ("learner_p1", {"users": ["learner_p1"]}, "cred-job", 403),
        ("department_admin", {"users": ["learner_p1"]}, "cred-job", 403),  # no department_mode
        ("platform_admin_p2", {"users": ["learner_p1"]}, "cred-job", 403),
    ],
)  # fmt: skip
@pytest.mark.parametrize("prefer", [None, "respond-async"])
def test_refused_requests_are_answered_at_once_without_a_job(
    world, credentials, threshold, settings, role, body, entity_id, status, prefer
):
    threshold(1)  # every accepted request here would be a job
    settings.IBL_DATA_MANAGER = {**settings.IBL_DATA_MANAGER, "BULK_MAX_ROWS": 5}
    CredentialFactory(issuer__platform=world.p2, entity_id="cred-p2")
    default_task_backend.clear()
    path_user = role if role != "anonymous" else "learner_p1"
    headers = {"HTTP_PREFER": prefer} if prefer else {}
    response = world.client(role).post(
        bulk_url(entity_id, path_user), body, format="json", **headers
    )
    assert response.status_code == status
    assert "Location" not in response
    assert not BulkIssueJob.objects.exists()
    assert queued_jobs() == []


# Following a job: who may ---------------------------------------------------------------


@pytest.fixture
def jobs_of_world(world, credentials):
    """A job of p1's platform admin, one of the department admin (p1), one on p2."""
    CredentialFactory(issuer__platform=world.p2, entity_id="cred-p2")
    found = {}
    for name, role, entity_id, body in [
        ("admin", "platform_admin_p1", "cred-job", {"users": ["learner_p1"]}),
        ("department", "department_admin", "cred-job",
         {"users": ["learner_p1"], "department_mode": True}),
        ("p2", "platform_admin_p2", "cred-p2", {"users": ["learner_p2"]}),
    ]:  # fmt: skip
        org = "p2" if name == "p2" else "p1"
        response = bulk(
            world, body, role=role, entity_id=entity_id, prefer="respond-async", org=org
        )
        assert response.status_code == 202
        found[name] = response.json()["id"]
    found["unknown"] = "no-such-job"
    return found


FOLLOWERS = {
    # role: (query, {situation: status})
    "platform_admin_p1": ("", {"admin": 200, "department": 200, "p2": 404, "unknown": 404}),
    "dm_admin": ("", {"admin": 200, "department": 200, "p2": 404, "unknown": 404}),
    # A department admin follows their own jobs (another's result names users outside
    # their departments).
    "department_admin": (
        "?department_mode=true",
        {"admin": 404, "department": 200, "p2": 404, "unknown": 404},
    ),
    "department_admin-no-mode": ("", dict.fromkeys(("admin", "department", "p2", "unknown"), 403)),
    "learner_p1": ("", dict.fromkeys(("admin", "department", "p2", "unknown"), 403)),
    "platform_admin_p2": ("", dict.fromkeys(("admin", "department", "p2", "unknown"), 403)),
    "anonymous": ("", dict.fromkeys(("admin", "department", "p2", "unknown"), 401)),
}


@pytest.mark.parametrize("follower", list(FOLLOWERS))
@pytest.mark.parametrize("situation", ["admin", "department", "p2", "unknown"])
def test_who_may_follow_a_job(world, jobs_of_world, follower, situation):
    role = follower.removesuffix("-no-mode")
    query, expected = FOLLOWERS[follower]
    path_user = role if role != "anonymous" else "learner_p1"
    url = job_url(jobs_of_world[situation], user=path_user) + query
    response = world.client(role).get(url)
    assert response.status_code == expected[situation]
    if response.status_code == 200:
        assert response.json() == job_json(
            BulkIssueJob.objects.get(entity_id=jobs_of_world[situation])
        )
    if response.status_code == 404:  # another's, another platform's, unknown: the same
        assert response.json() == JOB_NOT_FOUND
    slash = world.client(role).get(job_url(jobs_of_world[situation], user=path_user) + "/" + query)
    assert (slash.status_code, slash.content) == (response.status_code, response.content)


def test_a_job_under_another_credential_is_not_found(world, credentials, jobs_of_world):
    response = world.client("platform_admin_p1").get(
        job_url(jobs_of_world["admin"], entity_id="cred-sync")
    )
    assert (response.status_code, response.json()) == (404, JOB_NOT_FOUND)


@pytest.mark.parametrize("job_id", ["%00", "a%00b", "%ED%A0%80", "x" * 300, "%20"])
def test_odd_job_ids_are_not_found(world, credentials, job_id):
    response = world.client("platform_admin_p1").get(job_url(job_id))
    assert (response.status_code, response.json()) == (404, JOB_NOT_FOUND)


def test_a_job_goes_with_its_credential(world, credentials, jobs_of_world):
    job = BulkIssueJob.objects.get(entity_id=jobs_of_world["admin"])
    credentials[0].delete()
    assert not BulkIssueJob.objects.filter(credential_id=credentials[0].pk).exists()
    assert run_bulk_issue_job.call(job.pk) == "gone"
    assert not Assertion.objects.exists()


def test_a_job_taken_by_another_worker_is_not_run_again(world, credentials):
    bulk(world, {"users": ["learner_p1"]}, prefer="respond-async")
    job = BulkIssueJob.objects.get()
    BulkIssueJob.objects.filter(pk=job.pk).update(status="running")
    assert run_bulk_issue_job.call(job.pk) == "running"
    assert not Assertion.objects.exists()
    job.refresh_from_db()
    assert (job.status, job.result, job.started) == ("running", None, None)


# The sweeper: jobs whose task never reached the queue, jobs whose worker stopped ----------


def backdated(job: BulkIssueJob, minutes: int, **fields) -> BulkIssueJob:
    then = timezone.now() - dt.timedelta(minutes=minutes)
    BulkIssueJob.objects.filter(pk=job.pk).update(created=then, **fields)
    job.refresh_from_db()
    return job


def test_the_sweeper_queues_again_a_job_whose_task_never_reached_the_queue(world, credentials):
    bulk(world, {"users": ["learner_p1"], "course": COURSE}, prefer="respond-async")
    bulk(world, {"users": ["learner_p2"], "course": COURSE}, prefer="respond-async")
    stale, _recent = BulkIssueJob.objects.order_by("pk")
    backdated(stale, 10)
    default_task_backend.clear()  # what the queue lost
    assert sweep() == [
        "1 bulk issue job queued again, 0 stalled jobs failed.",
        "0 stalled provider syncs queued again.",
        "0 webhook events dispatched, 0 stalled deliveries queued again.",
    ]
    assert queued_jobs() == [[stale.pk]]  # the recent one's task may still be queued
    assert run_bulk_issue_job.call(stale.pk) == "succeeded"
    assert Assertion.objects.filter(recipient=world.users["learner_p1"]).count() == 1
    # Queued again by a second sweep meanwhile: the job still runs once.
    assert run_bulk_issue_job.call(stale.pk) == "succeeded"
    assert Assertion.objects.filter(recipient=world.users["learner_p1"]).count() == 1
    assert (
        jobs.sweep_jobs(timezone.now()) == "0 bulk issue jobs queued again, 0 stalled jobs failed."
    )


def test_the_sweeper_fails_a_job_whose_worker_stopped(world, credentials, monkeypatch):
    response = bulk(world, {"users": ["learner_p1"], "course": COURSE}, prefer="respond-async")
    job = BulkIssueJob.objects.get()
    # A worker took it and stopped (its transaction rolled back: nothing issued).
    backdated(job, 20, status="running", started=timezone.now() - dt.timedelta(minutes=10))
    assert (
        jobs.sweep_jobs(timezone.now()) == "0 bulk issue jobs queued again, 1 stalled job failed."
    )
    followed = world.client("platform_admin_p1").get(response["Location"]).json()
    assert (followed["status"], followed["result"], followed["error"]) == (
        "failed",
        None,
        "The worker running this job stopped before it finished; nothing was issued. "
        "Send the request again.",
    )


# Failures: a failed job, never a 500 -----------------------------------------------------


def test_a_job_whose_work_raises_fails_and_says_so(world, credentials, monkeypatch, caplog):
    response = bulk(world, {"users": ["learner_p1"], "course": COURSE}, prefer="respond-async")
    job = BulkIssueJob.objects.get()

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "bulk_issue", broken)
    assert run_bulk_issue_job.call(job.pk) == "failed"
    followed = world.client("platform_admin_p1").get(response["Location"])
    assert followed.status_code == 200
    assert followed.json() == {
        **job_json(job),
        "status": "failed",
        "result": None,
        "error": "The bulk issue failed unexpectedly; nothing was issued.",
    }
    assert job.finished is not None
    assert not Assertion.objects.exists() and issued_events("cred-job") == set()
    assert "the database went away" in caplog.text  # the details are in the log only
    assert run_bulk_issue_job.call(job.pk) == "failed"  # not run again


def test_nothing_is_issued_when_the_job_fails_after_issuing(world, credentials, monkeypatch):
    bulk(world, {"users": ["learner_p1", "department_admin"]}, prefer="respond-async")
    job = BulkIssueJob.objects.get()
    real = services.bulk_issue

    def issue_then_fail(**kwargs):
        real(**kwargs)
        assert Assertion.objects.count() == 2
        raise RuntimeError("after the write")

    monkeypatch.setattr(services, "bulk_issue", issue_then_fail)
    assert run_bulk_issue_job.call(job.pk) == "failed"
    assert not Assertion.objects.exists() and issued_events("cred-job") == set()


def test_a_requester_who_lost_their_rights_gets_a_failed_job(world, credentials):
    bulk(world, {"users": ["learner_p1"]}, prefer="respond-async")
    job = BulkIssueJob.objects.get()
    PlatformMembership.objects.filter(user=world.users["platform_admin_p1"]).update(is_admin=False)
    assert run_bulk_issue_job.call(job.pk) == "failed"
    job.refresh_from_db()
    assert job.error == jobs.REQUESTER_MAY_NOT_ISSUE
    assert not Assertion.objects.exists()


def test_a_deleted_requester_gets_a_failed_job(world, credentials):
    bulk(world, {"users": ["learner_p1"]}, prefer="respond-async")
    job = BulkIssueJob.objects.get()
    world.users["platform_admin_p1"].delete()
    assert run_bulk_issue_job.call(job.pk) == "failed"
    job.refresh_from_db()
    assert (job.requested_by, job.issued_by, job.error) == (
        None, None, jobs.REQUESTER_MAY_NOT_ISSUE,
    )  # fmt: skip


def test_a_department_admins_job_uses_their_departments_when_it_runs(world, credentials):
    body = {"users": ["learner_p1", "learner_other_department", "nobody"], "department_mode": True}
    response = bulk(world, body, role="department_admin", prefer="respond-async")
    assert response.status_code == 202
    # Location keeps department_mode=true: the department admin follows it as it is.
    location = job_url(response.json()["id"], user="department_admin") + "?department_mode=true"
    assert response["Location"] == f"http://testserver{location}"
    job = BulkIssueJob.objects.get()
    # Joins the department before the task runs: in scope, as for a request sent now.
    DepartmentMember.objects.create(
        department=world.department, user=world.users["learner_other_department"]
    )
    assert run_bulk_issue_job.call(job.pk) == "succeeded"
    followed = world.client("department_admin").get(response["Location"])
    assert followed.status_code == 200
    assert followed.json()["result"] == {
        "issued": ["learner_p1", "learner_other_department"],
        "skipped": ["nobody"],
        "reasons": {"nobody": "user_not_in_department"},
    }
    assert job.request["department_mode"] is True


def test_a_department_admin_no_longer_admin_gets_a_failed_job(world, credentials):
    body = {"users": ["learner_p1"], "department_mode": True}
    bulk(world, body, role="department_admin", prefer="respond-async")
    job = BulkIssueJob.objects.get()
    world.department.departmentadmin_set.all().delete()
    assert run_bulk_issue_job.call(job.pk) == "failed"
    assert not Assertion.objects.exists()


# Query counts --------------------------------------------------------------------------


def test_the_202_and_the_job_take_a_fixed_number_of_queries(
    world, credentials, threshold, django_assert_max_num_queries
):
    threshold(1)
    bulk(world, {"users": ["nobody"]})  # the key's first use records it: not counted below
    counts = []
    for count, prefix in ((5, "small"), (300, "large")):
        names = [user.username for user in members(world, count, prefix)]
        with CaptureQueriesContext(connection) as queries:
            response = bulk(world, {"users": names, "course": COURSE})
        assert response.status_code == 202
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(counts[0]):
        response = bulk(world, {"users": ["learner_p1", "nobody"], "course": COURSE})
    assert response.status_code == 202
    job = BulkIssueJob.objects.filter(user_count=300).get()
    run_bulk_issue_job.call(job.pk)
    # The key, the platform, the membership, the credential, the job.
    with django_assert_max_num_queries(5):
        response = world.client("platform_admin_p1").get(job_url(job.entity_id))
    assert len(response.json()["result"]["issued"]) == 300


def test_the_post_202_query_budget(world, credentials, django_assert_max_num_queries):
    bulk(world, {"users": ["nobody"]})  # the key's first use records it: not counted below
    # The key, the platform, the membership, the credential, the course, the credential's
    # items, the job's INSERT (in a savepoint here: two more).
    with django_assert_max_num_queries(9):
        response = bulk(world, {"users": ["learner_p1"], "course": COURSE}, prefer="respond-async")
    assert response.status_code == 202


# The setting and the admin ----------------------------------------------------------------


def test_the_threshold_is_a_validated_setting():
    from ibl_core.conf import DEFAULTS, validate_settings

    assert DEFAULTS["BULK_ISSUE_TASK_THRESHOLD"] == 10_000
    assert validate_settings({"BULK_ISSUE_TASK_THRESHOLD": 500}) == []
    for bad in (0, -1, "100", True, 1.5):
        assert validate_settings({"BULK_ISSUE_TASK_THRESHOLD": bad}) == [
            f"BULK_ISSUE_TASK_THRESHOLD must be a positive integer, got {bad!r}."
        ]


def test_the_admin_lists_jobs_read_only(world, credentials, client):
    bulk(world, {"users": ["learner_p1", "nobody"]}, prefer="respond-async")
    job = BulkIssueJob.objects.get()
    run_bulk_issue_job.call(job.pk)
    client.force_login(world.users["dm_admin"])
    with CaptureQueriesContext(connection) as captured:
        listing = client.get("/admin/ibl_credentials/bulkissuejob/?status__exact=succeeded")
    assert listing.status_code == 200
    assert job.entity_id in listing.content.decode()
    # The list does not read the stored request and result (10,000 names each).
    table = BulkIssueJob._meta.db_table
    reads = [q["sql"] for q in captured.captured_queries if f'FROM "{table}"' in q["sql"]]
    assert reads and not any(f'"{table}"."request"' in sql for sql in reads)
    assert not any(f'"{table}"."result"' in sql for sql in reads)
    page = client.get(f"/admin/ibl_credentials/bulkissuejob/{job.pk}/change/")
    assert page.status_code == 200
    assert "user_not_found" in page.content.decode()  # the result, read-only
    assert (
        client.post(f"/admin/ibl_credentials/bulkissuejob/{job.pk}/change/", {}).status_code == 403
    )


@pytest.mark.slow
def test_the_schema_documents_the_202_and_the_job():
    import yaml

    from tests.project.test_schema import COMMITTED

    schema = yaml.safe_load(COMMITTED.read_text())
    base = "/api/credentials/orgs/{org}/users/{user_id}/{entity_id}/assertions/bulk/"
    post = schema["paths"][base]["post"]
    accepted = post["responses"]["202"]
    assert accepted["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BulkIssueJob"
    }
    assert set(accepted["headers"]) == {"Location", "Preference-Applied"}
    assert {"in": "header", "name": "Prefer"}.items() <= post["parameters"][0].items()
    get = schema["paths"][base + "{job_id}"]["get"]
    assert get["operationId"] == "credentials_orgs_users_assertions_bulk_job_retrieve"
    assert set(get["responses"]) >= {"200", "401", "403", "404"}
    job = schema["components"]["schemas"]["BulkIssueJob"]
    assert list(job["properties"]) == [
        "id", "status", "credential", "users", "created", "started", "finished", "result",
        "error",
    ]  # fmt: skip


@pytest.mark.live
def test_the_database_worker_runs_a_bulk_issue_job(tmp_path):
    """The job's task as a real worker runs it: queued on commit to the database queue,
    run by ``db_worker`` in another process."""
    from tests.core.test_tasks import manage
    from tests.support.live import example_env

    env = example_env(tmp_path, {"TASKS_BACKEND": "database"})
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    queue = """
from django.db import transaction
from ibl_credentials.assertions import jobs, services
from tests.support.credentials_factories import CredentialFactory
from tests.support.factories import MembershipFactory, PlatformFactory, UserFactory
platform = PlatformFactory(key="worker")
admin = MembershipFactory(platform=platform, is_admin=True).user
MembershipFactory(platform=platform, user=UserFactory(username="worker-learner"))
credential = CredentialFactory(issuer__platform=platform, entity_id="worker-cred")
with transaction.atomic():
    job = jobs.queue_bulk_issue(
        credential=credential, identities=["worker-learner", "nobody"],
        details=services.IssueDetails(), issued_by_id=admin.pk, requested_by_id=admin.pk,
        department_mode=False, base_url="https://badges.example.com",
    )
print(job.entity_id)
"""
    job_id = manage(env, "shell", "-c", queue).splitlines()[-1]

    manage(env, "db_worker", "--batch", "--no-startup-delay", "--no-reload")

    check = f"""
import json
from ibl_core.models import Event
from ibl_credentials.models import Assertion, BulkIssueJob
job = BulkIssueJob.objects.get(entity_id={job_id!r})
event = Event.objects.get(type="assertion.issued")
print(json.dumps([job.status, job.result, Assertion.objects.count(), event.payload["verifyUrl"]]))
"""
    status, result, assertions, verify_url = json.loads(
        manage(env, "shell", "-c", check).splitlines()[-1]
    )
    assert (status, assertions) == ("succeeded", 1)
    assert result == {
        "issued": ["worker-learner"],
        "skipped": ["nobody"],
        "reasons": {"nobody": "user_not_found"},
    }
    assert verify_url.startswith("https://badges.example.com/ob/v2/assertions/")
