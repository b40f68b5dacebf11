"""The catalog (courses, pathways, programs), and the suggestions of them made to learners."""

from __future__ import annotations

import re
import uuid

from django.core.exceptions import ValidationError
from django.db import models

from ibl_catalog.suggestions.base import GroupSuggestionBase, SuggestionBase
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


#: ``course-v1:ORG+COURSE+RUN``: Open edX course keys; each part as Open edX allows
#: (letters, digits, ``_ - . ~ :``).
COURSE_KEY_RE = re.compile(r"course-v1:[\w.~:-]+\+[\w.~:-]+\+[\w.~:-]+")
#: ``ORG/COURSE/RUN``: the older Open edX form, still the id of courses created before it
#: (letters, digits, ``_ - . %`` in each part).
DEPRECATED_COURSE_KEY_RE = re.compile(r"[\w.%-]+/[\w.%-]+/[\w.%-]+")


def validate_course_id(value: str) -> None:
    """Accept an Open edX course key, ``course-v1:ORG+COURSE+RUN`` or ``ORG/COURSE/RUN``.

    Courses are named by the ids the learning platform gives them; anything else is a
    typo that would make a course nobody can suggest by its real id.
    """
    if not (COURSE_KEY_RE.fullmatch(value) or DEPRECATED_COURSE_KEY_RE.fullmatch(value)):
        raise ValidationError(
            "Enter a course id such as course-v1:org+course+run (or org/course/run).",
            code="invalid_course_id",
        )


class Course(TimeStampedModel):
    """A course of the platform's catalog, named by its ``course_id``."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="courses")
    course_id = models.CharField(
        max_length=255,
        validators=[validate_course_id],
        help_text="e.g. course-v1:org+course+run",
    )
    name = models.CharField(max_length=255)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["platform", "course_id"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "course_id"], name="ibl_course_unique")
        ]

    def __str__(self) -> str:
        return self.course_id


class Pathway(TimeStampedModel):
    """A pathway of the platform's catalog: a slug on its platform, a UUID everywhere."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="pathways")
    # The unique constraint below indexes (platform, pathway_id): no index of its own.
    pathway_id = models.SlugField(
        max_length=255, db_index=False, help_text="Letters, digits, - and _."
    )
    pathway_uuid = models.UUIDField(default=uuid.uuid4, unique=True)
    name = models.CharField(max_length=255)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["platform", "pathway_id"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "pathway_id"], name="ibl_pathway_unique")
        ]

    def __str__(self) -> str:
        return self.pathway_id


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
            # The learner view lists one user's suggestions, newest first.
            models.Index(fields=["user", "id"], name="ibl_progsugg_user_id"),
            # A search matching programs filters by (platform, program IN (...)): this
            # index answers it, and its count, without reading the rows.
            models.Index(fields=["platform", "program"], name="ibl_progsugg_platform_program"),
        ]

    def __str__(self) -> str:
        return f"{self.program_id} for {self.user_id}"


class CourseSuggestion(SuggestionBase):
    """A course suggested to a learner of the platform."""

    # Not ``course``: its column would be ``course_id``, the name the API gives the
    # course's own identifier in every suggestion object.
    item = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="suggestions")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "user", "item"], name="ibl_course_suggestion_unique"
            )
        ]
        indexes = [
            models.Index(fields=["platform", "id"], name="ibl_coursesugg_platform_id"),
            models.Index(fields=["platform", "created"], name="ibl_coursesugg_platform_crt"),
            models.Index(fields=["platform", "modified"], name="ibl_coursesugg_platform_mod"),
            models.Index(fields=["user", "id"], name="ibl_coursesugg_user_id"),
            models.Index(fields=["platform", "item"], name="ibl_coursesugg_platform_item"),
        ]

    def __str__(self) -> str:
        return f"course {self.item_id} for {self.user_id}"


class PathwaySuggestion(SuggestionBase):
    """A pathway suggested to a learner of the platform."""

    # Not ``pathway``: see CourseSuggestion.item.
    item = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="suggestions")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "user", "item"], name="ibl_pathway_suggestion_unique"
            )
        ]
        indexes = [
            models.Index(fields=["platform", "id"], name="ibl_pathsugg_platform_id"),
            models.Index(fields=["platform", "created"], name="ibl_pathsugg_platform_crt"),
            models.Index(fields=["platform", "modified"], name="ibl_pathsugg_platform_mod"),
            models.Index(fields=["user", "id"], name="ibl_pathsugg_user_id"),
            models.Index(fields=["platform", "item"], name="ibl_pathsugg_platform_item"),
        ]

    def __str__(self) -> str:
        return f"pathway {self.item_id} for {self.user_id}"


