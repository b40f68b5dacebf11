"""Webhook delivery: events to endpoints, signed per Standard Webhooks, at least once.

Once the transaction that recorded events commits, :func:`events_committed` enqueues
:func:`dispatch_events` when the platform has an active endpoint. That task creates
one delivery per (endpoint, event) the endpoint receives and enqueues
:func:`attempt_delivery` for each. An attempt POSTs ``{"type", "timestamp", "data"}``
with the ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers
(signed by the ``standardwebhooks`` library with the endpoint's secret, and with the
previous one during a rotation's overlap). A 2xx answer is success; 410 disables the
endpoint; anything else (or no complete answer within ``WEBHOOK_TIMEOUT``) is
retried with exponential backoff and jitter (``run_after`` of the task backend), up
to ``WEBHOOK_MAX_ATTEMPTS``. An endpoint whose attempts have all failed for
``WEBHOOK_DISABLE_AFTER_SECONDS`` is disabled. Every attempt is recorded.

One slow receiver must not hold up the other platforms' deliveries, which wait for
the same workers. ``WEBHOOK_TIMEOUT`` is a wall-clock deadline for the whole attempt
(every socket operation gets only the time left, so a receiver that drips one byte at
a time is cut off at the deadline), and a circuit breaker parks an endpoint whose
attempts ran out of time ``WEBHOOK_PARK_AFTER_TIMEOUTS`` times in a row: its
deliveries wait, without taking a worker, until one attempt finds it answering again.

Redirects are not followed, and the connection goes to an address checked by
:mod:`.addresses` (the host is resolved once, then that address is used), so a DNS
answer that changes between check and send cannot reach an internal address.
"""

from __future__ import annotations

import base64
import functools
import http.client
import io
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
from django.db.models import Case, F, Min, Q, Value, When
from django.utils import timezone
from standardwebhooks import Webhook

from ibl_core.api.representation import utc_text
from ibl_core.conf import ibl_settings
from ibl_core.events.tasks import enqueue_on_commit, task
from ibl_core.events.webhooks.addresses import UnsafeURL, safe_addresses
from ibl_core.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from ibl_core.sql import in_list

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
        {"type": event_type, "timestamp": utc_text(created), "data": data},
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
    """:func:`sweep` and :func:`requeue_stalled`, for ``manage.py ibl_sweep``."""
    swept = sweep(now)
    requeued = requeue_stalled(now)
    return (
        f"{swept} webhook event{'s' if swept != 1 else ''} dispatched, "
        f"{requeued} stalled deliver{'ies' if requeued != 1 else 'y'} queued again."
    )


