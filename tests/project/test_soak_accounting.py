"""The soak's accounting (``bench/soak.py``): what must be in the database after the
traffic, and what counts as an event lost or delivered twice. Pure functions: no server."""

from __future__ import annotations

from bench.soak import Ledger, compare, delivery_problems, expected_rows


def test_expected_rows_are_the_direct_writes_plus_each_live_group_suggestions_fan_out():
    first, second = Ledger(), Ledger()
    first.suggestions[("course", 1, "c1")] = 10
    first.suggestions[("course", 2, "c1")] = None  # written by a bulk request: no id
    first.group_suggestions[("program", 100, "p1")] = 7
    second.suggestions[("pathway", 3, "w1")] = 11
    second.group_suggestions[("course", 200, "c1")] = 8

    rows = expected_rows([first, second], {100: [5, 6], 200: [1, 9]})

    assert rows == {
        # user 1 has c1 directly and through group 200: one row
        "course": {(1, "c1"), (2, "c1"), (9, "c1")},
        "program": {(5, "p1"), (6, "p1")},
        "pathway": {(3, "w1")},
    }


def test_a_deleted_group_suggestion_takes_its_fan_out_with_it():
    ledger = Ledger()
    ledger.group_suggestions[("course", 100, "c1")] = 7
    del ledger.group_suggestions[("course", 100, "c1")]
    assert expected_rows([ledger], {100: [5, 6]}) == {
        "course": set(),
        "program": set(),
        "pathway": set(),
    }


def test_compare_names_the_missing_rows_and_those_not_accounted_for():
    assert compare("assertions", {("a", False)}, {("a", False)}) == []
    assert compare("assertions", {("a", True), ("b", False)}, {("a", False), ("b", False)}) == [
        "assertions: 1 missing, e.g. [('a', True)]",
        "assertions: 1 not accounted for, e.g. [('a', False)]",
    ]


def test_every_event_delivered_once_passes():
    events = {"msg_1", "msg_2"}
    delivered = {"msg_1": "succeeded", "msg_2": "succeeded"}
    assert delivery_problems(events, delivered, {"msg_1": 1, "msg_2": 1}) == []


def test_an_event_lost_failed_or_received_twice_is_a_problem():
    events = {"msg_1", "msg_2", "msg_3"}
    delivered = {"msg_1": "succeeded", "msg_2": "failed", "msg_3": "succeeded"}
    received = {"msg_1": 2, "msg_3": 1}
    assert delivery_problems(events, delivered, received) == [
        "1 deliveries not succeeded: [('msg_2', 'failed')]",
        "webhook-ids received: 1 missing, e.g. ['msg_2']",
        "1 events received more than once: [('msg_1', 2)]",
    ]
    # An event with no delivery row at all.
    assert delivery_problems({"msg_1", "msg_4"}, {"msg_1": "succeeded"}, {"msg_1": 1}) == [
        "deliveries recorded for the events: 1 missing, e.g. ['msg_4']",
        "webhook-ids received: 1 missing, e.g. ['msg_4']",
    ]
