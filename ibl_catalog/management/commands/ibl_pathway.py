from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.core.validators import validate_slug
from django.db import transaction

from ibl_catalog.models import Pathway
from ibl_core.management.base import IblCommand, check_length, get_platform
from ibl_core.models import Platform


class Command(IblCommand):
    help = (
        "Create or update a pathway of a platform's catalog and print its UUID (and "
        "nothing else). A new pathway gets a random UUID unless --uuid gives one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pathway_id")
        parser.add_argument("--platform", required=True, metavar="KEY")
        parser.add_argument("--name", required=True)
        parser.add_argument("--uuid", dest="pathway_uuid", metavar="UUID")

    def handle(
        self,
        *args: Any,
        pathway_id: str,
        platform: str,
        name: str,
        pathway_uuid: str | None,
        **options: Any,
    ) -> None:
        check_length(pathway_id, 255, "PATHWAY_ID")
        try:
            validate_slug(pathway_id)
        except ValidationError:
            raise CommandError(
                f"Invalid pathway id {pathway_id!r}: use letters, digits, - and _."
            ) from None
        if not name.strip() or len(name) > 255:
            raise CommandError("--name must be 1 to 255 characters.")
        defaults: dict[str, Any] = {"name": name, "enabled": True}
        if pathway_uuid is not None:
            try:
                defaults["pathway_uuid"] = uuid.UUID(pathway_uuid)
            except ValueError:
                raise CommandError(f"--uuid {pathway_uuid!r} is not a UUID.") from None
        with transaction.atomic():  # after the checks: bad arguments never touch the database
            pathway = self._save(get_platform(platform), pathway_id, defaults)
        self.stdout.write(str(pathway.pathway_uuid))

    def _save(self, platform: Platform, pathway_id: str, defaults: dict[str, Any]) -> Pathway:
        """Create or update the pathway; refuse a UUID another pathway has."""
        if "pathway_uuid" in defaults:
            owner = (
                Pathway.objects.filter(pathway_uuid=defaults["pathway_uuid"])
                .exclude(platform=platform, pathway_id=pathway_id)
                .select_related("platform")
                .first()
            )
            if owner is not None:
                raise CommandError(
                    f"UUID {defaults['pathway_uuid']} already belongs to pathway "
                    f"{owner.pathway_id!r} of platform {owner.platform.key!r}."
                )
        pathway, _ = Pathway.objects.update_or_create(
            platform=platform, pathway_id=pathway_id, defaults=defaults
        )
        return pathway
