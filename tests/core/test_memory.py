"""Pausing Python's cycle collector for a bulk request (ibl_core/memory.py)."""

from __future__ import annotations

import gc
import threading

import pytest

from ibl_core.api.memory import paused_cycle_collection


@pytest.fixture(autouse=True)
def collector_restored():
    was_enabled = gc.isenabled()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_paused_inside_and_resumed_after():
    gc.enable()
    with paused_cycle_collection():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_resumed_even_when_the_block_raises():
    gc.enable()
    with pytest.raises(RuntimeError), paused_cycle_collection():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_the_host_turned_off_stays_off():
    gc.disable()
    with paused_cycle_collection():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_requests_resume_only_when_the_last_one_ends():
    gc.enable()
    first_inside, release_first = threading.Event(), threading.Event()

    def first_request():
        with paused_cycle_collection():
            first_inside.set()
            release_first.wait(5)

    thread = threading.Thread(target=first_request)
    thread.start()
    first_inside.wait(5)
    with paused_cycle_collection():
        pass
    assert not gc.isenabled()  # the first request is still running
    release_first.set()
    thread.join(5)
    assert gc.isenabled()
