"""Bulk issue jobs on PostgreSQL: a job delivered to many workers at once runs once, and
a job racing its credential's delete goes with it, never a 500 or a half-done job."""

from __future__ import annotations

import threading

from django.db import close_old_connections, transaction

from ibl_core.models import Event
from ibl_credentials.assertions.jobs import run_bulk_issue_job
from ibl_credentials.models import Assertion, BulkIssueJob, Credential
from tests.credentials.test_credentials_assertions_postgres import setup as race_world
from tests.support.assertion_helpers import bulk_url
from tests.support.race_helpers import RACES, run_together

pytestmark = RACES
THREADS = 8


def queued_job(client, learners) -> BulkIssueJob:
    response = client().post(
        bulk_url("race-cred", "race-admin", "race"),
        {"users": [learner.username for learner in learners]},
        format="json",
        HTTP_PREFER="respond-async",
    )
    assert response.status_code == 202
    return BulkIssueJob.objects.get(entity_id=response.json()["id"])


def test_a_job_run_by_many_workers_at_once_runs_once():
    _, learners, client = race_world()
    job = queued_job(client, learners)
    answers = run_together([lambda: run_bulk_issue_job.call(job.pk) for _ in range(THREADS)])
    # One worker took it; the others found it running or already done.
    assert answers.count("succeeded") >= 1
    assert set(answers) <= {"succeeded", "running"}
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert job.result["issued"] == [learner.username for learner in learners]
    assert Assertion.objects.count() == len(learners) == 20
    assert Event.objects.filter(type="assertion.issued").count() == 20


def test_a_job_racing_its_credentials_delete_goes_with_it():
    """The delete holds the credential's row; the task waits for it, then finds no
    credential: the job is gone with it, nothing issued, no error."""
    credential, learners, client = race_world()
    job = queued_job(client, learners)
    deleting, answered = threading.Event(), {}

    def delete_slowly():
        with transaction.atomic():
            Credential.objects.select_for_update().get(pk=credential.pk).delete()
            deleting.set()
            threading.Event().wait(1.0)  # the task runs while the delete holds the row
        close_old_connections()

    def run_task():
        deleting.wait(5)
        answered["status"] = run_bulk_issue_job.call(job.pk)
        close_old_connections()

    threads = [threading.Thread(target=delete_slowly), threading.Thread(target=run_task)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answered["status"] == "gone"
    assert not BulkIssueJob.objects.exists()
    assert not Assertion.objects.exists()


def test_a_slow_worker_whose_job_the_sweeper_failed_issues_nothing():
    """The worker has issued, not committed; the sweeper (another connection) takes the
    job for stalled and fails it: the worker finds it failed and rolls its issue back."""
    from datetime import timedelta

    from django.utils import timezone

    from ibl_credentials.assertions import jobs, services

    _, learners, client = race_world()
    job = queued_job(client, learners)
    issued, swept, answered = threading.Event(), threading.Event(), {}
    real = services.bulk_issue

    def slow(**kwargs):
        outcome = real(**kwargs)
        issued.set()
        assert swept.wait(30)
        return outcome

    def worker():
        try:
            answered["worker"] = run_bulk_issue_job.call(job.pk)
        finally:
            close_old_connections()

    services.bulk_issue, thread = slow, threading.Thread(target=worker)
    try:
        thread.start()
        assert issued.wait(30)
        later = timezone.now() + timedelta(hours=1)
        assert jobs.sweep_jobs(later) == "0 bulk issue jobs queued again, 1 stalled job failed."
        swept.set()
        thread.join(30)
    finally:
        services.bulk_issue = real
    assert answered == {"worker": "failed"}
    job.refresh_from_db()
    assert (job.status, job.result, job.error) == ("failed", None, jobs.STALLED)
    assert not Assertion.objects.exists()
    assert not Event.objects.filter(type="assertion.issued").exists()
