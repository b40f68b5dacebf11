"""One platform's slow receiver never holds up another platform's deliveries: a
wall-clock deadline per attempt, the circuit breaker that parks an endpoint whose
attempts keep running out of time, a test event that never waits in the request, and
no delivery left pending with nothing to finish it."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from ibl_core.events.outbox import record_event
from ibl_core.events.tasks import default_task_backend
from ibl_core.events.webhooks import delivery
from ibl_core.events.webhooks.services import create_endpoint
from ibl_core.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.support.webhook_receiver import drip_receiver, receiver

pytestmark = pytest.mark.django_db
DATA = {"id": 7, "user_id": 3, "program_key": "program-v1:org+ds+run"}
#: Seconds per attempt here: small, so that the suite runs in seconds.
DEADLINE = 1
#: What a loaded machine may add to a deadline (scheduling, the database).
SLACK = 0.75


def small(**changes) -> dict:
    return {**settings.IBL_DATA_MANAGER, "WEBHOOK_TIMEOUT": DEADLINE, **changes}


def record(platform, capture) -> WebhookDelivery:
    """An event whose commit dispatches it (the dispatch task run at once, its
    attempts queued as the commit would queue them); its one delivery."""
    with capture(execute=True):
        record_event(platform, "suggestion.created", DATA["id"], DATA)
        event = Event.objects.latest("id")
        delivery.dispatch_events.call(platform.pk, [event.pk])
    return WebhookDelivery.objects.get(event=event)


class Worker:
    """One worker of the queue: runs the queued attempts in order, those due now, and
    notes when each delivery's attempt ended (seconds since it started)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.done_at: dict[int, float] = {}
        self.seen = 0

    def run(self) -> None:
        results = default_task_backend.results
        while self.seen < len(results):
            result = results[self.seen]
            self.seen += 1
            run_after = result.task.run_after
            if result.task.name != "attempt_delivery" or (run_after and run_after > timezone.now()):
                continue
            [delivery_id] = result.args
            delivery.run_attempt(delivery_id)
            self.done_at[delivery_id] = time.monotonic() - self.started


def test_a_dripping_receiver_delays_another_platform_by_at_most_the_deadline(
    world, django_capture_on_commit_callbacks
):
    default_task_backend.clear()
    with (
        override_settings(IBL_DATA_MANAGER=small()),
        drip_receiver(every=0.2, lasting=8) as slow,
        receiver() as fast,
    ):
        create_endpoint(world.p1, url=slow.url)
        create_endpoint(world.p2, url=fast.url)
        dripped = record(world.p1, django_capture_on_commit_callbacks)  # queued first
        other = record(world.p2, django_capture_on_commit_callbacks)
        worker = Worker()
        worker.run()
    # The other platform's delivery waited for one deadline at most.
    assert worker.done_at[other.pk] <= DEADLINE + SLACK
    other.refresh_from_db()
    assert (other.status, other.last_status_code) == ("succeeded", 200)
    assert len(fast.requests) == 1
    # The dripping receiver was cut off at the deadline: a failed attempt, retried later.
    dripped.refresh_from_db()
    assert (dripped.status, dripped.attempts, dripped.last_status_code) == ("pending", 1, None)
    [attempt] = dripped.attempt_records.all()
    assert attempt.error == f"Timeout: no complete answer within {DEADLINE} s."
    assert DEADLINE * 1000 <= attempt.latency_ms <= (DEADLINE + SLACK) * 1000
    assert dripped.next_attempt_at is not None


def test_a_body_that_drips_after_the_headers_is_cut_off_too(world, monkeypatch):
    import http.server

    class Dripping(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["content-length"]))
            self.send_response(200)
            self.send_header("content-length", "100000")
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b"y")
                self.wfile.flush()
                time.sleep(0.2)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Dripping)
    server.daemon_threads = True
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with override_settings(IBL_DATA_MANAGER=small()):
            started = time.monotonic()
            answer = delivery.post(f"http://127.0.0.1:{server.server_address[1]}/", {}, "{}")
            took = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
    assert took <= DEADLINE + SLACK
    assert answer.timed_out and answer.status_code is None
    assert answer.error == f"Timeout: the answer (status 200) was not complete within {DEADLINE} s."


