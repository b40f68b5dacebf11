"""Bulk issues run by a background task: answered ``202 Accepted`` with a job to follow.

A bulk issue naming more users than ``BULK_ISSUE_TASK_THRESHOLD``, or any bulk issue
sent with ``Prefer: respond-async`` (RFC 7240), is checked in the request as usual
(body, item, credential, permissions: 4xx there, and no job), then saved as a
:class:`~ibl_credentials.models.BulkIssueJob` and answered at once. The task starts
when the request's transaction commits and runs the same service as the request would
(:func:`services.bulk_issue`), in one transaction with the job's result: a job that
succeeded has issued exactly what its result says, one that failed has issued nothing.

The task acts with the rights its requester has *when it runs*: their roles (and, for a
department admin, the members of their departments) are resolved again then, as the
request itself resolves them in the moment it writes. A requester who can no longer
issue on the platform (demoted, deactivated, deleted) gets a failed job, not assertions
issued in their name after their rights were taken away.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions
from rest_framework.request import Request

from ibl_core.api.representation import utc_text
from ibl_core.conf import ibl_settings
from ibl_core.events.tasks import enqueue_on_commit, task
from ibl_core.models import Platform
from ibl_core.sql.text import UNSTORABLE
from ibl_core.tenancy.roles import roles_for, roles_of_user, users_managed_by
from ibl_credentials.assertions import services
from ibl_credentials.models import BulkIssueJob, Credential
from ibl_credentials.openbadges.links import request_base_url

logger = logging.getLogger("ibl.credentials")

JOB_NOT_FOUND = "Bulk issue job not found."
REQUESTER_MAY_NOT_ISSUE = (
    "The user who sent this request may no longer issue credentials on this platform; "
    "nothing was issued."
)
UNEXPECTED_FAILURE = "The bulk issue failed unexpectedly; nothing was issued."
#: Characters of an error kept on a failed job.
ERROR_MAX_LENGTH = 500


# The request's side -------------------------------------------------------------------


def prefers_respond_async(request: Request) -> bool:
    """Whether a ``Prefer`` header (RFC 7240) asks for ``respond-async``.

    Preferences are separated by commas, their parameters by semicolons; names are
    case-insensitive. Repeated headers arrive joined by commas.
    """
    header = request.headers.get("Prefer", "")
    for preference in header.split(","):
        name = preference.split(";", 1)[0].split("=", 1)[0].strip().lower()
        if name == "respond-async":
            return True
    return False


def runs_as_job(user_count: int, *, prefer_async: bool) -> bool:
    """Whether a bulk issue to ``user_count`` users is answered with a job."""
    return prefer_async or user_count > int(ibl_settings.BULK_ISSUE_TASK_THRESHOLD)


def details_as_json(details: services.IssueDetails) -> dict[str, Any]:
    """The validated details of a request, as the job stores them."""
    return {
        "item": {
            "kind": details.item.kind,
            "key": details.item.key,
            "name": details.item.name,
        },
        "narrative": details.narrative,
        "evidence": details.evidence,
        "metadata": details.metadata,
        "expires": utc_text(details.expires) or None,
    }


def details_from_json(stored: dict[str, Any]) -> services.IssueDetails:
    """The details :func:`details_as_json` stored (no query: they were checked)."""
    item = stored["item"]
    expires = stored["expires"]
    return services.IssueDetails(
        item=services.Item(item["kind"], item["key"], item["name"]),
        narrative=stored["narrative"],
        evidence=stored["evidence"],
        metadata=stored["metadata"],
        expires=parse_datetime(expires) if expires else None,
    )


def queue_bulk_issue(
    *,
    credential: Credential,
    identities: Sequence[str | int],
    details: services.IssueDetails,
    issued_by_id: int | None,
    requested_by_id: int | None,
    department_mode: bool,
    base_url: str,
) -> BulkIssueJob:
    """Save a checked bulk issue as a job, and run it once this transaction commits.

    ``base_url`` is the request's scheme and host: the task names the assertions' public
    URLs (in their events) with it, as the request would have."""
    return queue_job(
        credential=credential,
        request={
            "users": [services.identity_text(identity) for identity in identities],
            "department_mode": department_mode,
            "base_url": base_url,
            **details_as_json(details),
        },
        user_count=len(identities),
        issued_by_id=issued_by_id,
        requested_by_id=requested_by_id,
    )


def queue_job(
    *,
    credential: Credential,
    request: dict[str, Any],
    user_count: int,
    issued_by_id: int | None,
    requested_by_id: int | None,
) -> BulkIssueJob:
    """Save a job of any kind (``request["kind"]``, absent: a bulk issue; see
    :func:`register_job_kind`) and run it once this transaction commits. ``request``
    carries ``department_mode`` and ``base_url`` as a bulk issue's does."""
    with transaction.atomic():
        job = BulkIssueJob.objects.create(
            platform_id=credential.platform_id,
            credential=credential,
            requested_by_id=requested_by_id,
            issued_by_id=issued_by_id,
            user_count=user_count,
            request=request,
        )
        enqueue_on_commit(run_bulk_issue_job, job.pk)
    return job


