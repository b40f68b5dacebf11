"""``manage.py ibl_recount``: count every kind of suggestion again and keep the counts.

The counts the lists answer with are kept by database triggers. Rows that reach the
table without them (``loaddata`` of a dump, a restore of the table alone, logical
replication, ``session_replication_role = replica``) are not counted: run this after.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ibl_catalog.declarations import SUGGESTION_KINDS
from ibl_catalog.suggestions.counts import recount


class Command(BaseCommand):
    help = "Count the suggestions of every platform again (after loaddata or a restore)."

    def handle(self, *args: Any, **options: Any) -> None:
        for kind in SUGGESTION_KINDS:
            counted = recount(kind)
            total = sum(counted.values())
            self.stdout.write(f"{kind.label} suggestions: {total} on {len(counted)} platform(s).")