def test_the_circuit_breaker_parks_an_endpoint_whose_attempts_keep_timing_out(
    world, django_capture_on_commit_callbacks
):
    default_task_backend.clear()
    park = small(WEBHOOK_PARK_AFTER_TIMEOUTS=2, WEBHOOK_PARK_SECONDS=600)
    with override_settings(IBL_DATA_MANAGER=park), drip_receiver() as slow, receiver() as fast:
        endpoint = create_endpoint(world.p1, url=slow.url)
        create_endpoint(world.p2, url=fast.url)
        waiting = [record(world.p1, django_capture_on_commit_callbacks) for _ in range(5)]
        other = record(world.p2, django_capture_on_commit_callbacks)
        worker = Worker()
        worker.run()
        # Two attempts ran out of time; the three others did not take a worker.
        assert slow.connections == 2
        assert worker.done_at[other.pk] <= 2 * DEADLINE + 2 * SLACK
        endpoint.refresh_from_db()
        assert endpoint.timeouts_in_row == 2
        assert endpoint.parked_until > timezone.now() + timedelta(seconds=590)
        assert endpoint.active  # parked, not turned off
        for parked in waiting[2:]:
            parked.refresh_from_db()
            assert (parked.status, parked.attempts) == ("pending", 0)
            assert parked.next_attempt_at >= endpoint.parked_until
        assert WebhookAttempt.objects.filter(delivery__endpoint=endpoint).count() == 2

        # The parking ends; the receiver answers again: one attempt tries it (the others
        # wait while it runs), and its success lets every delivery through.
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            parked_until=timezone.now() - timedelta(seconds=1), url=fast.url
        )
        assert delivery._claim_probe(endpoint, timezone.now())
        assert not delivery._claim_probe(endpoint, timezone.now())
        assert delivery.run_attempt(waiting[2].pk) == "pending"  # waits for the probe
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            parked_until=timezone.now() - timedelta(seconds=1)
        )
        for parked in waiting:
            assert delivery.run_attempt(parked.pk) == "succeeded"
    endpoint.refresh_from_db()
    assert (endpoint.timeouts_in_row, endpoint.parked_until) == (0, None)


def test_an_answer_ends_a_run_of_timeouts(world):
    with override_settings(IBL_DATA_MANAGER=small()), receiver() as fast:
        endpoint = create_endpoint(world.p1, url=fast.url)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(timeouts_in_row=2)
        record_event(world.p1, "suggestion.created", DATA["id"], DATA)
        event = Event.objects.latest("id")
        delivery.dispatch_events.call(world.p1.pk, [event.pk])
        sent = WebhookDelivery.objects.get(event=event)
        assert delivery.run_attempt(sent.pk) == "succeeded"
    endpoint.refresh_from_db()
    assert (endpoint.timeouts_in_row, endpoint.parked_until) == (0, None)


# -- the test event --------------------------------------------------------------------

URL = "/api/core/orgs/p1/webhooks/"


def test_the_test_event_is_queued_and_answered_at_once_whatever_the_receiver_does(
    world, django_capture_on_commit_callbacks
):
    default_task_backend.clear()
    client = world.client("platform_admin_p1")
    with override_settings(IBL_DATA_MANAGER=small()), drip_receiver() as slow:
        endpoint = create_endpoint(world.p1, url=slow.url)
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"{URL}{endpoint.pk}/test/")
        assert time.monotonic() - started < DEADLINE
        assert slow.connections == 0  # nothing was sent in the request
        assert response.status_code == 202
        sent = WebhookDelivery.objects.get()
        location = f"http://testserver{URL}{endpoint.pk}/deliveries/{sent.pk}/"
        assert response["Location"] == location
        body = response.json()
        assert (body["id"], body["event_type"], body["status"], body["attempts"]) == (
            sent.pk, "webhook.test", "pending", 0
        )  # fmt: skip
        assert client.get(location).json() == body
        Worker().run()  # the queued attempt
    polled = client.get(location).json()
    assert (polled["status"], polled["attempts"], polled["last_status_code"]) == ("failed", 1, None)
    assert polled["last_error"] == f"Timeout: no complete answer within {DEADLINE} s."


def test_a_test_event_reaches_a_parked_endpoint(world, django_capture_on_commit_callbacks):
    default_task_backend.clear()
    with receiver() as fast:
        endpoint = create_endpoint(world.p1, url=fast.url)
        until = timezone.now() + timedelta(minutes=5)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(timeouts_in_row=3, parked_until=until)
        with django_capture_on_commit_callbacks(execute=True):
            response = world.client("platform_admin_p1").post(f"{URL}{endpoint.pk}/test/")
        Worker().run()
    assert response.status_code == 202
    assert WebhookDelivery.objects.get().status == "succeeded"
    endpoint.refresh_from_db()
    assert (endpoint.timeouts_in_row, endpoint.parked_until) == (0, None)  # it answers again