def job_object(job: BulkIssueJob, credential: Credential) -> dict[str, Any]:
    """The job as the API answers it."""
    return {
        "id": job.entity_id,
        "status": job.status,
        "credential": credential.entity_id,
        "users": job.user_count,
        "created": utc_text(job.created),
        "started": utc_text(job.started) or None,
        "finished": utc_text(job.finished) or None,
        "result": job.result,
        "error": job.error,
    }


def visible_jobs(request: Request, platform: Platform) -> QuerySet[BulkIssueJob]:
    """The jobs of ``platform`` the caller may follow: all of them for platform and DM
    admins; a department admin's own (another's result names users outside their
    departments). Others are simply not found."""
    found = BulkIssueJob.objects.filter(platform=platform)
    if roles_for(request, platform).manages_whole_platform:
        return found
    return found.filter(requested_by_id=request.user.pk)


def job_of_credential(credential: Credential, job_id: str, visible: QuerySet) -> BulkIssueJob:
    """The job ``job_id`` of ``credential`` among ``visible``; 404 otherwise (another
    platform's or another requester's job is not found, as an unknown one)."""
    job = None
    if not UNSTORABLE.search(job_id):  # a NUL no database can hold names no job
        job = visible.filter(credential=credential, entity_id=job_id).first()
    if job is None:
        raise exceptions.NotFound(JOB_NOT_FOUND)
    return job


# The task's side ----------------------------------------------------------------------


def requester_scope(job: BulkIssueJob) -> QuerySet | None:
    """The users the job's requester manages now (``None``: all the platform's), as the
    request would resolve them; ``PermissionDenied`` when they may no longer issue."""
    roles = roles_of_user(job.requested_by, job.platform)
    department_mode = bool(job.request.get("department_mode"))
    if not (roles.manages_whole_platform or (department_mode and roles.is_department_admin)):
        raise exceptions.PermissionDenied(REQUESTER_MAY_NOT_ISSUE)
    return users_managed_by(roles, department_mode)


def failure_text(error: Exception) -> str:
    """What a failed job says: a refusal's own message, else a generic one (the log has
    the details)."""
    if isinstance(error, exceptions.APIException):
        detail = error.detail
        text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)
        return str(text)[:ERROR_MAX_LENGTH]
    return UNEXPECTED_FAILURE


#: What a job of one kind does, in the job's transaction: ``(job, scope)`` -> its
#: result (``{"issued", "skipped", "reasons"}``). ``scope``: the users the requester
#: manages now (``None``: all the platform's).
JobRunner = Callable[[BulkIssueJob, "QuerySet | None"], dict[str, Any]]

BULK_ISSUE = "bulk_issue"
_RUNNERS: dict[str, JobRunner] = {}


def register_job_kind(kind: str, runner: JobRunner) -> None:
    """Run the jobs whose ``request["kind"]`` is ``kind`` with ``runner`` (another part
    of the app, such as credential assignments, reuses the queue, the job's states, its
    URL and the sweeper this way)."""
    _RUNNERS[kind] = runner


def run_bulk_issue(job: BulkIssueJob, scope: QuerySet | None) -> dict[str, Any]:
    """A bulk issue job: :func:`services.bulk_issue` with the stored request."""
    outcome = services.bulk_issue(
        credential=job.credential,
        identities=job.request["users"],
        details=details_from_json(job.request),
        issued_by_id=job.issued_by_id,
        scope=scope,
    )
    return {"issued": outcome.issued, "skipped": outcome.skipped, "reasons": outcome.reasons}


