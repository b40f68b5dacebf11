from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from ibl_core.management.base import IblCommand, get_platform
from ibl_core.models import Department
from ibl_core.tenancy import groups


class Command(IblCommand):
    help = (
        "Create or update a user group of a platform and print its id (and nothing "
        "else). --add and --remove name users by username; those added must be active "
        "members of the platform. --department names an existing department of it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--platform", required=True, metavar="KEY")
        parser.add_argument("--department", metavar="NAME")
        parser.add_argument("--add", action="append", default=[], metavar="USERNAME")
        parser.add_argument("--remove", action="append", default=[], metavar="USERNAME")

    def handle(
        self,
        *args: Any,
        name: str,
        platform: str,
        department: str | None,
        add: list[str],
        remove: list[str],
        **options: Any,
    ) -> None:
        try:
            groups.validate_group_name(name)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        both = sorted(set(add) & set(remove))
        if both:
            raise CommandError(f"User {both[0]!r} is named by both --add and --remove.")
        tenant = get_platform(platform)
        chosen_department: Any = groups.UNCHANGED
        if department is not None:
            chosen_department = Department.objects.filter(platform=tenant, name=department).first()
            if chosen_department is None:
                raise CommandError(
                    f"Department {department!r} does not exist on platform {platform!r}."
                )
        user_ids = self._user_ids([*add, *remove])
        try:
            group, _ = groups.create_or_update_group(
                tenant,
                name,
                department=chosen_department,
                add=[user_ids[username] for username in add],
                remove=[user_ids[username] for username in remove],
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(str(group.pk))

    def _user_ids(self, usernames: list[str]) -> dict[str, int]:
        """``{username: id}``, in one query; an error naming the first unknown user."""
        found = dict(
            get_user_model()
            ._default_manager.filter(username__in=set(usernames))
            .values_list("username", "pk")
        )
        for username in usernames:
            if username not in found:
                raise CommandError(f"User {username!r} does not exist (create it with ibl_user).")
        return found
