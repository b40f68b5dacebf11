"""Writes of webhook endpoints: create (the secret is answered once), change, rotate.

The admin and the API both call these, so a URL is checked the same way (SSRF:
``addresses.safe_addresses``) wherever an endpoint is saved.
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
from ibl_core.events import EVENT_TYPES
from ibl_core.models import Platform, WebhookEndpoint

from .addresses import UnsafeURL, safe_addresses
from .delivery import new_secret


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


def create_endpoint(
    platform: Platform,
    *,
    url: str,
    events: Sequence[str] = (),
    active: bool = True,
    description: str = "",
) -> WebhookEndpoint:
    """A new endpoint with a new secret (read it from the returned object, once)."""
    check_url(url)
    check_events(events)
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
