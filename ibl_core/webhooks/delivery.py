"""Webhook delivery: events to endpoints, signed per Standard Webhooks, at least once.

Once the transaction that recorded events commits, :func:`events_committed` enqueues
:func:`dispatch_events` when the platform has an active endpoint. That task creates
one delivery per (endpoint, event) the endpoint receives and enqueues
:func:`attempt_delivery` for each. An attempt POSTs ``{"type", "timestamp", "data"}``
with the ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers
(signed by the ``standardwebhooks`` library with the endpoint's secret, and with the
previous one during a rotation's overlap). A 2xx answer is success; 410 disables the
endpoint; anything else (or no answer within ``WEBHOOK_TIMEOUT``) is retried with
exponential backoff and jitter (``run_after`` of the task backend), up to
``WEBHOOK_MAX_ATTEMPTS``. An endpoint whose attempts have all failed for
``WEBHOOK_DISABLE_AFTER_SECONDS`` is disabled. Every attempt is recorded.

Redirects are not followed, and the connection goes to an address checked by
:mod:`.addresses` (the host is resolved once, then that address is used), so a DNS
answer that changes between check and send cannot reach an internal address.
"""

from __future__ import annotations

import base64
import functools
import http.client
import json
import random
import secrets
import socket
import ssl
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from standardwebhooks import Webhook

from ibl_core.conf import ibl_settings
from ibl_core.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from ibl_core.sql import in_list
from ibl_core.tasks import task

from .addresses import UnsafeURL, safe_addresses

