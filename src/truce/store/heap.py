"""The process heap around work that makes millions of objects.

Building, parsing or indexing an evaluation makes millions of objects and no
reference cycles, and each full collection walks every object alive: at 1M
incidents ~4 s each, several per parse (`paused_gc`). Reference counting still
frees them at once, but glibc keeps what was freed for the process unless asked
to hand it back (`give_back`).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _GcPause:
    """Counts the threads that asked for cyclic GC to be off (see `paused_gc`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pausers = 0
        self.was_enabled = True

    def enter(self) -> None:
        with self.lock:
            self.pausers += 1
            if self.pausers == 1:
                self.was_enabled = gc.isenabled()
                gc.disable()

    def leave(self) -> None:
        with self.lock:
            self.pausers -= 1
            if self.pausers == 0 and self.was_enabled:
                gc.enable()


_GC_PAUSE = _GcPause()


@contextmanager
def paused_gc() -> Iterator[None]:
    """Cyclic garbage collection off meanwhile (parsing 1M incidents takes 2 s of CPU
    without it, 6.6 s with); it resumes when the last thread that paused it is done."""
    _GC_PAUSE.enter()
    try:
        yield
    finally:
        _GC_PAUSE.leave()


def give_back() -> None:
    """Hand the memory freed since back to the OS (glibc's `malloc_trim`): after a
    computation at 1M reports, ~2 GB of freed evaluation would otherwise stay with the
    process until it ends."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)