def test_the_sweeper_queues_overdue_retries_and_lost_first_attempts(
    world, django_capture_on_commit_callbacks
):
    """A delivery stays pending until an attempt ends it; a lost task (the queue was
    down when the test event was asked for, or a worker stopped) would leave it so."""
    default_task_backend.clear()
    now = timezone.now()
    with receiver() as fast:
        endpoint = create_endpoint(world.p1, url=fast.url)
        # The test's transaction never commits: these tasks never reach the queue.
        lost = delivery.send_test_event(endpoint)
        overdue = delivery.send_test_event(endpoint)
        finished = delivery.send_test_event(endpoint)
        delivery.send_test_event(endpoint)  # recent: its task may still be queued
        WebhookDelivery.objects.filter(pk=lost.pk).update(created=now - timedelta(minutes=6))
        WebhookDelivery.objects.filter(pk=overdue.pk).update(
            created=now - timedelta(hours=2), next_attempt_at=now - timedelta(minutes=6)
        )
        WebhookDelivery.objects.filter(pk=finished.pk).update(
            created=now - timedelta(hours=2), status="succeeded"
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert delivery.requeue_stalled(now) == 2
        queued = [r.args for r in default_task_backend.results]
        assert queued == [[lost.pk], [overdue.pk]]
        with django_capture_on_commit_callbacks(execute=True):
            assert delivery.requeue_stalled(now) == 0  # each is queued once
        Worker().run()
    statuses = [d.status for d in WebhookDelivery.objects.order_by("id")]
    assert statuses == ["succeeded", "succeeded", "succeeded", "pending"]
    assert len(fast.requests) == 2


# -- an endpoint deleted while its delivery is out ----------------------------------------


@pytest.mark.django_db(transaction=True)
def test_deleting_an_endpoint_during_an_attempt_ends_the_attempt_cleanly(world, monkeypatch):
    endpoint = create_endpoint(world.p1, url="http://127.0.0.1:9/hooks")
    record_event(world.p1, "suggestion.created", DATA["id"], DATA)
    event = Event.objects.latest("id")
    delivery.dispatch(world.p1.pk, [event.pk])
    sent = WebhookDelivery.objects.get()

    def deleted_meanwhile(url, headers, body):
        response = world.client("platform_admin_p1").delete(f"{URL}{endpoint.pk}/")
        assert response.status_code == 204
        return delivery.Answer(500, 3, "busy", "")

    monkeypatch.setattr(delivery, "post", deleted_meanwhile)
    assert delivery.run_attempt(sent.pk) == "gone"
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists() and not WebhookAttempt.objects.exists()


# -- https: the handshake is within the deadline too ------------------------------------


@pytest.fixture
def trusted_certificate(tmp_path, monkeypatch):
    """A self-signed certificate for 127.0.0.1 that the webhook client trusts:
    ``(certificate file, key file)``."""
    import datetime as dt
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    default_context = ssl.create_default_context

    def trusting(*args, **kwargs):
        context = default_context(*args, **kwargs)
        context.load_verify_locations(cafile=str(cert_file))
        return context

    monkeypatch.setattr(ssl, "create_default_context", trusting)
    return cert_file, key_file


def test_an_https_receiver_is_verified_and_answers_within_the_deadline(trusted_certificate):
    import http.server
    import ssl
    import threading

    class Answering(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["content-length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answering)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*trusted_certificate)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        answer = delivery.post(f"https://127.0.0.1:{server.server_address[1]}/h", {}, "{}")
    finally:
        server.shutdown()
        server.server_close()
    assert (answer.status_code, answer.error, answer.timed_out) == (204, "", False)


def test_a_tls_handshake_that_never_ends_is_cut_off_at_the_deadline(trusted_certificate):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        port = silent.getsockname()[1]
        with override_settings(IBL_DATA_MANAGER=small()):
            started = time.monotonic()
            answer = delivery.post(f"https://127.0.0.1:{port}/h", {}, "{}")
            took = time.monotonic() - started
    assert DEADLINE <= took <= DEADLINE + SLACK
    assert answer.timed_out
    assert answer.error == f"Timeout: no complete answer within {DEADLINE} s."
