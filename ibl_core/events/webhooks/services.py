"""Writes of webhook endpoints: create (the secret is answered once), change, rotate.

The admin and the API both call these, so a URL is checked the same way (SSRF:
``addresses.safe_addresses``), and the number of endpoints of a platform is capped
(``WEBHOOK_MAX_ENDPOINTS``: each event is one delivery per endpoint), wherever an
endpoint is saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from ibl_core.conf import ibl_settings
from ibl_core.events.outbox import EVENT_TYPES
from ibl_core.events.webhooks.addresses import UnsafeURL, safe_addresses
from ibl_core.events.webhooks.delivery import new_secret
from ibl_core.models import Platform, WebhookEndpoint


def check_url(url: str) -> None:
    """A ``ValidationError`` on ``url`` when webhooks may not be sent there."""
    try:
        safe_addresses(url)
    except UnsafeURL as error:
        raise ValidationError({"url": [str(error)]}) from error


def check_events(events: Sequence[str]) -> None:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise ValidationError({"events": [f"Unknown event types: {', '.join(unknown)}."]})


class TooManyEndpoints(ValidationError):
    """The platform has ``WEBHOOK_MAX_ENDPOINTS`` endpoints already."""


def check_room(platform: Platform) -> None:
    """:class:`TooManyEndpoints` when ``platform`` has no room for another endpoint."""
    limit = ibl_settings.WEBHOOK_MAX_ENDPOINTS
    if WebhookEndpoint.objects.filter(platform=platform).count() >= limit:
        raise TooManyEndpoints(
            f"A platform has at most {limit} webhook endpoints; delete one to add another.",
            code="too_many_endpoints",
        )


def create_endpoint(
    platform: Platform,
    *,
    url: str,
    events: Sequence[str] = (),
    active: bool = True,
    description: str = "",
) -> WebhookEndpoint:
    """A new endpoint with a new secret (read it from the returned object, once);
    :class:`TooManyEndpoints` when the platform has its maximum already."""
    check_url(url)
    check_events(events)
    with transaction.atomic():
        # Concurrent creations on one platform count one after the other.
        list(Platform.objects.select_for_update().filter(pk=platform.pk).values_list("pk"))
        check_room(platform)
        return WebhookEndpoint.objects.create(
            platform=platform,
            url=url,
            events=list(dict.fromkeys(events)),
            active=active,
            description=description,
            secret=new_secret(),
        )


def update_endpoint(endpoint: WebhookEndpoint, changes: dict[str, Any]) -> WebhookEndpoint:
    """Apply the fields sent; turning an endpoint on again clears why it was off, and it
    receives the events recorded from then on."""
    if "url" in changes:
        check_url(changes["url"])
    if "events" in changes:
        check_events(changes["events"])
        changes = {**changes, "events": list(dict.fromkeys(changes["events"]))}
    fields = list(changes)
    if changes.get("active") is True:
        fields += endpoint.turn_on()
        changes = {name: value for name, value in changes.items() if name != "active"}
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.save(update_fields=[*dict.fromkeys(fields), "modified"])
    return endpoint


def turn_on_endpoints(endpoints: QuerySet[WebhookEndpoint]) -> int:
    """Turn ``endpoints`` on again (:meth:`WebhookEndpoint.turn_on`, set-based); how
    many were selected."""
    with transaction.atomic():
        endpoints.filter(active=False).update(active=True, receiving_since=timezone.now())
        return endpoints.update(disabled_reason="", disabled_at=None, failing_since=None)


def rotate_secret(endpoint: WebhookEndpoint, overlap_seconds: int | None = None) -> str:
    """Give ``endpoint`` a new secret; the old one keeps signing (beside the new one)
    for ``overlap_seconds`` (``WEBHOOK_SECRET_OVERLAP_SECONDS`` by default). The new
    secret, to show once."""
    if overlap_seconds is None:
        overlap_seconds = int(ibl_settings.WEBHOOK_SECRET_OVERLAP_SECONDS)
    endpoint.previous_secret = endpoint.secret if overlap_seconds > 0 else ""
    endpoint.previous_secret_expires = (
        timezone.now() + timedelta(seconds=overlap_seconds) if overlap_seconds > 0 else None
    )
    endpoint.secret = new_secret()
    endpoint.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires", "modified"]
    )
    return endpoint.secret
