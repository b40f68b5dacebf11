"""Migration ibl_core 0004 on existing data: events recorded before it count as
dispatched, so the sweeper does not deliver them again after an upgrade."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("ibl_core", "0003_events_webhooks")]
AFTER = [("ibl_core", "0004_event_dispatched")]


def test_events_recorded_before_the_upgrade_are_not_swept_again():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        platform = old.get_model("ibl_core", "Platform").objects.create(
            key="mig", org="mig", name="Mig"
        )
        created = timezone.now() - timedelta(hours=1)
        old.get_model("ibl_core", "Event").objects.create(
            platform=platform, type="suggestion.created", object_id="1", payload={}, created=created
        )

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        events = new.get_model("ibl_core", "Event").objects.filter(platform__key="mig")
        assert list(events.values_list("created", "dispatched")) == [(created, created)]
    finally:
        MigrationExecutor(connection).loader.build_graph()
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
