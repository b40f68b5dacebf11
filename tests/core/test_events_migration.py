"""Migrations of ibl_core's events on existing data: events recorded before 0004 count
as dispatched, so the sweeper does not deliver them again after an upgrade; endpoints
that existed before 0005 receive the events recorded since they were created."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support.migration_helpers import upgrade

pytestmark = pytest.mark.django_db(transaction=True)


def test_events_recorded_before_the_upgrade_are_not_swept_again():
    with upgrade([("ibl_core", "0003_events_webhooks")],
                 [("ibl_core", "0004_event_dispatched")]) as migration:  # fmt: skip
        platform = migration.old.get_model("ibl_core", "Platform").objects.create(
            key="mig", org="mig", name="Mig"
        )
        created = timezone.now() - timedelta(hours=1)
        migration.old.get_model("ibl_core", "Event").objects.create(
            platform=platform, type="suggestion.created", object_id="1", payload={}, created=created
        )
        new = migration.migrate()
        events = new.get_model("ibl_core", "Event").objects.filter(platform__key="mig")
        assert list(events.values_list("created", "dispatched")) == [(created, created)]


@pytest.mark.slow
def test_endpoints_that_existed_receive_the_events_since_they_were_created():
    with upgrade([("ibl_core", "0004_event_dispatched")],
                 [("ibl_core", "0005_webhookendpoint_receiving_since")]) as migration:  # fmt: skip
        platform = migration.old.get_model("ibl_core", "Platform").objects.create(
            key="mig", org="mig", name="Mig"
        )
        Endpoint = migration.old.get_model("ibl_core", "WebhookEndpoint")
        for active in (True, False):
            endpoint = Endpoint.objects.create(
                platform=platform, url="https://example.org/", secret="x", active=active
            )
            Endpoint.objects.filter(pk=endpoint.pk).update(
                created=timezone.now() - timedelta(days=2, hours=active)
            )
        new = migration.migrate()
        endpoints = new.get_model("ibl_core", "WebhookEndpoint").objects.filter(platform__key="mig")
        rows = list(endpoints.order_by("id").values_list("created", "receiving_since"))
        assert len(rows) == 2
        assert all(created == since for created, since in rows)