USER_AGENT = "ibl-data-manager-webhooks"
Status = WebhookDelivery.Status


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous one
    until its overlap ends."""
    found = [endpoint.secret]
    expires = endpoint.previous_secret_expires
    if endpoint.previous_secret and expires is not None and expires > now:
        found.append(endpoint.previous_secret)
    return found


def signed_headers(
    secrets_: list[str], message_id: str, timestamp: datetime, body: str
) -> dict[str, str]:
    """The Standard Webhooks headers: one ``v1,<signature>`` per secret, space-separated."""
    signatures = " ".join(
        Webhook(secret).sign(msg_id=message_id, timestamp=timestamp, data=body)
        for secret in secrets_
    )
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def message_body(event_type: str, created: datetime, data: Any) -> str:
    return json.dumps(
        {"type": event_type, "timestamp": created.isoformat().replace("+00:00", "Z"), "data": data},
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )


# -- from events to deliveries ---------------------------------------------------


def events_committed(platform_id: int, event_ids: list[int]) -> None:
    """Called once events are committed: dispatch them when anyone listens."""
    if WebhookEndpoint.objects.filter(platform_id=platform_id, active=True).exists():
        dispatch_events.enqueue(platform_id, event_ids)


@task()
def dispatch_events(platform_id: int, event_ids: list[int]) -> int:
    """Create the deliveries of these events (:func:`dispatch`); how many."""
    return dispatch(platform_id, event_ids)[1]


def dispatch(platform_id: int, event_ids: Sequence[int]) -> tuple[int, int]:
    """Create the deliveries of these events to the platform's active endpoints that
    receive them, and enqueue their first attempts; ``(events, deliveries)``.

    An endpoint receives the events recorded while it is on (``receiving_since``: since
    it was created or last turned on again). Each event is
    dispatched once: it is claimed (``dispatched`` set) in the transaction that creates
    its deliveries, and an event already claimed (by a second run of the task, or by
    :func:`sweep`) or being claimed right now (its row locked) is left alone.
    """
    now = timezone.now()
    with transaction.atomic():
        endpoints = list(WebhookEndpoint.objects.filter(platform_id=platform_id, active=True))
        claimed = list(
            Event.objects.select_for_update(skip_locked=True)
            .filter(in_list("pk", event_ids), platform_id=platform_id, dispatched__isnull=True)
            .only("id", "type", "created")
            .order_by("id")
        )
        Event.objects.filter(in_list("pk", [event.pk for event in claimed])).update(dispatched=now)
        deliveries = [
            WebhookDelivery(
                endpoint=endpoint,
                event_id=event.pk,
                message_id=f"msg_{event.pk}",
                event_type=event.type,
            )
            for event in claimed
            for endpoint in endpoints
            if endpoint.receives(event.type) and endpoint.receiving_since <= event.created
        ]
        created = WebhookDelivery.objects.bulk_create(deliveries, batch_size=1000)
        for delivery in created:
            transaction.on_commit(
                functools.partial(attempt_delivery.enqueue, delivery.pk), robust=True
            )
    return len(claimed), len(created)


def sweep(now: datetime | None = None, batch: int = 1000) -> int:
    """Dispatch the events that committed but were never dispatched; how many.

    The task that dispatches an event is enqueued once its transaction commits; a queue
    that failed to take it then (Redis down, the database connection lost) leaves the
    event recorded but undelivered. Events of platforms with an active endpoint,
    recorded while it was on, in the last ``SWEEP_LOOKBACK_SECONDS``
    and more than ``SWEEP_AFTER_SECONDS`` ago (their own task had its chance),
    are dispatched here, ``batch`` at a time. Run by ``manage.py ibl_sweep`` (cron);
    running it twice at once dispatches nothing twice.
    """
    now = now or timezone.now()
    until = now - timedelta(seconds=ibl_settings.SWEEP_AFTER_SECONDS)
    floor = now - timedelta(seconds=ibl_settings.SWEEP_LOOKBACK_SECONDS)
    listening = (
        WebhookEndpoint.objects.filter(active=True)
        .values("platform_id")
        .annotate(first=Min("receiving_since"))
        .values_list("platform_id", "first")
        .order_by("platform_id")
    )
    swept = 0
    for platform_id, first in listening:
        stale = Event.objects.filter(
            platform_id=platform_id,
            dispatched__isnull=True,
            created__gte=max(first, floor),
            created__lte=until,
        ).order_by("id")
        last = 0
        while ids := list(stale.filter(pk__gt=last).values_list("pk", flat=True)[:batch]):
            swept += dispatch(platform_id, ids)[0]
            last = ids[-1]
    return swept


def sweep_summary(now: datetime) -> str:
    """:func:`sweep`, for ``manage.py ibl_sweep``."""
    swept = sweep(now)
    return f"{swept} webhook event{'s' if swept != 1 else ''} dispatched."


def send_test_event(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``webhook.test`` delivery to ``endpoint``, attempted once, now; the delivery."""
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, message_id=f"msg_test_{uuid.uuid4().hex}", event_type="webhook.test"
    )
    run_attempt(delivery.pk, retry=False)
    delivery.refresh_from_db()
    return delivery


# -- one attempt -----------------------------------------------------------------


@dataclass
class Answer:
    status_code: int | None
    latency_ms: int
    excerpt: str
    error: str


@task()
def attempt_delivery(delivery_id: int) -> str:
    """One attempt of a delivery (the task); its status afterwards."""
    return run_attempt(delivery_id)


