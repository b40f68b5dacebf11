from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.core.validators import validate_slug

from ibl_core.management.base import IblCommand, check_length
from ibl_core.models import Platform, validate_platform_identifiers


class Command(IblCommand):
    help = "Create or update a platform (tenant). ORG defaults to KEY, NAME to KEY."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key")
        parser.add_argument("--org")
        parser.add_argument("--name")

    def handle(
        self, *args: Any, key: str, org: str | None, name: str | None, **options: Any
    ) -> None:
        try:
            validate_slug(key)
        except ValidationError:
            raise CommandError(
                f"Invalid platform key {key!r}: use letters, digits, - and _."
            ) from None
        check_length(key, 100, "KEY")
        if org is not None:
            check_length(org, 100, "--org")
        if name is not None:
            check_length(name, 255, "--name")
        platform = Platform.objects.filter(key=key).first()
        org = org or (platform.org if platform else key)
        try:
            validate_platform_identifiers(key=key, org=org, pk=platform.pk if platform else None)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        clash = Platform.objects.filter(org=org).exclude(key=key).first()
        if clash is not None:
            raise CommandError(f"Org {org!r} already belongs to platform {clash.key!r}.")
        defaults: dict[str, Any] = {"org": org, "active": True}
        if name is not None or platform is None:
            defaults["name"] = name if name is not None else key
        platform, created = Platform.objects.update_or_create(key=key, defaults=defaults)
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} platform {platform.key} (org {platform.org}).")
