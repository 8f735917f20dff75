"""A server worker's heap (`truce.store.heap.server_heap`): large blocks freed go back to
the OS even after a larger one was freed, which glibc's default does not promise."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
from pathlib import Path
from truce.store import heap

def rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

if sys.argv[1] == "server":
    heap.server_heap()
big = bytearray(24 << 20)  # freed: glibc's default raises its mmap threshold to 24 MB
del big
before = rss_mb()
blocks = [bytearray(1 << 20) for _ in range(150)]  # touched: resident
keep = [bytearray(1000) for _ in range(10)]  # small ones after them, in the heap
del blocks
print(rss_mb() - before)
"""


def _kept_mb(mode: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True
    )
    return float(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_a_worker_hands_back_large_blocks_it_freed() -> None:
    assert _kept_mb("server") < 20  # of 150 MB allocated and freed