def run_attempt(delivery_id: int, *, retry: bool = True) -> str:
    """Send a delivery once and record the attempt; schedule the next one when it
    failed and may be retried. Its status afterwards."""
    delivery = (
        WebhookDelivery.objects.select_related("endpoint", "event")
        .filter(pk=delivery_id, status=Status.PENDING)
        .first()
    )
    if delivery is None:
        return "gone"
    endpoint = delivery.endpoint
    now = timezone.now()
    if not endpoint.active:
        _finish(delivery, Status.FAILED, now)
        return delivery.status
    if delivery.event is not None:
        body = message_body(delivery.event_type, delivery.event.created, delivery.event.payload)
    else:
        body = message_body(delivery.event_type, now, {"endpoint_id": endpoint.pk})
    headers = signed_headers(signing_secrets(endpoint, now), delivery.message_id, now, body)
    answer = post(endpoint.url, headers, body)
    delivery.attempts += 1
    delivery.last_status_code = answer.status_code
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        started=now,
        status_code=answer.status_code,
        latency_ms=answer.latency_ms,
        response_excerpt=answer.excerpt,
        error=answer.error,
    )
    code = answer.status_code
    if code is not None and 200 <= code < 300:
        if endpoint.failing_since is not None:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        _finish(delivery, Status.SUCCEEDED, now)
    elif code == 410:
        disable(endpoint, "The receiver answered 410 Gone.", now)
        _finish(delivery, Status.FAILED, now)
    else:
        _failed(delivery, endpoint, now, retry=retry)
    return delivery.status


def _failed(
    delivery: WebhookDelivery, endpoint: WebhookEndpoint, now: datetime, *, retry: bool
) -> None:
    failing_since = endpoint.failing_since or now
    if endpoint.failing_since is None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since=None).update(failing_since=now)
    if now - failing_since >= timedelta(seconds=ibl_settings.WEBHOOK_DISABLE_AFTER_SECONDS):
        disable(endpoint, f"Every attempt failed since {failing_since:%Y-%m-%d %H:%M} UTC.", now)
        _finish(delivery, Status.FAILED, now)
    elif (
        not retry
        or delivery.attempts >= ibl_settings.WEBHOOK_MAX_ATTEMPTS
        # A backend that cannot defer a task (the immediate one) cannot retry later.
        or not attempt_delivery.get_backend().supports_defer
    ):
        _finish(delivery, Status.FAILED, now)
    else:
        delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        delivery.save(update_fields=["attempts", "last_status_code", "next_attempt_at"])
        attempt_delivery.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)


def retry_delay(attempts_made: int) -> timedelta:
    """How long to wait after the ``attempts_made``-th failed attempt: exponential
    (base x 3^(n-1)) with +-25% jitter, so receivers that fail together are not
    retried together."""
    base = ibl_settings.WEBHOOK_RETRY_BASE_SECONDS * 3 ** (attempts_made - 1)
    return timedelta(seconds=base * random.uniform(0.75, 1.25))


def _finish(delivery: WebhookDelivery, status: str, now: datetime) -> None:
    delivery.status = status
    delivery.finished = now
    delivery.next_attempt_at = None
    delivery.save(
        update_fields=["status", "finished", "attempts", "last_status_code", "next_attempt_at"]
    )


def disable(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    """Turn ``endpoint`` off, saying why (shown in the admin and the API's list)."""
    endpoint.active = False
    endpoint.disabled_reason = reason
    endpoint.disabled_at = now
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        active=False, disabled_reason=reason, disabled_at=now
    )


# -- HTTP ------------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address already checked, whatever the host name resolves to now."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, headers: dict[str, str], body: str) -> Answer:
    """POST ``body`` to ``url`` once (no redirects); what came back."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        scheme, host, port, addresses = safe_addresses(url)
    except UnsafeURL as error:
        return Answer(None, elapsed(), "", f"Refused: {error}")
    split = url.split("://", 1)[1]
    path = "/" + split.split("/", 1)[1] if "/" in split else "/"
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, addresses[0], float(ibl_settings.WEBHOOK_TIMEOUT))
    try:
        connection.request("POST", path.split("#", 1)[0], body=body.encode(), headers=headers)
        response = connection.getresponse()
        excerpt = response.read(ibl_settings.WEBHOOK_RESPONSE_EXCERPT * 4)
        text = excerpt.decode("utf-8", "replace")[: ibl_settings.WEBHOOK_RESPONSE_EXCERPT]
        return Answer(response.status, elapsed(), text, "")
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, elapsed(), "", f"{type(error).__name__}: {error}"[:500])
    finally:
        connection.close()
