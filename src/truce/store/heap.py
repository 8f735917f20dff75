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
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa


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


LARGE = 100_000  # incidents or reports: past this, what handling them freed is given back


def give_back() -> None:
    """Hand the memory freed since back to the OS (glibc's `malloc_trim`): after a
    computation at 1M reports, ~2 GB of freed evaluation would otherwise stay with the
    process until it ends."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    # Arrow's own allocator (mimalloc) keeps freed pages too: a report index made and
    # dropped left ~90 MB with a worker at 1M reports.
    pa.default_memory_pool().release_unused()


def give_back_after(rows: int) -> None:
    """`give_back` after handling `rows` incidents or reports, if that many is `LARGE`:
    below it, what was freed is too little to be worth a trim."""
    if rows >= LARGE:
        give_back()


# mallopt's parameters (glibc's malloc.h) and the values a server worker runs with.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
SERVER_MMAP_THRESHOLD = 256 * 1024
SERVER_TRIM_THRESHOLD = 32 * 1024 * 1024


def server_heap() -> None:
    """Settle a server worker's heap: blocks of 256 KiB and more are mapped on their own
    and go back to the OS when freed. glibc's default raises that threshold each time
    such a block is freed (up to 32 MB), after which the arrays and texts of every
    refresh come from the heap and stay there, fragmented: at 1M reports a worker grew
    by 50-90 MB of free memory per few refreshes (measured with `malloc_trim` from a
    debugger). Left alone where the environment sets glibc's own variables."""
    if {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"} & set(os.environ):
        return
    with contextlib.suppress(OSError, AttributeError):  # not glibc: its own allocator
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, SERVER_MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, SERVER_TRIM_THRESHOLD)
