"""Programs, and the suggestions of them made to learners."""

from __future__ import annotations

from django.db import models

from ibl_core.models import Platform, TimeStampedModel

from .suggestions.base import SuggestionBase


class Program(TimeStampedModel):
    """A program of the platform's catalog, named by its ``program_key``."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="programs")
    program_key = models.CharField(max_length=255, help_text="e.g. program-v1:org+program+run")
    name = models.CharField(max_length=255)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["platform", "program_key"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "program_key"], name="ibl_program_unique")
        ]

    def __str__(self) -> str:
        return self.program_key


class ProgramSuggestion(SuggestionBase):
    """A program suggested to a learner of the platform."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="suggestions")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "user", "program"], name="ibl_program_suggestion_unique"
            )
        ]
        indexes = [
            # The list filters by platform and sorts by id (default), created or modified.
            models.Index(fields=["platform", "id"], name="ibl_progsugg_platform_id"),
            models.Index(fields=["platform", "created"], name="ibl_progsugg_platform_created"),
            models.Index(fields=["platform", "modified"], name="ibl_progsugg_platform_modified"),
            # A search matching programs filters by (platform, program IN (...)): this
            # index answers it, and its count, without reading the rows.
            models.Index(fields=["platform", "program"], name="ibl_progsugg_platform_program"),
        ]

    def __str__(self) -> str:
        return f"{self.program_id} for {self.user_id}"


class SuggestionCount(models.Model):
    """Part of the number of suggestions of one kind on one platform (``counts.py``).

    The count is the sum of ``delta`` over a platform's rows. Triggers on the suggestion
    tables write these rows; nothing else should. No foreign-key constraint: a trigger
    fired by the deletion of a platform's suggestions must not fail because the
    platform goes in the same transaction.
    """

    platform = models.ForeignKey(
        Platform, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    kind = models.CharField(max_length=32)
    delta = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["platform", "kind"], name="ibl_suggcount_platform_kind")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.platform_id}: {self.delta:+d}"
