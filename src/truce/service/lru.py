"""A small thread-safe least-recently-used map, filled in the background on request."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

log = logging.getLogger("truce.service")


class Lru:
    """A small thread-safe least-recently-used map (summaries of views)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._filling: set[Hashable] = set()
        self._making: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
            return self._items.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def made(self, keys: tuple[Hashable, ...], make: Callable[[], Any]) -> Any:
        """What is stored under `keys[0]`, else `make()` stored under each of `keys`:
        made once for the readers asking at the same time (the others wait for it and
        take it), not once by each."""
        with self._lock:
            lock = self._making.setdefault(keys[0], threading.Lock())
        try:
            with lock:
                value = self.get(keys[0])
                if value is None:
                    value = make()
                    for key in keys:
                        self.put(key, value)
                return value
        finally:
            with self._lock:
                if self._making.get(keys[0]) is lock and not lock.locked():
                    del self._making[keys[0]]

    def fill_in_background(self, keys: tuple[Hashable, ...], make: Callable[[], Any]) -> None:
        """Store `make()` under each of `keys` from a thread of its own (once at a time per
        first key; a failure is logged and the next reader tries again)."""
        with self._lock:
            if keys[0] in self._filling:
                return
            self._filling.add(keys[0])

        def fill() -> None:
            try:
                value = make()
                for key in keys:
                    self.put(key, value)
            except Exception:
                log.exception("making a summary failed")
            finally:
                with self._lock:
                    self._filling.discard(keys[0])

        threading.Thread(target=fill, name="truce-summary", daemon=True).start()
