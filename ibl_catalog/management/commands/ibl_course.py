from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from ibl_catalog.models import Course, validate_course_id
from ibl_core.management.base import IblCommand, check_length, get_platform


class Command(IblCommand):
    help = (
        "Create or update a course of a platform's catalog. COURSE_ID is an Open edX "
        "course key: course-v1:ORG+COURSE+RUN (or the older ORG/COURSE/RUN)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("course_id")
        parser.add_argument("--platform", required=True, metavar="KEY")
        parser.add_argument("--name", required=True)

    def handle(self, *args: Any, course_id: str, platform: str, name: str, **options: Any) -> None:
        check_length(course_id, 255, "COURSE_ID")
        try:
            validate_course_id(course_id)
        except ValidationError:
            raise CommandError(
                f"Invalid course id {course_id!r}: use course-v1:ORG+COURSE+RUN "
                "(or ORG/COURSE/RUN)."
            ) from None
        if not name.strip() or len(name) > 255:
            raise CommandError("--name must be 1 to 255 characters.")
        course, created = Course.objects.update_or_create(
            platform=get_platform(platform),
            course_id=course_id,
            defaults={"name": name, "enabled": True},
        )
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} course {course.course_id} on {platform}.")
