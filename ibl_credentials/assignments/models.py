"""An assignment says "this credential is awarded to these people"; carrying it out
issues the assertions (``services``).

A :class:`UserAssignment` is one user's: it holds the assertion that carried it out.
A :class:`GroupAssignment` gives a user assignment to every member of a user group
(linked to it, so removing the group assignment removes exactly those), through a
background job; with ``follow_membership`` it also gives one to every later joiner.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from ibl_core.models import Platform, UserGroup
from ibl_credentials.validators import validate_entity_id, validate_unreserved_entity_id

#: ``ibl_credentials.models`` imports this module (to register the models): the models
#: of that module are named by label here, not imported.
CREDENTIAL = "ibl_credentials.Credential"
ASSERTION = "ibl_credentials.Assertion"
BULK_ISSUE_JOB = "ibl_credentials.BulkIssueJob"


def generate_assignment_id() -> str:
    """A new opaque, URL-safe assignment id (128 random bits), as entityIds are."""
    return secrets.token_urlsafe(16)


def entity_id_field() -> models.CharField:
    """An assignment's id in the API: generated, opaque, URL-safe, unique."""
    return models.CharField(
        max_length=100,
        unique=True,
        default=generate_assignment_id,
        validators=[validate_entity_id, validate_unreserved_entity_id],
        help_text="Opaque URL-safe identifier (id in the API).",
    )


class AssignmentStatus(models.TextChoices):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


class GroupAssignment(models.Model):
    """A credential assigned to a user group."""

    entity_id = entity_id_field()
    platform = models.ForeignKey(
        Platform, on_delete=models.CASCADE, related_name="group_credential_assignments"
    )
    credential = models.ForeignKey(
        CREDENTIAL, on_delete=models.CASCADE, related_name="group_assignments"
    )
    group = models.ForeignKey(
        UserGroup, on_delete=models.CASCADE, related_name="credential_assignments"
    )
    follow_membership = models.BooleanField(
        default=False, help_text="Users who join the group later are assigned too."
    )
    job = models.ForeignKey(
        BULK_ISSUE_JOB,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="group_assignments",
        help_text="The job that assigns the group's members (the latest request's).",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created = models.DateTimeField(default=timezone.now)
    modified = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "group"], name="ibl_group_assignment_unique"
            )
        ]
        indexes = [
            models.Index(fields=["platform", "-created", "-id"], name="ibl_group_assign_new"),
        ]

    def __str__(self) -> str:
        return self.entity_id


class UserAssignment(models.Model):
    """A credential assigned to one user: directly, or through a group assignment."""

    entity_id = entity_id_field()
    platform = models.ForeignKey(
        Platform, on_delete=models.CASCADE, related_name="user_credential_assignments"
    )
    credential = models.ForeignKey(
        CREDENTIAL, on_delete=models.CASCADE, related_name="user_assignments"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credential_assignments"
    )
    group_assignment = models.ForeignKey(
        GroupAssignment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="user_assignments",
        help_text="Empty: assigned directly.",
    )
    status = models.CharField(
        max_length=10, choices=AssignmentStatus.choices, default=AssignmentStatus.PENDING
    )
    assertion = models.ForeignKey(
        ASSERTION,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assignments",
        help_text="The assertion that carried the assignment out.",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created = models.DateTimeField(default=timezone.now)
    modified = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "user"], name="ibl_user_assignment_unique"
            )
        ]
        indexes = [
            models.Index(fields=["platform", "-created", "-id"], name="ibl_user_assign_new"),
        ]

    def __str__(self) -> str:
        return self.entity_id
