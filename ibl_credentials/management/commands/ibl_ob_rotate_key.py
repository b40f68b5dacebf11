"""Rotate an issuer's Open Badges signing key: ``manage.py ibl_ob_rotate_key <entityId>``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ibl_credentials.models import Issuer
from ibl_credentials.openbadges.signing import rotate_key


class Command(BaseCommand):
    help = (
        "Retire the issuer's active Ed25519 key (kept, so what it signed still verifies) and "
        "make a new one; credentials are signed with it the next time they change."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("entity_ids", nargs="+", help="Issuer entityIds.")

    def handle(self, *args: Any, entity_ids: list[str], **options: Any) -> None:
        issuers = Issuer.objects.in_bulk(entity_ids, field_name="entity_id")
        missing = [entity_id for entity_id in entity_ids if entity_id not in issuers]
        if missing:
            raise CommandError(f"No issuer with entityId {', '.join(missing)}.")
        for entity_id in entity_ids:
            key = rotate_key(issuers[entity_id])
            self.stdout.write(f"{entity_id}: new key {key.did}")
