"""The webhook endpoints' admin pages: the secret shown once on creation, rotation, and
turning endpoints on again (from then on they receive the events recorded)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from ibl_core.events.webhooks import delivery
from ibl_core.events.webhooks.services import create_endpoint
from ibl_core.models import WebhookEndpoint

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/ibl_core/webhookendpoint/"
# Loopback (the test settings allow private addresses); never contacted here.
URL = "http://127.0.0.1:9/hooks/admin"


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.users["dm_admin"])
    return client


def form(endpoint: WebhookEndpoint, **changes) -> dict:
    return {
        "platform": endpoint.platform_id,
        "url": endpoint.url,
        "events": "[]",
        "active": "on" if endpoint.active else "",
        "description": endpoint.description,
        **changes,
    }


def shown(response) -> list[str]:
    """The messages the admin showed on the page."""
    return [str(message) for message in response.context["messages"]]


def aged(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    hour_ago = timezone.now() - timedelta(hours=1)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        created=hour_ago, receiving_since=hour_ago
    )
    endpoint.refresh_from_db()
    return endpoint


def test_adding_an_endpoint_shows_its_secret_once(admin_client, world):
    body = {"platform": world.p1.pk, "url": URL, "events": '["suggestion.created"]',
            "active": "on", "description": "CRM"}  # fmt: skip
    response = admin_client.post(f"{CHANGELIST}add/", body, follow=True)
    assert response.status_code == 200
    [endpoint] = WebhookEndpoint.objects.all()
    assert (endpoint.url, endpoint.events, endpoint.description) == (
        URL,
        ["suggestion.created"],
        "CRM",
    )
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/=]+", endpoint.secret)
    assert endpoint.secret in response.content.decode()
    page = admin_client.get(f"{CHANGELIST}{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in page


def test_turning_an_endpoint_on_in_the_form_clears_why_and_receives_from_then_on(
    admin_client, world
):
    endpoint = aged(create_endpoint(world.p1, url=URL))
    delivery.disable(endpoint, "The receiver answered 410 Gone.", timezone.now())
    before = endpoint.receiving_since
    response = admin_client.post(f"{CHANGELIST}{endpoint.pk}/change/", form(endpoint, active="on"))
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.active, endpoint.disabled_reason, endpoint.disabled_at) == (True, "", None)
    assert endpoint.receiving_since > before
    # Saving it again, on, changes nothing of what it receives.
    since = endpoint.receiving_since
    response = admin_client.post(
        f"{CHANGELIST}{endpoint.pk}/change/", form(endpoint, description="again")
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.description, endpoint.receiving_since) == ("again", since)


def test_the_turn_on_action_moves_only_the_endpoints_that_were_off(admin_client, world):
    on = aged(create_endpoint(world.p1, url=URL))
    off = aged(create_endpoint(world.p1, url=URL))
    delivery.disable(off, "Failing for 3 days.", timezone.now())
    response = admin_client.post(
        CHANGELIST, {"action": "enable", "_selected_action": [on.pk, off.pk]}, follow=True
    )
    assert shown(response) == ["2 endpoint(s) on."]
    on_after, off_after = (WebhookEndpoint.objects.get(pk=e.pk) for e in (on, off))
    assert on_after.receiving_since == on.receiving_since
    assert off_after.receiving_since > off.receiving_since
    assert (off_after.active, off_after.disabled_reason) == (True, "")


def test_the_rotate_action_shows_each_new_secret_once(admin_client, world):
    endpoint = create_endpoint(world.p1, url=URL)
    old = endpoint.secret
    response = admin_client.post(
        CHANGELIST, {"action": "rotate_secrets", "_selected_action": [endpoint.pk]}, follow=True
    )
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert shown(response) == [f"{URL}: new secret {endpoint.secret} (shown once)."]


def test_the_admin_refuses_an_endpoint_past_the_platforms_maximum(admin_client, world):
    from django.conf import settings
    from django.test import override_settings

    on_p2 = create_endpoint(world.p2, url=URL)
    capped = {**settings.IBL_DATA_MANAGER, "WEBHOOK_MAX_ENDPOINTS": 1}
    with override_settings(IBL_DATA_MANAGER=capped):
        create_endpoint(world.p1, url=URL)
        body = {"platform": world.p1.pk, "url": URL, "events": "[]", "active": "on"}
        response = admin_client.post(f"{CHANGELIST}add/", body)
        assert response.status_code == 200  # the form again, with the error
        expected = "A platform has at most 1 webhook endpoints; delete one to add another."
        assert response.context["adminform"].form.errors == {"platform": [expected]}
        # Moving another platform's endpoint onto the full one is refused too.
        response = admin_client.post(
            f"{CHANGELIST}{on_p2.pk}/change/", form(on_p2, platform=world.p1.pk)
        )
        assert response.context["adminform"].form.errors == {"platform": [expected]}
    assert WebhookEndpoint.objects.filter(platform=world.p1).count() == 1
    on_p2.refresh_from_db()
    assert on_p2.platform == world.p2