def send_test_event(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``webhook.test`` delivery to ``endpoint``, queued (its one attempt runs in a
    worker, once the current transaction commits); the delivery, to follow.

    A test delivery has no event: it is attempted once, never retried, and it is sent
    even to a parked endpoint (it is how an admin finds out that a receiver answers
    again). The request that asks for it never waits for the receiver.
    """
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            message_id=f"msg_test_{uuid.uuid4().hex}",
            event_type="webhook.test",
        )
        enqueue_on_commit(attempt_delivery, delivery.pk)
    return delivery


def requeue_stalled(now: datetime | None = None) -> int:
    """Queue again the pending deliveries whose attempt is overdue by more than
    ``SWEEP_AFTER_SECONDS``; how many.

    A delivery is pending until an attempt ends it, and its next attempt is a queued
    task. A task that never reached the queue (it was down when the delivery was
    created or its retry scheduled) or a worker stopped in the middle of an attempt
    would leave it pending for ever. Each is claimed (``next_attempt_at`` set to now)
    in the transaction that queues it, so sweepers running at once queue it once.
    """
    now = now or timezone.now()
    until = now - timedelta(seconds=ibl_settings.SWEEP_AFTER_SECONDS)
    floor = now - timedelta(seconds=ibl_settings.SWEEP_LOOKBACK_SECONDS)
    overdue = Q(next_attempt_at__lte=until) | Q(next_attempt_at__isnull=True, created__lte=until)
    with transaction.atomic():
        stalled = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(overdue, status=Status.PENDING, created__gte=floor)
            .order_by("id")
            .values_list("pk", flat=True)
        )
        WebhookDelivery.objects.filter(in_list("pk", stalled)).update(next_attempt_at=now)
        for delivery_id in stalled:
            enqueue_on_commit(attempt_delivery, delivery_id)
    return len(stalled)


# -- one attempt -----------------------------------------------------------------


@dataclass
class Answer:
    status_code: int | None
    latency_ms: int
    excerpt: str
    error: str
    #: The attempt ran out of its time (``WEBHOOK_TIMEOUT``): the circuit breaker counts it.
    timed_out: bool = False


@task()
def attempt_delivery(delivery_id: int) -> str:
    """One attempt of a delivery (the task); its status afterwards."""
    return run_attempt(delivery_id)


def run_attempt(delivery_id: int) -> str:
    """Send a delivery once and record the attempt; schedule the next one when it
    failed and may be retried. Its status afterwards: ``"gone"`` when it has ended or
    no longer exists (its endpoint was deleted), ``"pending"`` also when it waits for
    its parked endpoint without being sent.

    A test delivery (no event) is attempted once, never retried, and sent even to a
    parked endpoint."""
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
    is_test = delivery.event_id is None
    if not is_test and endpoint.parked_until is not None and _can_defer():
        parked_until = _parked_until(endpoint, now)
        if parked_until is not None:
            _defer(delivery, parked_until)
            return delivery.status
    if delivery.event is not None:
        body = message_body(delivery.event_type, delivery.event.created, delivery.event.payload)
    else:
        body = message_body(delivery.event_type, now, {"endpoint_id": endpoint.pk})
    headers = signed_headers(signing_secrets(endpoint, now), delivery.message_id, now, body)
    answer = post(endpoint.url, headers, body)
    return _record(delivery, endpoint, answer, now, retry=not is_test)


def _record(
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    answer: Answer,
    now: datetime,
    *,
    retry: bool,
) -> str:
    """Record an attempt's answer and what follows from it; the delivery's status."""
    with transaction.atomic():
        # The endpoint (and its deliveries with it) may have been deleted while the
        # request was out: there is nothing left to record then. Locked, so that a
        # delete waits for the record to be written, and deletes it.
        found = WebhookDelivery.objects.select_for_update().filter(
            pk=delivery.pk, status=Status.PENDING
        )
        if not list(found.values_list("pk", flat=True)):
            return "gone"
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
        _count_timeouts(endpoint, answer)
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


# -- the circuit breaker -----------------------------------------------------------


def _can_defer() -> bool:
    # A backend that cannot defer a task (the immediate one) cannot retry or wait.
    return bool(attempt_delivery.get_backend().supports_defer)


def _count_timeouts(endpoint: WebhookEndpoint, answer: Answer) -> None:
    """Count the attempts in a row that ran out of time; park the endpoint for
    ``WEBHOOK_PARK_SECONDS`` when they reach ``WEBHOOK_PARK_AFTER_TIMEOUTS``. Any
    other outcome (an answer, a refused connection) ends the run and the parking."""
    if answer.timed_out:
        until = timezone.now() + timedelta(seconds=ibl_settings.WEBHOOK_PARK_SECONDS)
        reached = When(
            timeouts_in_row__gte=ibl_settings.WEBHOOK_PARK_AFTER_TIMEOUTS - 1, then=Value(until)
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            timeouts_in_row=F("timeouts_in_row") + 1,
            parked_until=Case(reached, default=F("parked_until")),
        )
    elif endpoint.timeouts_in_row or endpoint.parked_until is not None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(timeouts_in_row=0, parked_until=None)


def _parked_until(endpoint: WebhookEndpoint, now: datetime) -> datetime | None:
    """Until when a parked endpoint's attempt must wait; ``None`` when it may go now
    (the parking has ended and this attempt is the one that tries the endpoint, or
    another one's answer ended it meanwhile)."""
    if endpoint.parked_until is not None and endpoint.parked_until > now:
        return endpoint.parked_until
    if _claim_probe(endpoint, now):
        return None
    found = WebhookEndpoint.objects.filter(pk=endpoint.pk).values_list("parked_until", flat=True)
    return found.first()


def _claim_probe(endpoint: WebhookEndpoint, now: datetime) -> bool:
    """Whether this attempt is the one that tries a parked endpoint whose parking has
    ended. One attempt at a time: the parking is extended over it (twice its deadline,
    so a worker that stops in the middle does not park the endpoint for long)."""
    probe_ends = now + timedelta(seconds=2 * ibl_settings.WEBHOOK_TIMEOUT)
    claimed = WebhookEndpoint.objects.filter(pk=endpoint.pk, parked_until__lte=now).update(
        parked_until=probe_ends
    )
    return claimed == 1


def _defer(delivery: WebhookDelivery, parked_until: datetime) -> None:
    """Queue the delivery's attempt for when its endpoint's parking ends (spread over
    one deadline, so the waiting deliveries do not all wake at once); nothing is sent
    and no attempt is counted."""
    spread = random.uniform(0, ibl_settings.WEBHOOK_TIMEOUT)
    delivery.next_attempt_at = parked_until + timedelta(seconds=spread)
    _save(delivery, "next_attempt_at")
    attempt_delivery.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)


# -- after an attempt ----------------------------------------------------------------


def _failed(
    delivery: WebhookDelivery, endpoint: WebhookEndpoint, now: datetime, *, retry: bool
) -> None:
    failing_since = endpoint.failing_since or now
    if endpoint.failing_since is None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since=None).update(failing_since=now)
    if now - failing_since >= timedelta(seconds=ibl_settings.WEBHOOK_DISABLE_AFTER_SECONDS):
        disable(endpoint, f"Every attempt failed since {failing_since:%Y-%m-%d %H:%M} UTC.", now)
        _finish(delivery, Status.FAILED, now)
    elif not retry or delivery.attempts >= ibl_settings.WEBHOOK_MAX_ATTEMPTS or not _can_defer():
        _finish(delivery, Status.FAILED, now)
    else:
        delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        _save(delivery, "attempts", "last_status_code", "next_attempt_at")
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
    _save(delivery, "status", "finished", "attempts", "last_status_code", "next_attempt_at")


