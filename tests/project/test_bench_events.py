"""Part ``events`` of ``make bench``: the receiver that verifies every webhook delivery,
the figures of the added cost, and the bench-only switch that turns events off. No
server and no timing here: ``make bench`` runs the part itself."""

from __future__ import annotations

import http.client
import json
import types
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

import ibl_catalog.suggestions.events
import ibl_core.events.outbox
from bench import events, no_events

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER_SECRET = "whsec_" + "dGhpcyBpcyBhbm90aGVyIHNlY3JldCBrZXkgISE="
BODY = json.dumps({"type": "suggestion.created", "timestamp": "2026-11-26T00:00:00Z", "data": {}})


def signed(message_id: str, body: str = BODY, secret: str = SECRET) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "Webhook-Id": message_id,
        "Webhook-Timestamp": str(int(now.timestamp())),
        "Webhook-Signature": Webhook(secret).sign(msg_id=message_id, timestamp=now, data=body),
        "Content-Type": "application/json",
    }


def test_a_signed_delivery_verifies_to_its_webhook_id_whatever_the_header_case():
    assert events.verified_id(SECRET, BODY.encode(), signed("msg_7")) == "msg_7"


@pytest.mark.parametrize(
    "body, headers",
    [
        (BODY.replace("created", "deleted"), signed("msg_7")),  # body changed after signing
        (BODY, signed("msg_7", secret=OTHER_SECRET)),  # another endpoint's secret
        (BODY, {**signed("msg_7"), "Webhook-Id": "msg_8"}),  # id changed after signing
        (BODY, {"Content-Type": "application/json"}),  # no signature at all
    ],
    ids=["body", "secret", "id", "unsigned"],
)
def test_a_delivery_that_does_not_verify_raises(body, headers):
    with pytest.raises(WebhookVerificationError):
        events.verified_id(SECRET, body.encode(), headers)


def test_a_signed_body_that_is_no_event_raises():
    body = json.dumps({"hello": "world"})
    with pytest.raises(ValueError, match="not an event"):
        events.verified_id(SECRET, body.encode(), signed("msg_1", body))


def post(port: int, path: str, body: str, headers: dict[str, str]) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_the_receiver_answers_200_to_verified_deliveries_and_counts_each_id_once():
    receiver = events.Receiver()
    receiver.expect("/hooks", SECRET)
    with events.serve(receiver) as port:
        answers = [post(port, "/hooks", BODY, signed(f"msg_{n}")) for n in (1, 2, 1)]
        assert answers == [(200, b"ok")] * 3
        assert isinstance(receiver.wait_for("/hooks", 2, timeout=10), float)
    assert receiver.verified == {"/hooks": {"msg_1", "msg_2"}}
    assert receiver.deliveries == 3
    assert receiver.failures == []


def test_a_delivery_that_fails_to_verify_is_answered_400_and_fails_the_wait():
    receiver = events.Receiver()
    receiver.expect("/hooks", SECRET)
    with events.serve(receiver) as port:
        assert post(port, "/hooks", BODY, signed("msg_1", secret=OTHER_SECRET)) == (
            400,
            b"not verified",
        )
        assert post(port, "/unknown", BODY, signed("msg_2")) == (400, b"not verified")
        with pytest.raises(RuntimeError, match="failed to verify"):
            receiver.wait_for("/hooks", 1, timeout=10)
    assert receiver.verified == {"/hooks": set()}
    assert receiver.deliveries == 0
    assert [failure.split(":")[0] for failure in receiver.failures] == ["/hooks", "/unknown"]


def test_expect_starts_a_path_from_no_delivery():
    receiver = events.Receiver()
    receiver.expect("/hooks", SECRET)
    assert receiver.receive("/hooks", BODY.encode(), signed("msg_1"))
    receiver.expect("/hooks", OTHER_SECRET)
    assert receiver.verified == {"/hooks": set()}
    assert not receiver.receive("/hooks", BODY.encode(), signed("msg_1"))


def test_added_cost_gives_the_medians_and_the_median_per_sample_ratio():
    cost = events.added_cost([1.2, 1.5, 1.1], [1.0, 1.0, 1.0], rows=10_000)
    assert cost["with_s"] == 1.2
    assert cost["without_s"] == 1.0
    assert cost["ratios"] == pytest.approx([1.2, 1.5, 1.1])
    assert cost["ratio"] == pytest.approx(1.2)
    assert cost["added_ms_per_1000"] == pytest.approx(20.0)  # 0.2 s per 10,000 rows


def test_added_ms_are_the_median_of_per_sample_differences_not_of_the_medians():
    # Differences -0.5, 1.0, 1.0 s: median 1.0 s (the medians differ by 0.5 s).
    cost = events.added_cost([1.0, 2.0, 3.0], [1.5, 1.0, 2.0], rows=1_000)
    assert cost["with_s"] - cost["without_s"] == pytest.approx(0.5)
    assert cost["added_ms_per_1000"] == pytest.approx(1000.0)


def test_added_cost_needs_paired_samples():
    with pytest.raises(ValueError):
        events.added_cost([1.0, 2.0], [1.0], rows=10)


def test_turning_events_off_replaces_the_event_functions_only_in_the_modules_given():
    caller = types.ModuleType("caller")
    caller.record_events = ibl_core.events.outbox.record_events  # type: ignore[attr-defined]
    caller.suggestion_events = ibl_catalog.suggestions.events.suggestion_events  # type: ignore[attr-defined]
    caller.PendingEvent = ibl_core.events.outbox.PendingEvent  # type: ignore[attr-defined]
    original = ibl_core.events.outbox.record_events

    assert no_events.turn_events_off([caller]) == 2

    assert caller.record_events is no_events.record_nothing
    assert caller.suggestion_events is no_events.record_nothing
    assert caller.PendingEvent is ibl_core.events.outbox.PendingEvent
    assert ibl_core.events.outbox.record_events is original  # this process keeps its events
    assert no_events.record_nothing(1, [object()]) == []


def test_turning_the_outbox_off_leaves_the_event_builders_in_place():
    caller = types.ModuleType("caller")
    caller.record_event = ibl_core.events.outbox.record_event  # type: ignore[attr-defined]
    builder = ibl_catalog.suggestions.events.suggestion_events
    caller.suggestion_events = builder  # type: ignore[attr-defined]

    assert no_events.turn_events_off([caller], no_events.SWITCHES["outbox-off"]) == 1

    assert caller.record_event is no_events.record_nothing
    assert caller.suggestion_events is builder
