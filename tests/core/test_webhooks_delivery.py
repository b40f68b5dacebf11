"""Webhook delivery end to end: a receiver on loopback verifies every delivery with the
``standardwebhooks`` library; retries, 410, auto-disable; SSRF refusals."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from standardwebhooks import Webhook

from ibl_core.conf import ibl_settings
from ibl_core.events.outbox import record_event
from ibl_core.events.tasks import default_task_backend
from ibl_core.events.webhooks import delivery
from ibl_core.events.webhooks.addresses import UnsafeURL, safe_addresses
from ibl_core.events.webhooks.services import create_endpoint, rotate_secret, turn_on_endpoints
from ibl_core.models import Event, WebhookDelivery, WebhookEndpoint
from tests.support.webhook_receiver import receiver

pytestmark = pytest.mark.django_db
DATA = {"id": 7, "user_id": 3, "program_key": "program-v1:org+ds+run"}


def verified(endpoint_secret: str, request) -> dict:
    """The payload of a request the receiver got, verified as a Standard Webhooks
    receiver would (raises when the signature does not match)."""
    return Webhook(endpoint_secret).verify(request.body, request.headers)


def dispatch(platform, event_type="suggestion.created", data=DATA) -> list[WebhookDelivery]:
    """Record an event and run what its commit would enqueue, synchronously."""
    record_event(platform, event_type, data["id"], data)
    event = Event.objects.latest("id")
    delivery.dispatch_events.call(platform.pk, [event.pk])
    return list(WebhookDelivery.objects.filter(event=event).order_by("id"))


def test_a_delivery_is_signed_and_verifies_with_standardwebhooks(world):
    with receiver() as hook:
        endpoint = create_endpoint(world.p1, url=hook.url)
        [sent] = dispatch(world.p1)
        assert delivery.run_attempt(sent.pk) == "succeeded"
    [request] = hook.requests
    payload = verified(endpoint.secret, request)
    event = Event.objects.get()
    assert payload == {
        "type": "suggestion.created",
        "timestamp": event.created.isoformat().replace("+00:00", "Z"),
        "data": DATA,
    }
    assert request.path == "/hooks/ibl"
    assert request.headers["webhook-id"] == f"msg_{event.pk}"
    assert request.headers["content-type"] == "application/json"
    sent.refresh_from_db()
    assert (sent.status, sent.attempts, sent.last_status_code) == ("succeeded", 1, 200)
    [attempt] = sent.attempt_records.all()
    assert (attempt.status_code, attempt.response_excerpt) == (200, "answered 200")
    assert attempt.latency_ms is not None and attempt.latency_ms >= 0


def test_only_matching_active_endpoints_of_the_platform_get_deliveries(world):
    with receiver() as hook:
        everything = create_endpoint(world.p1, url=hook.url)
        assertions_only = create_endpoint(world.p1, url=hook.url, events=["assertion.issued"])
        create_endpoint(world.p1, url=hook.url, active=False)
        create_endpoint(world.p2, url=hook.url)
        sent = dispatch(world.p1)
    assert [d.endpoint_id for d in sent] == [everything.pk]
    assert assertions_only.receives("assertion.issued")


def test_retries_until_the_receiver_answers_2xx(world):
    default_task_backend.clear()
    with receiver(script=[500, 503, 429]) as hook:
        endpoint = create_endpoint(world.p1, url=hook.url)
        [sent] = dispatch(world.p1)
        assert delivery.run_attempt(sent.pk) == "pending"
        retries = [r for r in default_task_backend.results if r.task.name == "attempt_delivery"]
        # Each failure schedules the next attempt with backoff (the worker would wait).
        [first_retry] = retries[-1:]
        assert first_retry.args == [sent.pk]
        assert first_retry.task.run_after is not None
        assert delivery.run_attempt(sent.pk) == "pending"
        assert delivery.run_attempt(sent.pk) == "pending"
        assert delivery.run_attempt(sent.pk) == "succeeded"
    assert len(hook.requests) == 4
    # The same message, signed anew each time, verifies every time.
    ids = {request.headers["webhook-id"] for request in hook.requests}
    assert ids == {sent.message_id}
    for request in hook.requests:
        verified(endpoint.secret, request)
    sent.refresh_from_db()
    assert [a.status_code for a in sent.attempt_records.order_by("number")] == [500, 503, 429, 200]
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.active


def test_backoff_grows_exponentially_with_jitter():
    base = ibl_settings.WEBHOOK_RETRY_BASE_SECONDS
    for attempt in range(1, 8):
        delay = delivery.retry_delay(attempt).total_seconds()
        expected = base * 3 ** (attempt - 1)
        assert expected * 0.75 <= delay <= expected * 1.25
    total = sum(base * 3 ** (n - 1) for n in range(1, ibl_settings.WEBHOOK_MAX_ATTEMPTS))
    assert 12 * 3600 < total < 30 * 3600  # about a day


def test_a_delivery_gives_up_after_the_last_attempt(world):
    with (
        receiver(then=500) as hook,
        override_settings(IBL_DATA_MANAGER={**_settings(), "WEBHOOK_MAX_ATTEMPTS": 3}),
    ):
        create_endpoint(world.p1, url=hook.url)
        [sent] = dispatch(world.p1)
        statuses = [delivery.run_attempt(sent.pk) for _ in range(4)]
    assert statuses == ["pending", "pending", "failed", "gone"]
    assert len(hook.requests) == 3


def test_410_disables_the_endpoint(world):
    with receiver(script=[410]) as hook:
        endpoint = create_endpoint(world.p1, url=hook.url)
        [sent] = dispatch(world.p1)
        assert delivery.run_attempt(sent.pk) == "failed"
        endpoint.refresh_from_db()
        assert endpoint.active is False
        assert endpoint.disabled_reason == "The receiver answered 410 Gone."
        assert dispatch(world.p1) == []  # nothing more is sent to it
    assert len(hook.requests) == 1


def test_sustained_failure_disables_the_endpoint(world):
    with receiver(then=502) as hook:
        endpoint = create_endpoint(world.p1, url=hook.url)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            failing_since=timezone.now() - timedelta(days=4)
        )
        [sent] = dispatch(world.p1)
        assert delivery.run_attempt(sent.pk) == "failed"
    endpoint.refresh_from_db()
    assert endpoint.active is False
    assert endpoint.disabled_reason.startswith("Every attempt failed since ")


def test_no_answer_is_a_failed_attempt(world):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    endpoint = create_endpoint(world.p1, url=f"http://127.0.0.1:{port}/")
    [sent] = dispatch(world.p1)
    assert delivery.run_attempt(sent.pk) == "pending"
    [attempt] = sent.attempt_records.all()
    assert attempt.status_code is None and "ConnectionRefused" in attempt.error
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None


def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(world):
    with receiver() as hook:
        endpoint = create_endpoint(world.p1, url=hook.url)
        old = endpoint.secret
        new = rotate_secret(endpoint, overlap_seconds=3600)
        [sent] = dispatch(world.p1)
        delivery.run_attempt(sent.pk)
        rotate_secret(endpoint, overlap_seconds=0)
        newest = endpoint.secret
        [again] = dispatch(world.p1)
        delivery.run_attempt(again.pk)
    during, after = hook.requests
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    verified(old, during) and verified(new, during)
    verified(newest, after)
    with pytest.raises(Exception, match="No matching signature"):
        verified(new, after)


def test_the_test_event(world):
    with receiver(script=[500]) as hook:
        endpoint = create_endpoint(world.p1, url=hook.url)
        sent = delivery.send_test_event(endpoint)
        assert (sent.status, sent.attempts) == ("pending", 0)  # queued
        assert delivery.run_attempt(sent.pk) == "failed"  # once: never retried
    assert len(hook.requests) == 1
    payload = verified(endpoint.secret, hook.requests[0])
    assert payload["type"] == "webhook.test" and payload["data"] == {"endpoint_id": endpoint.pk}


# -- SSRF -------------------------------------------------------------------------


def _settings(**changes):
    from django.conf import settings

    return {**settings.IBL_DATA_MANAGER, **changes}


def resolving_to(*addresses):
    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in addresses]  # fmt: skip

    return getaddrinfo


REFUSED = [
    ("https://127.0.0.1/", None, "loopback or private"),
    ("https://[::1]/", None, "loopback or private"),
    ("https://10.0.0.8/", None, "loopback or private"),
    ("https://192.168.1.1/", None, "loopback or private"),
    ("https://172.16.0.1/", None, "loopback or private"),
    ("https://169.254.169.254/latest/meta-data/", None, "metadata"),
    ("https://[fe80::1]/", None, "Link-local"),
    ("https://metadata.google.internal/", None, "metadata"),
    ("https://hooks.example.org/", ["93.184.216.34", "10.1.2.3"], "loopback or private"),
    ("https://hooks.example.org/", ["127.0.0.1"], "loopback or private"),
    ("https://hooks.example.org/", ["169.254.169.254"], "Link-local"),
    ("https://hooks.example.org/", ["::ffff:10.0.0.1"], "loopback or private"),
    ("http://hooks.example.org/", ["93.184.216.34"], "https"),
    # IPv6 spellings of an IPv4 address: the IPv4 address inside is judged.
    ("https://[2002:0a00:0001::1]/", None, "loopback or private"),  # 6to4 of 10.0.0.1
    ("https://[2002:7f00:1::]/", None, "loopback or private"),  # 6to4 of 127.0.0.1
    ("https://[64:ff9b::a00:1]/", None, "loopback or private"),  # NAT64 of 10.0.0.1
    ("https://[64:ff9b:1:a00:1::]/", None, "loopback or private"),  # local NAT64, /48
    ("https://[::a00:1]/", None, "loopback or private"),  # IPv4-compatible 10.0.0.1
    ("https://hooks.example.org/", ["2002:c0a8:101::1"], "loopback or private"),
]

#: Every IPv6 spelling of the metadata address 169.254.169.254 (a9fe:a9fe): refused
#: always, private targets allowed or not.
METADATA_SPELLINGS = [
    "::ffff:169.254.169.254",  # IPv4-mapped
    "::ffff:a9fe:a9fe",
    "::169.254.169.254",  # IPv4-compatible
    "2002:a9fe:a9fe::1",  # 6to4
    "2002:a9fe:a9fe:1234:5678::9",
    "2001:0:4136:e378:8000:63bf:5601:5601",  # Teredo: client bits inverted (~a9fe:a9fe)
    "2001:0:a9fe:a9fe:8000:63bf:3fff:fdd2",  # Teredo: the server is the metadata address
    "64:ff9b::a9fe:a9fe",  # NAT64, well-known prefix
    "64:ff9b::169.254.169.254",
    "64:ff9b:1:a9fe:a9:fe00::",  # local-use NAT64, /48 prefix (around the u octet)
    "64:ff9b:1:ffa9:fe:a9fe::",  # /56
    "64:ff9b:1:ffff:a9:fea9:fe00:0",  # /64
    "64:ff9b:1::a9fe:a9fe",  # /96
]


@pytest.mark.parametrize(("url", "addresses", "message"), REFUSED)
def test_internal_addresses_are_refused_without_the_allow_setting(
    monkeypatch, url, addresses, message
):
    if addresses:
        monkeypatch.setattr(socket, "getaddrinfo", resolving_to(*addresses))
    with (
        override_settings(IBL_DATA_MANAGER=_settings(WEBHOOKS_ALLOW_PRIVATE=False)),
        pytest.raises(UnsafeURL, match=message),
    ):
        safe_addresses(url)


@pytest.mark.parametrize("allow_private", [True, False])
@pytest.mark.parametrize("address", METADATA_SPELLINGS)
def test_every_ipv6_spelling_of_the_metadata_address_is_refused_always(
    monkeypatch, address, allow_private
):
    message = "Link-local and cloud metadata addresses are refused."
    with override_settings(IBL_DATA_MANAGER=_settings(WEBHOOKS_ALLOW_PRIVATE=allow_private)):
        with pytest.raises(UnsafeURL, match=message):
            safe_addresses(f"https://[{address}]/hooks")
        monkeypatch.setattr(socket, "getaddrinfo", resolving_to(address))
        with pytest.raises(UnsafeURL, match=message):
            safe_addresses("https://hooks.example.org/")


def test_the_embedded_addresses_are_unwrapped():
    from ipaddress import IPv4Address, IPv6Address

    from ibl_core.events.webhooks.addresses import embedded_ipv4

    metadata = IPv4Address("169.254.169.254")
    assert embedded_ipv4(IPv6Address("2002:a9fe:a9fe::1")) == [metadata]
    server, client = embedded_ipv4(IPv6Address("2001:0:4136:e378:8000:63bf:5601:5601"))
    assert (server, client) == (IPv4Address("65.54.227.120"), metadata)
    for length, address in [(48, "64:ff9b:1:a9fe:a9:fe00::"), (56, "64:ff9b:1:ffa9:fe:a9fe::"),
                            (64, "64:ff9b:1:ffff:a9:fea9:fe00:0"),
                            (96, "64:ff9b:1::a9fe:a9fe")]:  # fmt: skip
        assert metadata in embedded_ipv4(IPv6Address(address)), length
    assert embedded_ipv4(IPv6Address("2606:4700::1111")) == []


def test_an_ipv6_spelling_of_the_metadata_address_is_refused_at_save(world):
    response = world.client("platform_admin_p1").post(
        "/api/core/orgs/p1/webhooks/", {"url": "https://[2002:a9fe:a9fe::1]/"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"url": ["Link-local and cloud metadata addresses are refused."]}
    assert not WebhookEndpoint.objects.exists()


def test_a_public_address_is_accepted(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", resolving_to("93.184.216.34"))
    with override_settings(IBL_DATA_MANAGER=_settings(WEBHOOKS_ALLOW_PRIVATE=False)):
        assert safe_addresses("https://hooks.example.org/x")[3] == ["93.184.216.34"]


def test_link_local_and_metadata_are_refused_even_when_private_is_allowed(monkeypatch):
    assert ibl_settings.WEBHOOKS_ALLOW_PRIVATE  # the suite's setting
    for url in ("http://169.254.169.254/", "http://[fe80::1]/", "http://metadata.google.internal/"):
        with pytest.raises(UnsafeURL):
            safe_addresses(url)
    monkeypatch.setattr(socket, "getaddrinfo", resolving_to("169.254.1.1"))
    with pytest.raises(UnsafeURL, match="Link-local"):
        safe_addresses("http://sneaky.example.org/")


@pytest.mark.parametrize("internal", ["10.0.0.5", "64:ff9b::a00:5", "2002:a00:5::1"])
def test_an_address_that_became_internal_is_refused_at_send(world, monkeypatch, internal):
    """Checked at save, and again at every attempt (DNS may change in between), in
    every spelling."""
    monkeypatch.setattr(socket, "getaddrinfo", resolving_to("93.184.216.34"))
    with override_settings(IBL_DATA_MANAGER=_settings(WEBHOOKS_ALLOW_PRIVATE=False)):
        create_endpoint(world.p1, url="https://hooks.example.org/")
        monkeypatch.setattr(socket, "getaddrinfo", resolving_to(internal))
        [sent] = dispatch(world.p1)
        assert delivery.run_attempt(sent.pk) == "pending"
    [attempt] = sent.attempt_records.all()
    assert attempt.status_code is None
    assert attempt.error == "Refused: The URL resolves to a loopback or private address."


def test_the_body_is_the_exact_json_sent(world):
    with receiver() as hook:
        create_endpoint(world.p1, url=hook.url)
        [sent] = dispatch(world.p1, data={"id": 1, "name": "Zoë"})
        delivery.run_attempt(sent.pk)
    assert json.loads(hook.requests[0].body)["data"] == {"id": 1, "name": "Zoë"}


def test_a_backend_that_cannot_defer_ends_a_failed_delivery_instead_of_crashing(world):
    immediate = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with receiver(then=500) as hook, override_settings(TASKS=immediate):
        create_endpoint(world.p1, url=hook.url)
        [sent] = dispatch(world.p1)
        assert delivery.run_attempt(sent.pk) == "failed"
    assert len(hook.requests) == 1


# -- events whose dispatch never reached the queue ----------------------------------


#: A receiver that is never called here (loopback: allowed in tests, no DNS needed).
NOWHERE = "http://127.0.0.1:9/hooks/ibl"


def recorded(platform, ago: timedelta, event_type="suggestion.created") -> Event:
    """An event recorded ``ago`` before now whose commit enqueued nothing (the test's
    transaction never commits: exactly an enqueue that failed after the commit)."""
    record_event(platform, event_type, DATA["id"], DATA)
    event = Event.objects.latest("id")
    Event.objects.filter(pk=event.pk).update(created=timezone.now() - ago)
    event.refresh_from_db()
    return event


def test_the_sweeper_delivers_an_event_whose_task_never_reached_the_queue(world):
    with receiver() as hook:
        endpoint = create_endpoint(world.p1, url=hook.url)
        receiving_since(endpoint, timedelta(hours=1))
        event = recorded(world.p1, timedelta(minutes=10))
        assert event.dispatched is None and not WebhookDelivery.objects.exists()
        assert delivery.sweep() == 1
        [sent] = WebhookDelivery.objects.all()
        assert (sent.endpoint_id, sent.event_id, sent.message_id) == (
            endpoint.pk,
            event.pk,
            f"msg_{event.pk}",
        )
        assert delivery.run_attempt(sent.pk) == "succeeded"
    assert verified(endpoint.secret, hook.requests[0])["data"] == DATA
    event.refresh_from_db()
    assert event.dispatched is not None
    # Swept once: neither the sweeper nor the event's own late task dispatches it again.
    assert delivery.sweep() == 0
    assert delivery.dispatch_events.call(world.p1.pk, [event.pk]) == 0
    assert WebhookDelivery.objects.count() == 1


def test_the_sweeper_leaves_alone_what_it_must_not_deliver(world):
    hour = timedelta(hours=1)
    endpoint = create_endpoint(world.p1, url=NOWHERE)
    receiving_since(endpoint, 5 * hour)
    create_endpoint(world.p2, url=NOWHERE, active=False)
    due = recorded(world.p1, hour)
    recorded(world.p1, timedelta(seconds=30))  # its own task may still be queued
    recorded(world.p1, 6 * hour)  # before the endpoint existed
    recorded(world.p2, hour)  # p2 has no active endpoint
    with override_settings(IBL_DATA_MANAGER=_settings(SWEEP_LOOKBACK_SECONDS=7200)):
        assert delivery.sweep() == 1
        assert Event.objects.filter(platform=world.p1, type="suggestion.created").count() == 3
        assert [(d.event_id, d.endpoint_id) for d in WebhookDelivery.objects.all()] == [
            (due.pk, endpoint.pk)
        ]
        # Older than the lookback: left alone too.
        old = recorded(world.p1, 3 * hour)
        assert delivery.sweep() == 0
        assert not WebhookDelivery.objects.filter(event=old).exists()


def receiving_since(endpoint: WebhookEndpoint, ago: timedelta) -> None:
    """Make ``endpoint`` one that was created (and on) ``ago``."""
    since = timezone.now() - ago
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(created=since, receiving_since=since)


def test_an_endpoint_turned_on_again_receives_the_events_recorded_from_then_on(world):
    """Events recorded while an endpoint was off are not sent to it later, whether or
    not another endpoint of the platform was on meanwhile (their dispatch task ran) and
    whether or not the sweeper finds them (nobody dispatched them)."""
    hour = timedelta(hours=1)
    client = world.client("platform_admin_p1")
    alone = create_endpoint(world.p1, url=NOWHERE)
    receiving_since(alone, 5 * hour)
    other = create_endpoint(world.p2, url=NOWHERE)  # another platform: no effect
    receiving_since(other, 5 * hour)
    assert client.patch(f"/api/core/orgs/p1/webhooks/{alone.pk}/", {"active": False},
                        format="json").status_code == 200  # fmt: skip
    while_off = recorded(world.p1, hour)  # undispatched: nobody listened
    assert client.patch(f"/api/core/orgs/p1/webhooks/{alone.pk}/", {"active": True},
                        format="json").status_code == 200  # fmt: skip
    alone.refresh_from_db()
    assert alone.receiving_since > while_off.created
    assert delivery.sweep() == 0
    assert delivery.dispatch_events.call(world.p1.pk, [while_off.pk]) == 0
    assert not WebhookDelivery.objects.exists()
    [sent] = dispatch(world.p1)  # recorded after it was turned on
    assert sent.endpoint_id == alone.pk


def test_an_endpoint_turned_on_again_does_not_get_what_another_endpoint_got_meanwhile(world):
    """While one endpoint of the platform is off, another one is on: the events of that
    time are delivered to the other one only, also when their dispatch runs after the
    first one is on again (a queue that lags); from then on both receive."""
    hour = timedelta(hours=1)
    client = world.client("platform_admin_p1")
    paused = create_endpoint(world.p1, url=NOWHERE)
    listening = create_endpoint(world.p1, url=NOWHERE)
    for endpoint in (paused, listening):
        receiving_since(endpoint, 5 * hour)
    assert client.patch(f"/api/core/orgs/p1/webhooks/{paused.pk}/", {"active": False},
                        format="json").status_code == 200  # fmt: skip
    [while_off] = dispatch(world.p1)  # dispatched at once
    lagging = recorded(world.p1, timedelta(seconds=1))  # its dispatch not run yet
    assert client.patch(f"/api/core/orgs/p1/webhooks/{paused.pk}/", {"active": True},
                        format="json").status_code == 200  # fmt: skip
    assert delivery.dispatch_events.call(world.p1.pk, [lagging.pk]) == 1
    assert delivery.sweep() == 0
    got = {(d.event_id, d.endpoint_id) for d in WebhookDelivery.objects.all()}
    assert got == {(while_off.event_id, listening.pk), (lagging.pk, listening.pk)}
    after = dispatch(world.p1)
    assert [d.endpoint_id for d in after] == [paused.pk, listening.pk]


def test_turning_on_an_endpoint_that_is_on_keeps_what_it_receives(world):
    endpoint = create_endpoint(world.p1, url=NOWHERE)
    receiving_since(endpoint, timedelta(hours=1))
    endpoint.refresh_from_db()
    since = endpoint.receiving_since
    response = world.client("platform_admin_p1").patch(
        f"/api/core/orgs/p1/webhooks/{endpoint.pk}/", {"active": True}, format="json"
    )
    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.receiving_since == since


def test_the_admin_action_turns_on_only_what_was_off(world):
    on = create_endpoint(world.p1, url=NOWHERE)
    off = create_endpoint(world.p1, url=NOWHERE)
    for endpoint in (on, off):
        receiving_since(endpoint, timedelta(hours=1))
    delivery.disable(off, "The receiver answered 410 Gone.", timezone.now())
    before = {e.pk: e.receiving_since for e in WebhookEndpoint.objects.all()}
    assert turn_on_endpoints(WebhookEndpoint.objects.all()) == 2
    after = {e.pk: e for e in WebhookEndpoint.objects.all()}
    assert after[on.pk].receiving_since == before[on.pk]
    assert after[off.pk].receiving_since > before[off.pk]
    assert (after[off.pk].active, after[off.pk].disabled_reason) == (True, "")


def test_an_endpoint_receives_the_events_recorded_after_it_was_created(world):
    event = recorded(world.p1, timedelta(minutes=1))
    create_endpoint(world.p1, url=NOWHERE)
    assert delivery.dispatch_events.call(world.p1.pk, [event.pk]) == 0
    event.refresh_from_db()
    assert event.dispatched is not None  # dispatched, to nobody


def test_the_sweep_command_says_how_many(world):
    from io import StringIO

    from django.core.management import call_command

    endpoint = create_endpoint(world.p1, url=NOWHERE)
    receiving_since(endpoint, timedelta(hours=1))
    recorded(world.p1, timedelta(minutes=10))
    recorded(world.p1, timedelta(minutes=9), "suggestion.deleted")
    out = StringIO()
    call_command("ibl_sweep", stdout=out)
    assert out.getvalue() == (
        "0 bulk issue jobs queued again, 0 stalled jobs failed.\n"
        "0 stalled provider syncs queued again.\n"
        "2 webhook events dispatched, 0 stalled deliveries queued again.\n"
    )
    out = StringIO()
    call_command("ibl_sweep", stdout=out)
    assert out.getvalue().endswith(
        "\n0 webhook events dispatched, 0 stalled deliveries queued again.\n"
    )
    assert WebhookDelivery.objects.count() == 2