def _save(delivery: WebhookDelivery, *fields: str) -> None:
    """Write these fields of ``delivery``; a row deleted meanwhile (with its endpoint)
    is left deleted."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        **{name: getattr(delivery, name) for name in fields}
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


class AttemptTimedOut(TimeoutError):
    """The attempt's deadline passed."""


class Deadline:
    """The wall-clock end of one attempt (a monotonic clock: immune to clock changes)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.ends = self.started + seconds

    def remaining(self) -> float:
        """Seconds left; :class:`AttemptTimedOut` when none are."""
        left = self.ends - time.monotonic()
        if left <= 0:
            raise AttemptTimedOut()
        return left

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)


class _DeadlineReader(io.RawIOBase):
    """Reads a socket giving each read only the time left: a receiver that sends one
    byte at a time cannot stretch the attempt (a per-read timeout alone restarts with
    every byte)."""

    def __init__(self, owner: _DeadlineSocket) -> None:
        self._owner = owner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        sock = self._owner.sock
        sock.settimeout(self._owner.deadline.remaining())
        return sock.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            self._owner.reader_closed()
        super().close()


class _DeadlineSocket:
    """What ``http.client`` uses of the connection's socket (send, read, close), with
    every operation bounded by the attempt's deadline. As a socket's ``makefile`` does,
    the socket stays open until its readers are closed too (the connection lets go of
    it before the answer is read)."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self.sock = sock
        self.deadline = deadline
        self._readers = 0
        self._closing = False

    def sendall(self, data: bytes) -> None:
        # send() piece by piece: an SSL socket's sendall gives each piece the whole
        # timeout, so a receiver that reads slowly would stretch it.
        view = memoryview(data).cast("B")
        while view:
            self.sock.settimeout(self.deadline.remaining())
            sent = self.sock.send(view)
            view = view[sent:]

    def makefile(self, mode: str, *args: Any, **kwargs: Any) -> io.BufferedReader:
        self._readers += 1
        return io.BufferedReader(_DeadlineReader(self))

    def reader_closed(self) -> None:
        self._readers -= 1
        if self._closing and not self._readers:
            self.sock.close()

    def close(self) -> None:
        self._closing = True
        if not self._readers:
            self.sock.close()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address already checked, whatever the host name resolves to now,
    within the attempt's deadline."""

    def __init__(self, host: str, port: int, address: str, deadline: Deadline) -> None:
        super().__init__(host, port)
        self.address = address
        self.deadline = deadline

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.deadline.remaining())
        self.sock = _DeadlineSocket(self.secure(sock), self.deadline)  # type: ignore[assignment]

    def secure(self, sock: socket.socket) -> socket.socket:
        return sock


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = http.client.HTTPS_PORT

    def secure(self, sock: socket.socket) -> socket.socket:
        # The whole handshake is bounded by the socket's timeout (not each read of it).
        sock.settimeout(self.deadline.remaining())
        context = ssl.create_default_context()
        return context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, headers: dict[str, str], body: str) -> Answer:
    """POST ``body`` to ``url`` once (no redirects); what came back within
    ``WEBHOOK_TIMEOUT`` seconds, from the start (name resolution included) to the last
    byte of the answer kept."""
    limit = ibl_settings.WEBHOOK_TIMEOUT
    deadline = Deadline(float(limit))
    try:
        scheme, host, port, addresses = safe_addresses(url)
    except UnsafeURL as error:
        return Answer(None, deadline.elapsed_ms(), "", f"Refused: {error}")
    split = url.split("://", 1)[1]
    path = "/" + split.split("/", 1)[1] if "/" in split else "/"
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, addresses[0], deadline)
    response: http.client.HTTPResponse | None = None
    status: int | None = None
    try:
        connection.request("POST", path.split("#", 1)[0], body=body.encode(), headers=headers)
        response = connection.getresponse()
        status = response.status
        excerpt = response.read(ibl_settings.WEBHOOK_RESPONSE_EXCERPT * 4)
        text = excerpt.decode("utf-8", "replace")[: ibl_settings.WEBHOOK_RESPONSE_EXCERPT]
        return Answer(response.status, deadline.elapsed_ms(), text, "")
    except TimeoutError:
        why = f"Timeout: no complete answer within {limit} s."
        if status is not None:
            why = f"Timeout: the answer (status {status}) was not complete within {limit} s."
        return Answer(None, deadline.elapsed_ms(), "", why, timed_out=True)
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, deadline.elapsed_ms(), "", f"{type(error).__name__}: {error}"[:500])
    finally:
        if response is not None:
            response.close()
        connection.close()
