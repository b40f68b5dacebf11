from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from ibl_core.catalog_items import item_names
from ibl_core.management.base import IblCommand, check_length, get_platform
from ibl_core.models import Platform
from ibl_credentials.credentials.services import create_credential, update_credential
from ibl_credentials.issuers.selectors import default_issuer
from ibl_credentials.issuers.services import create_issuer
from ibl_credentials.models import Credential, Issuer


class Command(IblCommand):
    help = (
        "Create or update a credential (badge class) of a platform, found by its name, and "
        "print its entityId (and nothing else). The issuer is --issuer (an entityId of an "
        "issuer of the platform), else the platform's oldest issuer, created if it has "
        "none. --course, --program and --pathway name catalog items of the platform; the "
        "kinds given replace that kind's links, the others are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--platform", required=True, metavar="KEY")
        parser.add_argument("--issuer", metavar="ENTITY_ID")
        parser.add_argument("--course", action="append", metavar="COURSE_ID")
        parser.add_argument("--program", action="append", metavar="KEY")
        parser.add_argument("--pathway", action="append", metavar="PATHWAY_ID")

    def handle(
        self,
        *args: Any,
        name: str,
        platform: str,
        issuer: str | None,
        course: list[str] | None,
        program: list[str] | None,
        pathway: list[str] | None,
        **options: Any,
    ) -> None:
        if not name.strip():
            raise CommandError("NAME must not be blank.")
        check_length(name, 255, "NAME")
        tenant = get_platform(platform)
        chosen = self._issuer(tenant, issuer) if issuer is not None else None
        items = {
            kind: self._keys(tenant, kind, keys)
            for kind, keys in (("course", course), ("program", program), ("pathway", pathway))
            if keys is not None
        }
        with transaction.atomic():  # after the checks: bad arguments never touch the database
            credential = self._save(tenant, name, chosen, items)
        self.stdout.write(credential.entity_id)

    def _issuer(self, platform: Platform, entity_id: str) -> Issuer:
        found = Issuer.objects.filter(platform=platform, entity_id=entity_id).first()
        if found is None:
            raise CommandError(f"Issuer {entity_id!r} does not exist on platform {platform.key!r}.")
        return found

    def _keys(self, platform: Platform, kind: str, keys: list[str]) -> list[str]:
        unique = list(dict.fromkeys(keys))
        known = item_names(platform, kind, unique)
        unknown = [key for key in unique if key not in known]
        if unknown:
            named = ", ".join(repr(key) for key in unknown)
            raise CommandError(f"Unknown {kind} keys on platform {platform.key!r}: {named}.")
        return unique

    def _save(
        self,
        platform: Platform,
        name: str,
        issuer: Issuer | None,
        items: dict[str, list[str]],
    ) -> Credential:
        """Update the platform's (oldest) credential of that name, or create it."""
        existing = (
            Credential.objects.select_for_update()
            .filter(platform=platform, name=name)
            .order_by("created", "id")
            .first()
        )
        if existing is not None:
            changes: dict[str, Any] = {"issuer": issuer} if issuer is not None else {}
            return update_credential(existing, items=items, **changes)
        if issuer is None:
            issuer = default_issuer(platform) or create_issuer(
                platform=platform, created_by=None, name=platform.name or platform.key
            )
        return create_credential(
            platform=platform, created_by=None, issuer=issuer, items=items, name=name
        )