# Group suggestions. Their item foreign key is ``item`` for every kind, programs
# included: the engine addresses all three tables the same way, with no per-kind field
# name (``ProgramSuggestion.program`` predates the other kinds and keeps its name).


def group_suggestion_meta(label: str, short: str) -> type:
    """The Meta of ``label``'s group suggestion: unique (platform, group, item), and
    indexes for the list's default sort (id) and the created/modified sorts."""
    return type(
        "Meta",
        (),
        {
            "constraints": [
                models.UniqueConstraint(
                    fields=["platform", "group", "item"], name=f"ibl_{label}_groupsugg_unique"
                )
            ],
            "indexes": [
                models.Index(fields=["platform", "id"], name=f"ibl_{short}_gs_platform_id"),
                models.Index(fields=["platform", "created"], name=f"ibl_{short}_gs_platform_crt"),
                models.Index(fields=["platform", "modified"], name=f"ibl_{short}_gs_platform_mod"),
            ],
        },
    )


class CourseGroupSuggestion(GroupSuggestionBase):
    """A course suggested to every member of a user group."""

    item = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="group_suggestions")
    Meta = group_suggestion_meta("course", "crs")  # type: ignore[assignment]

    def __str__(self) -> str:
        return f"course {self.item_id} for group {self.group_id}"


class PathwayGroupSuggestion(GroupSuggestionBase):
    """A pathway suggested to every member of a user group."""

    item = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="group_suggestions")
    Meta = group_suggestion_meta("pathway", "pth")  # type: ignore[assignment]

    def __str__(self) -> str:
        return f"pathway {self.item_id} for group {self.group_id}"


class ProgramGroupSuggestion(GroupSuggestionBase):
    """A program suggested to every member of a user group."""

    item = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="group_suggestions")
    Meta = group_suggestion_meta("program", "prg")  # type: ignore[assignment]

    def __str__(self) -> str:
        return f"program {self.item_id} for group {self.group_id}"


# Which group suggestions gave a learner a per-user suggestion: a per-user row that
# no group suggestion supports any more and that was never written directly goes.


class CourseGroupSupport(models.Model):
    """A course group suggestion supports a learner's course suggestion."""

    group_suggestion = models.ForeignKey(
        CourseGroupSuggestion, on_delete=models.CASCADE, related_name="supports"
    )
    suggestion = models.ForeignKey(
        CourseSuggestion, on_delete=models.CASCADE, related_name="group_supports"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["group_suggestion", "suggestion"], name="ibl_course_groupsupport_unique"
            )
        ]

    def __str__(self) -> str:
        return f"group suggestion {self.group_suggestion_id} gives {self.suggestion_id}"


class PathwayGroupSupport(models.Model):
    """A pathway group suggestion supports a learner's pathway suggestion."""

    group_suggestion = models.ForeignKey(
        PathwayGroupSuggestion, on_delete=models.CASCADE, related_name="supports"
    )
    suggestion = models.ForeignKey(
        PathwaySuggestion, on_delete=models.CASCADE, related_name="group_supports"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["group_suggestion", "suggestion"], name="ibl_pathway_groupsupport_unique"
            )
        ]

    def __str__(self) -> str:
        return f"group suggestion {self.group_suggestion_id} gives {self.suggestion_id}"


class ProgramGroupSupport(models.Model):
    """A program group suggestion supports a learner's program suggestion."""

    group_suggestion = models.ForeignKey(
        ProgramGroupSuggestion, on_delete=models.CASCADE, related_name="supports"
    )
    suggestion = models.ForeignKey(
        ProgramSuggestion, on_delete=models.CASCADE, related_name="group_supports"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["group_suggestion", "suggestion"], name="ibl_program_groupsupport_unique"
            )
        ]

    def __str__(self) -> str:
        return f"group suggestion {self.group_suggestion_id} gives {self.suggestion_id}"


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
