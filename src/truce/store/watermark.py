"""How far the shared store has been written, read cheaply and rarely.

Every write truce makes is appended to the audit log in the same transaction
(`truce.store.audit`), so `state.audit_head` (the newest entry's seq) moves with
every ingest, review, publication, user added or token revoked; ingests also bump
`state.reports_version`. The pair is the *watermark*: per-process caches (the OGC
index, visibility, authenticated tokens) stay valid while it does not move.

`Watermark.current()` re-reads the pair at most every `interval_s`, so another
process's write is seen within that bound (within twice that while a re-read is
running: callers that must not block keep the previous value meanwhile instead
of queueing behind it). A commit through this process's own engine of a
transaction that wrote (INSERT, UPDATE or DELETE) forces a re-read on the next
call (read-your-writes in one process); the evaluation lease's writes, which
append nothing to the audit log (`write_transaction(audited=False)`), do not. `peek()` answers
only when no database read is due (for callers that must not block, such as the
event loop).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from sqlalchemy import Engine, event, select

from truce.store.schema import state

__all__ = ["Mark", "Watermark", "read_mark"]

WRITES = ("INSERT", "UPDATE", "DELETE")


class Mark(NamedTuple):
    reports_version: int
    audit_seq: int


def read_mark(engine: Engine) -> Mark:
    """One round trip: the stored reports version and the newest audit entry's seq."""
    q = select(state.c.key, state.c.int_value).where(
        state.c.key.in_(("reports_version", "audit_head"))
    )
    with engine.connect() as conn:  # read only: closed with a rollback, no commit event
        values = {k: int(v or 0) for k, v in conn.execute(q)}
    return Mark(values.get("reports_version", 0), values.get("audit_head", 0))


class Watermark:
    """The store's watermark as this process last read it (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        interval_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.clock = clock
        self.reads = 0  # database reads, for tests
        self._lock = threading.Lock()
        self._mark: Mark | None = None
        self._read_at = 0.0
        self._local_commits = 0  # commits through `engine` in this process
        self._commits_seen = -1
        self._reading = False
        self._wrote = f"truce_wrote_{id(self)}"  # Connection.info key: the transaction wrote
        self._listeners = (
            ("after_cursor_execute", self._on_execute),
            ("commit", self._on_commit),
            ("rollback", self._on_rollback),
        )
        for name, fn in self._listeners:
            event.listen(engine, name, fn)

    def _on_execute(
        self, conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if conn.get_execution_options().get("truce_unaudited"):
            return  # the evaluation lease: no audit entry, so no watermark move
        by_context = context is not None and (
            context.isinsert or context.isupdate or context.isdelete
        )
        if by_context or statement.lstrip()[:6].upper() in WRITES:  # text() too
            conn.info[self._wrote] = True

    def _on_commit(self, conn: Any) -> None:
        if conn.info.pop(self._wrote, False):
            self._local_commits += 1

    def _on_rollback(self, conn: Any) -> None:
        conn.info.pop(self._wrote, None)

    def close(self) -> None:
        for name, fn in self._listeners:
            if event.contains(self.engine, name, fn):
                event.remove(self.engine, name, fn)

    def peek(self) -> Mark | None:
        """The watermark if it is known recently enough, else None (a read is due)."""
        mark = self._mark
        if mark is None or self._commits_seen != self._local_commits:
            return None
        age = self.clock() - self._read_at
        if age < self.interval_s or (self._reading and age < 2 * self.interval_s):
            return mark
        return None

    def current(self) -> Mark:
        """The watermark, read from the database when `peek()` has none."""
        mark = self.peek()
        if mark is not None:
            return mark
        with self._lock:
            mark = self.peek()
            if mark is not None:
                return mark
            commits = self._local_commits  # before the read: a later commit forces another
            at = self.clock()
            self._reading = True
            try:
                mark = read_mark(self.engine)
            finally:
                self._reading = False
            self.reads += 1
            self._mark, self._read_at, self._commits_seen = mark, at, commits
            return mark
