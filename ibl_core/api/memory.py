"""Memory management for requests that build many objects at once.

A bulk request parses and checks tens of thousands of small objects (one dict per
row, its strings, the rows to write). Allocating that many makes Python's cycle
collector run full collections over the whole heap again and again: measured on a
10,000-row bulk, about a fifth of the request. Those objects hold no reference
cycles, so reference counting frees every one of them as soon as the request drops
it; pausing the cycle collector for the request loses nothing.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pausing = 0  # requests of this process inside paused_cycle_collection()
_paused_by_us = False


@contextmanager
def paused_cycle_collection() -> Iterator[None]:
    """Run the block with Python's cycle collector paused, then resume it.

    Requests on other threads of the process (gthread workers) run paused too while
    the block runs: a pause lasts one bulk request. The collector is resumed only
    if it was running before the first pause began, and only when the last pausing
    request ends, so a host project that turned it off keeps it off.
    """
    global _pausing, _paused_by_us
    with _lock:
        if _pausing == 0:
            _paused_by_us = gc.isenabled()
            gc.disable()
        _pausing += 1
    try:
        yield
    finally:
        with _lock:
            _pausing -= 1
            if _pausing == 0 and _paused_by_us:
                gc.enable()
