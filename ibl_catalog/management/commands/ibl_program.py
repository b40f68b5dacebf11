from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from ibl_catalog.models import Program
from ibl_core.management.base import IblCommand, get_platform


class Command(IblCommand):
    help = "Create or update a program of a platform's catalog."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("program_key")
        parser.add_argument("--platform", required=True, metavar="KEY")
        parser.add_argument("--name", required=True)

    def handle(
        self, *args: Any, program_key: str, platform: str, name: str, **options: Any
    ) -> None:
        if not program_key.strip() or len(program_key) > 255:
            raise CommandError("PROGRAM_KEY must be 1 to 255 characters.")
        if not name.strip() or len(name) > 255:
            raise CommandError("--name must be 1 to 255 characters.")
        program, created = Program.objects.update_or_create(
            platform=get_platform(platform),
            program_key=program_key,
            defaults={"name": name, "enabled": True},
        )
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} program {program.program_key} on {platform}.")
