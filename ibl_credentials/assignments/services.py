"""Writes: assigning a credential to users and groups, and removing assignments.

Assigning issues through the assertions' own write (``services.issue_to_members``, the
write of a bulk issue): the same events, Open Badges documents and status index, one
active assertion per recipient. Each user gets one assignment per credential, holding
the assertion that carried it out: assigning again changes nothing (an assignment
whose assertion was revoked or expired since gets a new one).

Bulk work is set-based: the members, the department scope, the issue, the existing
assignments and their writes are each one statement (the inserts batched as Django's
``bulk_create`` batches them), whatever the number of users.

Jobs: a user assignment past ``BULK_ISSUE_TASK_THRESHOLD`` users and every group
assignment run as bulk issue jobs (``assertions.jobs``: the same queue, states, URL
and sweeper), with the kinds registered here (:func:`register_jobs`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import exceptions

from ibl_core.models import Platform, UserGroup
from ibl_core.sql import in_list, retrying_transaction
from ibl_core.sql.text import UNSTORABLE
from ibl_core.tenancy.groups import group_members, with_user_count
from ibl_core.tenancy.members import platform_members
from ibl_core.tenancy.roles import roles_of_user, users_managed_by
from ibl_core.tenancy.scope import classify, users_in_scope
from ibl_credentials.assertions import jobs
from ibl_credentials.assertions.services import (
    NO_ITEM,
    IssueDetails,
    active_assertions,
    issue_to_members,
    revoke_assertion,
    revoke_many,
)
from ibl_credentials.assignments.models import AssignmentStatus, GroupAssignment, UserAssignment
from ibl_credentials.models import Assertion, BulkIssueJob, Credential

logger = logging.getLogger("ibl.credentials")

#: The revocation reason of an assertion whose assignment is removed.
ASSIGNMENT_REMOVED = "assignment removed"
CREDENTIAL_NOT_FOUND_MESSAGE = "No such credential on this platform."
GROUP_NOT_FOUND_MESSAGE = "No such group on this platform."

#: The job kinds (``BulkIssueJob.request["kind"]``).
USER_ASSIGNMENT_JOB = "user_assignment"
GROUP_ASSIGNMENT_JOB = "group_assignment"

#: An assignment's assertion: for the credential, no catalog item.
ASSIGNMENT_DETAILS = IssueDetails()


@dataclass
class AssignOutcome:
    """Who was assigned (user ids, in the order sent, each once) and who was not, why."""

    assigned: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    #: Assignments created or renewed (0: the request changed nothing).
    changed: int = 0

    def as_job_result(self) -> dict[str, Any]:
        """The result a job keeps: the bulk issue's ``issued``/``skipped``/``reasons``,
        the users named by their ids as text."""
        return {
            "issued": [str(user_id) for user_id in self.assigned],
            "skipped": [str(user_id) for user_id, _ in self.failed],
            "reasons": {str(user_id): reason for user_id, reason in self.failed},
        }


def credential_for_assignment(platform: Platform, entity_id: str) -> Credential:
    """The credential a body names by ``credential_id``; 400 on the field otherwise
    (another platform's is unknown too)."""
    credential = None
    if not UNSTORABLE.search(entity_id):
        credential = (
            Credential.objects.filter(platform=platform, entity_id=entity_id)
            .select_related("platform", "issuer")
            .first()
        )
    if credential is None:
        raise exceptions.ValidationError({"credential_id": [CREDENTIAL_NOT_FOUND_MESSAGE]})
    return credential


def assign_users(
    *,
    credential: Credential,
    user_ids: Sequence[int],
    assigned_by_id: int | None,
    scope: QuerySet | None,
    group_assignment_id: int | None = None,
) -> AssignOutcome:
    """Assign ``credential`` to each of ``user_ids`` the caller may name, issuing the
    assertions; run in (or as) one transaction.

    Reasons, decided in this order (``ibl_core.tenancy.scope``): ``user_not_in_department`` (a
    department admin: outside their departments, unknown or non-member alike), then
    ``user_not_found``. A user named twice counts once. A user who already holds an
    assignment of the credential keeps it (and its group link, or lack of one).
    """
    wanted = list(dict.fromkeys(user_ids))
    platform = credential.platform
    members = set(
        platform_members(platform).filter(in_list("pk", set(wanted))).values_list("pk", flat=True)
    )
    in_scope = users_in_scope(scope, wanted)
    outcome = AssignOutcome()
    for user_id in wanted:
        code = classify(user_id, in_scope, is_member=user_id in members)
        if code is None:
            outcome.assigned.append(user_id)
        else:
            outcome.failed.append((user_id, code))
    if outcome.assigned:
        outcome.changed = retrying_transaction(
            lambda: write_assignments(
                credential, outcome.assigned, assigned_by_id, group_assignment_id
            )
        )
    return outcome


def write_assignments(
    credential: Credential,
    user_ids: Sequence[int],
    assigned_by_id: int | None,
    group_assignment_id: int | None,
) -> int:
    """Issue to ``user_ids`` (checked members) and record each one's assignment with
    the assertion they hold now; how many assignments were created or renewed."""
    recipients = set(user_ids)
    issue_to_members(credential, recipients, ASSIGNMENT_DETAILS, assigned_by_id)
    held = dict(
        active_assertions(credential, NO_ITEM)
        .filter(in_list("recipient_id", recipients))
        .values_list("recipient_id", "pk")
    )
    existing = {
        assignment.user_id: assignment
        for assignment in UserAssignment.objects.filter(
            in_list("user_id", recipients), credential=credential
        ).only("pk", "user_id", "assertion_id", "status")
    }
    now = timezone.now()
    UserAssignment.objects.bulk_create(
        [
            UserAssignment(
                platform_id=credential.platform_id,
                credential=credential,
                user_id=user_id,
                group_assignment_id=group_assignment_id,
                status=AssignmentStatus.COMPLETED,
                assertion_id=held.get(user_id),
                assigned_by_id=assigned_by_id,
                created=now,
                modified=now,
            )
            for user_id in sorted(recipients - set(existing))
        ],
        ignore_conflicts=True,  # assigned by a concurrent request meanwhile: the same
    )
    renewed = []
    for user_id, assignment in existing.items():
        if assignment.assertion_id != held.get(user_id) or assignment.status != "completed":
            assignment.assertion_id = held.get(user_id)
            assignment.status = AssignmentStatus.COMPLETED
            assignment.modified = now
            renewed.append(assignment)
    if renewed:
        UserAssignment.objects.bulk_update(renewed, ["assertion", "status", "modified"])
    return len(recipients) - len(existing) + len(renewed)


def assignments_of(credential: Credential, user_ids: Sequence[int]) -> list[UserAssignment]:
    """The credential's assignments of ``user_ids``, in that order (one query)."""
    from ibl_credentials.assignments.selectors import USER_RELATED

    found = {
        assignment.user_id: assignment
        for assignment in UserAssignment.objects.filter(
            in_list("user_id", set(user_ids)), credential=credential
        ).select_related(*USER_RELATED)
    }
    return [found[user_id] for user_id in user_ids if user_id in found]


# Groups -----------------------------------------------------------------------------------


def groups_for_assignment(groups: QuerySet[UserGroup], group_ids: Sequence[int]) -> list[UserGroup]:
    """The groups ``group_ids`` names among those the caller manages, in that order; 400
    on ``group_ids`` when one is not (unknown, another platform's, or one a department
    admin does not manage: one answer)."""
    wanted = list(dict.fromkeys(group_ids))
    found = {group.pk: group for group in groups.filter(in_list("pk", set(wanted)))}
    missing = [group_id for group_id in wanted if group_id not in found]
    if missing:
        raise exceptions.ValidationError(
            {"group_ids": [f"{GROUP_NOT_FOUND_MESSAGE} ({', '.join(map(str, missing))})"]}
        )
    return [found[group_id] for group_id in wanted]


def assign_groups(
    *,
    credential: Credential,
    groups: Sequence[UserGroup],
    follow_membership: bool,
    assigned_by_id: int | None,
    requested_by_id: int | None,
    department_mode: bool,
    base_url: str,
) -> tuple[list[GroupAssignment], BulkIssueJob]:
    """Create (or update: ``follow_membership``) one group assignment per group and queue
    one job that assigns every current member of them; the assignments and the job."""
    group_ids = [group.pk for group in groups]
    with transaction.atomic():
        now = timezone.now()
        of_groups = GroupAssignment.objects.filter(
            in_list("group_id", group_ids), credential=credential
        )
        existing = set(of_groups.values_list("group_id", flat=True))
        GroupAssignment.objects.bulk_create(
            [
                GroupAssignment(
                    platform_id=credential.platform_id,
                    credential=credential,
                    group_id=group_id,
                    follow_membership=follow_membership,
                    assigned_by_id=assigned_by_id,
                    created=now,
                    modified=now,
                )
                for group_id in group_ids
                if group_id not in existing
            ],
            ignore_conflicts=True,  # assigned by a concurrent request meanwhile: the same
        )
        of_groups.exclude(follow_membership=follow_membership).update(
            follow_membership=follow_membership, modified=now
        )
        by_group = {assignment.group_id: assignment for assignment in of_groups}
        assignments = [by_group[group_id] for group_id in group_ids]
        counted: Any = with_user_count(UserGroup.objects.filter(in_list("pk", group_ids)))
        member_count = sum(counted.values_list("user_count", flat=True))
        job = jobs.queue_job(
            credential=credential,
            request={
                "kind": GROUP_ASSIGNMENT_JOB,
                "group_assignments": [assignment.pk for assignment in assignments],
                "department_mode": department_mode,
                "base_url": base_url,
            },
            user_count=member_count,
            issued_by_id=assigned_by_id,
            requested_by_id=requested_by_id,
        )
        of_groups.update(job=job)
    return assignments, job


def queue_user_assignment(
    *,
    credential: Credential,
    user_ids: Sequence[int],
    assigned_by_id: int | None,
    requested_by_id: int | None,
    department_mode: bool,
    base_url: str,
) -> BulkIssueJob:
    """A user assignment past the synchronous threshold, as a job."""
    return jobs.queue_job(
        credential=credential,
        request={
            "kind": USER_ASSIGNMENT_JOB,
            "user_ids": list(user_ids),
            "department_mode": department_mode,
            "base_url": base_url,
        },
        user_count=len(user_ids),
        issued_by_id=assigned_by_id,
        requested_by_id=requested_by_id,
    )


def run_user_assignment_job(job: BulkIssueJob, scope: QuerySet | None) -> dict[str, Any]:
    outcome = assign_users(
        credential=job.credential,
        user_ids=job.request["user_ids"],
        assigned_by_id=job.issued_by_id,
        scope=scope,
    )
    return outcome.as_job_result()


def run_group_assignment_job(job: BulkIssueJob, scope: QuerySet | None) -> dict[str, Any]:
    """Assign every current member of the job's group assignments (those still there:
    one removed meanwhile is skipped), each linked to its group assignment."""
    total = AssignOutcome()
    assignments = (
        GroupAssignment.objects.select_for_update(of=("self",))
        .filter(in_list("pk", job.request["group_assignments"]), credential=job.credential)
        .select_related("group__platform")
        .order_by("pk")
    )
    for assignment in assignments:
        members = sorted(group_members(assignment.group).values_list("pk", flat=True))
        outcome = assign_users(
            credential=job.credential,
            user_ids=members,
            assigned_by_id=job.issued_by_id,
            scope=scope,
            group_assignment_id=assignment.pk,
        )
        total.assigned.extend(u for u in outcome.assigned if u not in total.assigned)
        total.failed.extend(outcome.failed)
    return total.as_job_result()


def register_jobs() -> None:
    """Let the bulk issue job runner run assignment jobs (``apps.ready``)."""
    jobs.register_job_kind(USER_ASSIGNMENT_JOB, run_user_assignment_job)
    jobs.register_job_kind(GROUP_ASSIGNMENT_JOB, run_group_assignment_job)


def on_group_members_changed(
    sender: Any, group: UserGroup, added: list[int], removed: list[int], **kwargs: Any
) -> None:
    """``group_members_changed`` receiver: users who join a group whose assignments
    follow membership are assigned, in the transaction of the change. The assigner's
    rights are those they have now (as a job's); an assigner who may no longer assign
    assigns nobody. Users who leave keep what they were awarded."""
    if not added:
        return
    following = GroupAssignment.objects.filter(group=group, follow_membership=True).select_related(
        "credential__platform", "assigned_by"
    )
    for assignment in following:
        roles = roles_of_user(assignment.assigned_by, assignment.credential.platform)
        if not (roles.manages_whole_platform or roles.is_department_admin):
            logger.warning(
                "Group assignment %s: its assigner may no longer assign; joiners not assigned.",
                assignment.entity_id,
            )
            continue
        assign_users(
            credential=assignment.credential,
            user_ids=added,
            assigned_by_id=assignment.assigned_by_id,
            scope=users_managed_by(roles, True),
            group_assignment_id=assignment.pk,
        )


# Removing ----------------------------------------------------------------------------------


def remove_assignment(assignment: UserAssignment | GroupAssignment) -> None:
    """Remove an assignment and revoke (permanently) what it issued, through the
    assertions' revoke: the revocation record, the events, the status list.

    A group assignment takes its user assignments with it (not the ones its members
    held before it, which stay)."""
    with transaction.atomic():
        if isinstance(assignment, UserAssignment):
            locked = (
                UserAssignment.objects.select_for_update(of=("self",))
                .filter(pk=assignment.pk)
                .select_related("assertion__credential__issuer", "assertion__recipient")
                .first()
            )
            if locked is None:
                return  # removed concurrently
            if locked.assertion is not None:
                revoke_assertion(locked.assertion, ASSIGNMENT_REMOVED)
            locked.delete()
            return
        if not GroupAssignment.objects.select_for_update().filter(pk=assignment.pk).exists():
            return
        linked = UserAssignment.objects.filter(group_assignment=assignment)
        issued = linked.exclude(assertion=None).values_list("assertion_id", flat=True)
        revoke_many(Assertion.objects.filter(in_list("pk", list(issued))), ASSIGNMENT_REMOVED)
        linked.delete()
        GroupAssignment.objects.filter(pk=assignment.pk).delete()


def outcome_message(outcome: AssignOutcome) -> str:
    """One line for people: how many were assigned, and how many were not."""
    assigned, failed = len(outcome.assigned), len(outcome.failed)
    users = "user" if assigned == 1 else "users"
    text = f"{assigned} {users} assigned"
    if outcome.assigned and not outcome.changed:
        text += " (already assigned: nothing changed)"
    return f"{text}, {failed} failed." if failed else f"{text}."
