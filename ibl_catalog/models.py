"""Programs, and the suggestions of them made to learners."""

from __future__ import annotations

from django.db import models

from ibl_core.models import Platform, TimeStampedModel


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
