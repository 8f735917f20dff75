"""The exchange's clock inside `truce serve`: bulletins on the interval, pulls from peers.

Runs in one background thread per server process. Issuing is idempotent and
serialised by the database (the write lock / advisory lock), so several
worker processes may all run it: the first closes each period, the others
find it closed.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from truce.exchange.pull import pull
from truce.exchange.service import Exchange

log = logging.getLogger("truce.exchange")
ENV_TICK = "TRUCE_EXCHANGE_TICK_S"
# For drills and tests: the exchange's clock starts at `start`, runs `speed` times faster
# than real time and stops at `until`, e.g. {"start": "2016-09-12T00:00:00+03:00",
# "speed": 7200, "until": "2016-09-19T00:00:00+03:00"} (a simulated week in 84 s).
ENV_CLOCK = "TRUCE_EXCHANGE_CLOCK"


def clock_from_env(env: Mapping[str, str] | None = None) -> Callable[[], datetime] | None:
    env = os.environ if env is None else env
    text = env.get(ENV_CLOCK, "").strip()
    if not text:
        return None
    spec = json.loads(text)
    start = datetime.fromisoformat(spec["start"])
    speed = float(spec.get("speed", 1))
    until = datetime.fromisoformat(spec["until"]) if spec.get("until") else None
    t0 = time.monotonic()

    def now() -> datetime:
        t = start + timedelta(seconds=(time.monotonic() - t0) * speed)
        return min(t, until) if until else t

    return now


class Scheduler:
    def __init__(self, ex: Exchange, agreements: list[str], tick_s: float | None = None) -> None:
        self.ex = ex
        self.agreements = agreements
        self.tick_s = tick_s if tick_s is not None else float(os.environ.get(ENV_TICK, "30"))
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.tick_s)

    def tick(self) -> None:
        """Close due periods, then pull every peer; failures are alerts, never fatal here."""
        try:
            self.ex.issue_due(self.agreements)
        except Exception:
            log.exception("scheduled bulletin failed")
        for peer in [p["name"] for p in self.ex.peers()]:
            try:
                pull(self.ex, peer)
            except Exception:
                log.exception("pull from %s failed", peer)