register_job_kind(BULK_ISSUE, run_bulk_issue)


@task()
def run_bulk_issue_job(job_pk: int) -> str:
    """Run a queued bulk issue job; its status when done.

    The job is taken with a conditional update (queued -> running), so it never runs
    twice. A job gone with its credential meanwhile returns quietly (``"gone"``).
    """
    now = timezone.now()
    running = BulkIssueJob.Status.RUNNING
    taken = BulkIssueJob.objects.filter(pk=job_pk, status=BulkIssueJob.Status.QUEUED).update(
        status=running, started=now
    )
    if not taken:
        current = BulkIssueJob.objects.filter(pk=job_pk).values_list("status", flat=True).first()
        return current or "gone"
    job = (
        BulkIssueJob.objects.select_related("platform", "credential__platform", "requested_by")
        .filter(pk=job_pk)
        .first()
    )
    if job is None:  # its credential was deleted meanwhile
        return "gone"
    try:
        with transaction.atomic(), request_base_url(job.request.get("base_url", "")):
            runner = _RUNNERS[job.request.get("kind", BULK_ISSUE)]
            result = runner(job, requester_scope(job))
            # Only while it is still running: the sweeper may have failed it as stalled
            # meanwhile, and a failed job has issued nothing.
            finished = BulkIssueJob.objects.filter(pk=job_pk, status=running).update(
                status=BulkIssueJob.Status.SUCCEEDED,
                result=result,
                issued_count=len(result["issued"]),
                skipped_count=len(result["skipped"]),
                finished=timezone.now(),
            )
            if not finished:  # deleted with its credential, or failed as stalled
                transaction.set_rollback(True)
        if not finished:  # read once the rollback is done
            now_status = BulkIssueJob.objects.filter(pk=job_pk).values_list("status", flat=True)
            return now_status.first() or "gone"
        return BulkIssueJob.Status.SUCCEEDED.value
    except Exception as error:
        if isinstance(error, exceptions.APIException):
            logger.warning("Bulk issue job %s failed: %s", job.entity_id, error)
        else:
            logger.exception("Bulk issue job %s failed", job.entity_id)
        failed = BulkIssueJob.objects.filter(pk=job_pk, status=running).update(
            status=BulkIssueJob.Status.FAILED,
            error=failure_text(error),
            finished=timezone.now(),
        )
        if failed:
            return BulkIssueJob.Status.FAILED.value
        now_status = BulkIssueJob.objects.filter(pk=job_pk).values_list("status", flat=True)
        return now_status.first() or "gone"


# The sweeper's side -------------------------------------------------------------------

STALLED = (
    "The worker running this job stopped before it finished; nothing was issued. "
    "Send the request again."
)


def sweep_jobs(now: datetime) -> str:
    """For ``manage.py ibl_sweep``: queue again the jobs still queued
    ``SWEEP_AFTER_SECONDS`` after they were created (in the last
    ``SWEEP_LOOKBACK_SECONDS``: their task may never have reached the queue; a job
    runs once whatever the number of its tasks), and fail the jobs running for longer
    (their worker stopped: the issue and the result are one transaction, so nothing
    was issued; a worker that was only slow finds the job failed and rolls back)."""
    until = now - timedelta(seconds=ibl_settings.SWEEP_AFTER_SECONDS)
    floor = now - timedelta(seconds=ibl_settings.SWEEP_LOOKBACK_SECONDS)
    queued = list(
        BulkIssueJob.objects.filter(
            status=BulkIssueJob.Status.QUEUED, created__lte=until, created__gte=floor
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for job_pk in queued:
        run_bulk_issue_job.enqueue(job_pk)
    stalled = BulkIssueJob.objects.filter(
        status=BulkIssueJob.Status.RUNNING, started__lte=until
    ).update(status=BulkIssueJob.Status.FAILED, error=STALLED, finished=now)
    return (
        f"{len(queued)} bulk issue job{'s' if len(queued) != 1 else ''} queued again, "
        f"{stalled} stalled job{'s' if stalled != 1 else ''} failed."
    )
