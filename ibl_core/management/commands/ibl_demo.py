from __future__ import annotations

import io
from typing import Any

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandParser
from django.db import transaction

from ibl_core.management.base import IblCommand, get_platform, get_user
from ibl_core.models import APIKey

DEMO_PLATFORM = "demo"
DEMO_ADMIN = "demo-admin"
DEMO_KEY_NAME = "ibl_demo"
DEMO_USERS: list[tuple[str, list[str]]] = [
    (DEMO_ADMIN, ["--admin", "--first-name", "Ada", "--last-name", "Admin"]),
    ("dept-admin", ["--department-admin", "Engineering", "--first-name", "Dana"]),
    ("learner1", ["--department", "Engineering", "--first-name", "Lee", "--last-name", "One"]),
    ("learner2", ["--department", "Engineering", "--first-name", "Lou", "--last-name", "Two"]),
    ("learner3", ["--department", "Design", "--first-name", "Lin", "--last-name", "Three"]),
]


class Command(IblCommand):
    help = (
        "Load the demo data (idempotent) and print a fresh platform-admin API key. "
        "Earlier demo keys are deleted, so only the last printed key works."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    @transaction.atomic
    def handle(self, *args: Any, base_url: str, **options: Any) -> None:
        quiet = {"stdout": io.StringIO()}
        call_command("ibl_platform", DEMO_PLATFORM, "--org", "demo-org", "--name", "Demo", **quiet)
        for username, extra in DEMO_USERS:
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
        made = [
            f"platform {platform.key} (org {platform.org})",
            f"users {', '.join(name for name, _ in DEMO_USERS)}",
        ]
        # Other apps add their own demo data without ibl_core importing them.
        for config in apps.get_app_configs():
            load = getattr(config, "load_demo_data", None)
            if callable(load):
                made.extend(load(platform=platform, admin=admin))

        APIKey.objects.filter(user=admin, platform=platform, name=DEMO_KEY_NAME).delete()
        _, raw_key = APIKey.objects.issue(user=admin, platform=platform, name=DEMO_KEY_NAME)
        for line in made:
            self.stdout.write(f"Demo: {line}")
        self.stdout.write(f"API key of {DEMO_ADMIN} (platform admin of {DEMO_PLATFORM}): {raw_key}")
        self.stdout.write("Try:")
        self.stdout.write(
            f"  curl -H 'Authorization: Api-Token {raw_key}' "
            f"'{base_url.rstrip('/')}/api/catalog/suggestions/program/manage/"
            f"?platform_key={DEMO_PLATFORM}'"
        )
