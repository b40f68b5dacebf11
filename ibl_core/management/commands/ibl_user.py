from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction

from ibl_core.management.base import IblCommand, check_length, get_platform
from ibl_core.models import Department, DepartmentAdmin, DepartmentMember, PlatformMembership


class Command(IblCommand):
    help = (
        "Create or update a user. With --platform, make them an active member "
        "(--admin: platform admin); departments are created in that platform as needed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--platform", metavar="KEY")
        parser.add_argument("--email")
        parser.add_argument("--first-name")
        parser.add_argument("--last-name")
        parser.add_argument("--admin", action="store_true", help="platform admin")
        parser.add_argument("--department", action="append", default=[], metavar="NAME")
        parser.add_argument("--department-admin", action="append", default=[], metavar="NAME")
        parser.add_argument("--superuser", action="store_true", help="DM admin")
        parser.add_argument("--password")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        if not username.strip():
            raise CommandError("USERNAME must not be empty.")
        check_length(username, 150, "USERNAME")
        for option, limit in (("first_name", 150), ("last_name", 150), ("email", 254)):
            if options[option] is not None:
                check_length(options[option], limit, f"--{option.replace('_', '-')}")
        for name in options["department"] + options["department_admin"]:
            check_length(name, 255, "A department name")
        if options["email"]:
            try:
                validate_email(options["email"])
            except ValidationError:
                raise CommandError(
                    f"--email {options['email']!r} is not an email address."
                ) from None
        departments = options["department"] + options["department_admin"]
        if (departments or options["admin"]) and not options["platform"]:
            raise CommandError("--admin, --department and --department-admin need --platform.")
        platform = get_platform(options["platform"]) if options["platform"] else None

        user_model = get_user_model()
        user, created = user_model._default_manager.get_or_create(username=username)
        for option, field in (
            ("email", "email"),
            ("first_name", "first_name"),
            ("last_name", "last_name"),
        ):
            if options[option] is not None:
                setattr(user, field, options[option])
        if options["superuser"]:
            user.is_superuser = user.is_staff = True
        if options["password"] is not None:
            user.set_password(options["password"])
        elif created:
            user.set_unusable_password()
        user.save()

        if platform is not None:
            membership, _ = PlatformMembership.objects.get_or_create(user=user, platform=platform)
            membership.active = True
            membership.is_admin = membership.is_admin or options["admin"]
            membership.save()
            for name, through in [(n, DepartmentMember) for n in options["department"]] + [
                (n, DepartmentAdmin) for n in options["department_admin"]
            ]:
                department, _ = Department.objects.get_or_create(platform=platform, name=name)
                through.objects.get_or_create(department=department, user=user)

        verb = "Created" if created else "Updated"
        where = f" on {platform.key}" if platform else ""
        self.stdout.write(f"{verb} user {user.username} (id {user.pk}){where}.")
