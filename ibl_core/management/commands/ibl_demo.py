from __future__ import annotations

import io
import secrets
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandParser
from django.db import transaction

from ibl_core.management.base import IblCommand, get_platform, get_user
from ibl_core.models import APIKey, Department, Platform
from ibl_core.tenancy import groups

DEMO_PLATFORM = "demo"
DEMO_ADMIN = "demo-admin"
DEMO_SUPERUSER = "demo-superuser"
DEMO_KEY_NAME = "ibl_demo"
DEMO_GROUP = "Engineering cohort"
DEMO_GROUP_MEMBERS = ["learner1", "learner2"]
DEMO_USERS: list[tuple[str, str, list[str]]] = [
    (DEMO_ADMIN, "platform admin", ["--admin", "--first-name", "Ada", "--last-name", "Admin"]),
    (
        "dept-admin",
        "department admin of Engineering",
        ["--department-admin", "Engineering", "--first-name", "Dana"],
    ),
    (
        "learner1",
        "learner in Engineering",
        ["--department", "Engineering", "--first-name", "Lee", "--last-name", "One"],
    ),
    (
        "learner2",
        "learner in Engineering",
        ["--department", "Engineering", "--first-name", "Lou", "--last-name", "Two"],
    ),
    (
        "learner3",
        "learner in Design",
        ["--department", "Design", "--first-name", "Lin", "--last-name", "Three"],
    ),
]


class Command(IblCommand):
    help = (
        "Load the demo data (idempotent), print the demo users with their ids, an admin "
        "login and a new platform-admin API key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument(
            "--replace-keys",
            action="store_true",
            help="Delete the API keys earlier runs printed, so only the new one works. "
            "`make run` passes it once it knows no demo is serving on its port.",
        )

    @transaction.atomic
    def handle(self, *args: Any, base_url: str, replace_keys: bool, **options: Any) -> None:
        base_url = base_url.rstrip("/")
        quiet = {"stdout": io.StringIO()}
        call_command("ibl_platform", DEMO_PLATFORM, "--org", "demo-org", "--name", "Demo", **quiet)
        for username, _, extra in DEMO_USERS:
            call_command(
                "ibl_user",
                username,
                "--platform",
                DEMO_PLATFORM,
                "--email",
                f"{username}@example.com",
                *extra,
                **quiet,
            )
        platform = get_platform(DEMO_PLATFORM)
        admin = get_user(DEMO_ADMIN)
        made = [f"platform {platform.key} (org {platform.org})"]
        # Other apps add their own demo data without ibl_core importing them.
        for config in apps.get_app_configs():
            load = getattr(config, "load_demo_data", None)
            if callable(load):
                made.extend(load(platform=platform, admin=admin))
        made.append(self._create_group(platform))
        password = self._create_superuser()

        if replace_keys:
            APIKey.objects.filter(user=admin, platform=platform, name=DEMO_KEY_NAME).delete()
        _, raw_key = APIKey.objects.issue(user=admin, platform=platform, name=DEMO_KEY_NAME)

        for line in made:
            self.stdout.write(f"Demo: {line}")
        self._write_users()
        self._write_admin_login(base_url, password)
        self.stdout.write(f"API key of {DEMO_ADMIN} (platform admin of {DEMO_PLATFORM}): {raw_key}")
        self.stdout.write("Try:")
        self.stdout.write(
            f"  curl -H 'Authorization: Api-Token {raw_key}' "
            f"'{base_url}/api/catalog/suggestions/program/manage/?platform_key={DEMO_PLATFORM}'"
        )

    def _create_group(self, platform: Platform) -> str:
        """A user group of two learners, attached to their department."""
        group, _ = groups.create_or_update_group(
            platform,
            DEMO_GROUP,
            department=Department.objects.get(platform=platform, name="Engineering"),
            add=[get_user(username) for username in DEMO_GROUP_MEMBERS],
        )
        return f"user group {group.name!r} (group_id {group.pk}): {', '.join(DEMO_GROUP_MEMBERS)}"

    def _create_superuser(self) -> str | None:
        """Create the admin login once; return its password then, ``None`` on later runs.

        The password is generated, shown once and stored only as a hash. An existing
        user of that name is left as it is.
        """
        user_model = get_user_model()
        if user_model._default_manager.filter(username=DEMO_SUPERUSER).exists():
            return None
        password = secrets.token_urlsafe(12)
        user_model._default_manager.create_superuser(
            username=DEMO_SUPERUSER, email=f"{DEMO_SUPERUSER}@example.com", password=password
        )
        return password

    def _write_users(self) -> None:
        ids = dict(
            get_user_model()
            ._default_manager.filter(username__in=[name for name, _, _ in DEMO_USERS])
            .values_list("username", "pk")
        )
        self.stdout.write("Demo users (user_id in the API, username, role):")
        for username, role, _ in DEMO_USERS:
            self.stdout.write(f"  {ids[username]:>6}  {username:<12} {role}")

    def _write_admin_login(self, base_url: str, password: str | None) -> None:
        login = f"Admin: {base_url}/admin/ as {DEMO_SUPERUSER}"
        if password is not None:
            self.stdout.write(
                f"{login}, password {password} (shown this once; "
                f"`manage.py changepassword {DEMO_SUPERUSER}` sets another)"
            )
        else:
            self.stdout.write(
                f"{login} (password shown when it was created; "
                f"`manage.py changepassword {DEMO_SUPERUSER}` sets another)"
            )
