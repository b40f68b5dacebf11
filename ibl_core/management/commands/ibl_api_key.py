from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from ibl_core.management.base import IblCommand, check_length, get_platform, get_user
from ibl_core.models import APIKey

MAX_DAYS = 36_500  # a hundred years; beyond that a datetime overflows


class Command(IblCommand):
    help = "Issue an API key for USERNAME on a platform; prints the key, and nothing else."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--platform", required=True, metavar="KEY")
        parser.add_argument("--name", default="", metavar="LABEL")
        parser.add_argument("--expires-in-days", type=int, metavar="N")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["expires_in_days"]
        if days is not None and not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--expires-in-days must be between 1 and {MAX_DAYS}.")
        check_length(options["name"], 100, "--name")
        user = get_user(options["username"])
        platform = get_platform(options["platform"])
        expires = timezone.now() + timedelta(days=days) if days else None
        _, raw_key = APIKey.objects.issue(
            user=user, platform=platform, name=options["name"], expires=expires
        )
        self.stdout.write(raw_key)
