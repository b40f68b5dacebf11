"""A host project's read-replica router does not move the suggestion count.

The count of an unfiltered list is read from ``SuggestionCount`` and folded there
(PostgreSQL: the read may delete and insert rows), so it must stay on the database the
triggers write to. ``docs/production.md`` ("Read replicas") says what else to keep on
the primary.
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from ibl_catalog.declarations import SUGGESTION_KINDS
from ibl_catalog.models import ProgramSuggestion
from ibl_catalog.suggestions import counts
from tests.support.factories import MembershipFactory, PlatformFactory, ProgramFactory

pytestmark = pytest.mark.django_db


class ReadsGoToAReplica:
    """Every read to an alias named ``replica`` (not configured: using it fails)."""

    def db_for_read(self, model, **hints):
        return "replica"

    def db_for_write(self, model, **hints):
        return "default"


def test_the_count_is_read_and_folded_on_the_write_database():
    [kind] = [kind for kind in SUGGESTION_KINDS if kind.label == "program"]
    platform = PlatformFactory(key="replica-p")
    programs = ProgramFactory.create_batch(3, platform=platform)
    users = [MembershipFactory(platform=platform).user for _ in range(2)]
    for program in programs:
        for user in users:
            ProgramSuggestion.objects.create(platform=platform, user=user, program=program)
    ProgramSuggestion.objects.filter(program=programs[0]).delete()
    with override_settings(DATABASE_ROUTERS=[f"{__name__}.ReadsGoToAReplica"]):
        assert counts.platform_count(kind, platform) == 4
        counts.compact(kind, platform)
        assert counts.platform_count(kind, platform) == 4
