"""A list still being read by another thread: its users wait for it on first use.

After a restart, a server process must read a million incidents before it can
show them (seconds), but the first answers it gives — the dashboard, the
phases, the violations — need none of them. So the stored evaluation is read
header and violations first, and answers at once; the incidents follow in the
same read transaction (the same consistent snapshot of the store), and only a
reader that needs them waits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload


class Deferred(Sequence[dict[str, Any]]):
    """Items that `fill` (or `fail`) provides later, from another thread."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._items: Sequence[dict[str, Any]] = []
        self._error: BaseException | None = None

    def fill(self, read: Callable[[], Sequence[dict[str, Any]]]) -> None:
        try:
            self._items = read()
        except BaseException as exc:
            self._error = exc
            raise
        finally:
            self._done.set()

    def value(self) -> Sequence[dict[str, Any]]:
        """The items, once read (waits until then)."""
        return self._get()

    def _get(self) -> Sequence[dict[str, Any]]:
        self._done.wait()
        if self._error is not None:
            raise RuntimeError("reading the stored incidents failed") from self._error
        return self._items

    @property
    def ready(self) -> bool:
        return self._done.is_set()

    def settled(self) -> None:
        """Wait until the items are read, or their reading failed (its readers see it)."""
        self._done.wait()

    def __len__(self) -> int:
        return len(self._get())

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        return self._get()[index]  # type: ignore[return-value]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._get())

    def __bool__(self) -> bool:
        return bool(self._get())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Deferred):
            other = other._get()
        return self._get() == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._get()) if self.ready else "Deferred(<being read>)"


def resolved(items: Sequence[dict[str, Any]]) -> Sequence[dict[str, Any]]:
    """`items`, or what a `Deferred` holds once read."""
    return items.value() if isinstance(items, Deferred) else items
