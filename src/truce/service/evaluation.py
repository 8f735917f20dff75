"""Each agreement's evaluation over all stored reports, computed at most once per
reports version across processes (the `derived` lease), and the per-process caches.

Readers never wait on a refresh: `Evaluations.current` answers at once with the
last complete snapshot this process holds (saying whether it is stale) and asks
the process's refresher thread to bring it up to date. The refresher loads a
newer snapshot another process stored, or takes the lease and computes one
(renewing the lease while it computes, `lease.Heartbeat`). A reader waits only
when the process holds no snapshot of the agreement at all (after start-up it
parses the stored one, even a stale one, rather than waiting), or when it was
configured to wait (`refresh_wait_s`: the CLI and tests read their own writes).

The visibility classes' evaluations have a refresher thread of their own. A class
made from scratch takes a computing process some 15 s at a million reports; when
one thread did both, reports that came meanwhile waited for it, and the lease
went to another worker, which held nothing to refresh from (28 s from scratch).

`Evaluations` is a class because it holds per-process state: the snapshots this
process parsed or computed, the refresher threads, and (`OwnEvaluations`) the
visibility classes' and explicit `as_of` instants' evaluations.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from truce.service.agreements import AgreementEntry, AgreementRegistry
from truce.service.compute import EvaluateFn, compute, default_evaluate, wall_clock
from truce.service.lru import Lru
from truce.service.own_evaluations import OwnEvaluations, Reading
from truce.service.scopes import Scope
from truce.service.shared_compute import SharedCompute
from truce.store import derived, heap, lease
from truce.store import reports as report_store
from truce.store.derived import Snapshot
from truce.store.engine import read_transaction

log = logging.getLogger("truce.service")

AS_OF_CACHE_SIZE = 32
SCOPED_CACHE_SIZE = 64  # visibility classes' evaluations held per process
SUMMARY_CACHE_SIZE = 64
# How often the refresher looks again while another process holds the lease: its
# snapshot, or its death (`lease.LEASE_STALE_S`), is noticed within this. One look is
# two small reads, so a tenth of a second costs nothing and is a tenth of the 2 s
# that issue 13 gives a refresh.
POLL_S = 0.1
# With `compute_process` (a server): how often an idle refresher looks for reports
# another process stored, so that every worker refreshes without waiting for a reader;
# and how long a worker that did not make the stored evaluation lets the one that did
# (which holds what it was made from: an incremental refresh) take the lease first:
# long enough for that one to notice the new reports even when it did not receive
# them and is busy serving (else the lease falls to a process holding nothing: from
# scratch). It delays nothing when that one does: the lease is taken meanwhile. The
# wait starts again each time another process stores a computation: that one is alive
# and holds the newest state.
WATCH_S = 0.1
AFFINITY_S = 1.0


class _Closed(RuntimeError):
    """The service closed while the class refresher waited: the class is given up."""


class Evaluations:
    """The snapshot lease, the refresher and the as-of cache of one process."""

    def __init__(
        self,
        engine: Engine,
        agreements: AgreementRegistry,
        clock: Callable[[], datetime],
        *,
        refresh_wait_s: float | None = None,
        evaluate: EvaluateFn = default_evaluate,
        lease_clock: Callable[[], datetime] = wall_clock,
        as_of_cache_size: int = AS_OF_CACHE_SIZE,
        scoped_cache_size: int = SCOPED_CACHE_SIZE,
        compute_process: bool = False,
    ) -> None:
        self.engine = engine
        # Compute the shared evaluation in a child process (`compute_process`), not in
        # the refresher thread: the server's readers then never wait for the GIL.
        self.compute_process = compute_process
        self.agreements = agreements
        self.clock = clock
        # How long a reader of a stale snapshot waits for the refresh (None: until it
        # is done; 0: not at all, the server's default).
        self.refresh_wait_s = refresh_wait_s
        self.evaluate = evaluate
        # Where the shared evaluation is computed, and what its next refresh starts from.
        self.shared = SharedCompute(engine, in_child=compute_process)
        self.lease_clock = lease_clock  # wall clock for the lease, shared by processes
        self.computations = 0  # evaluations this process computed (for tests and logs)
        # The newest snapshot this process holds, per agreement.
        self._memo: dict[str, Snapshot] = {}
        self._load_lock = threading.Lock()  # one large parse at a time
        self._cond = threading.Condition()  # guards the fields below and `_memo` updates
        # What the refreshers should bring up to date (ordered sets): agreements'
        # evaluations over every report, and visibility classes' (`_run_classes`).
        self._pending: dict[str, None] = {}
        self._pending_classes: dict[tuple[str, Scope], None] = {}
        # Each visibility class's evaluation and each explicit `as_of`'s, computed in this
        # process (never stored).
        self.own = OwnEvaluations(
            engine, clock, self._compute_own, self._full, self._compute_class,
            as_of_cache_size=as_of_cache_size, scoped_cache_size=scoped_cache_size,
        )  # fmt: skip
        self.summaries = Lru(SUMMARY_CACHE_SIZE)  # small documents made from views (views.py)
        self._failed: dict[str, BaseException] = {}
        self._refresher: threading.Thread | None = None
        self._class_refresher: threading.Thread | None = None
        self._closed = False
        # Told the agreement's id once this process holds a newer snapshot of it: what
        # indexes the previous one (the OGC index) follows, and the previous is freed.
        self._followers: list[weakref.WeakMethod[Callable[[str], None]]] = []

    def follow(self, listener: Callable[[str], None]) -> None:
        """Call the bound method `listener` with an agreement's id whenever a newer
        snapshot of it is held (held weakly: an app that is gone is not called)."""
        self._followers.append(weakref.WeakMethod(listener))

    # --- what readers call -------------------------------------------------------------

    def snapshot(
        self, agreement_id: str, *, as_of: datetime | None = None, scope: Scope | None = None
    ) -> Snapshot:
        """The agreement's evaluation over the stored reports `scope` sees (default: all),
        unfiltered (`.data`), with the reports version it read and the instant it stays
        valid until.

        Without `as_of`: `current(...).snapshot`. With `as_of`: computed for that
        instant, cached per reports version in this process."""
        if as_of is not None:
            return self.own.as_of(self.agreements.get(agreement_id), as_of, scope)
        return self.current(agreement_id, scope).snapshot

    def current(self, agreement_id: str, scope: Scope | None = None) -> Reading:
        """The last complete snapshot, at once; stale ones are refreshed in the background."""
        entry = self.agreements.get(agreement_id)
        if scope is not None:
            wait = self.refresh_wait_s != 0
            return self.own.current(entry, scope, wait, lambda: self.request(agreement_id, scope))
        return self._current(entry, self.refresh_wait_s)

    def _current(self, entry: AgreementEntry, wait_s: float | None) -> Reading:
        agreement_id = entry.agreement.id
        with read_transaction(self.engine) as conn:
            version = report_store.reports_version(conn)
            meta = derived.stored(conn, agreement_id)
        memo = self._usable(agreement_id, entry)
        if memo is None and meta is not None and meta.agreement_digest == entry.digest:
            memo = self._load(agreement_id, entry)  # after start-up: even a stale one
        if memo is not None and memo.fresh(version, entry.digest, self.clock()):
            return Reading(memo, stale=False)
        self.request(agreement_id)
        if memo is not None and wait_s == 0:
            return Reading(memo, stale=True)
        return self._wait(agreement_id, entry, version, None if memo is None else wait_s)

    def latest(self, agreement_id: str, scope: Scope | None = None) -> Snapshot | None:
        """The newest snapshot this process holds, without reading the store."""
        if scope is not None:
            return self.own.latest(agreement_id, scope)
        return self._memo.get(agreement_id)

    def request(self, agreement_id: str, scope: Scope | None = None) -> None:
        """Ask a refresher to bring the agreement's evaluation, or its class `scope`'s,
        up to date (returns at once)."""
        with self._cond:
            if self._closed:
                return
            if scope is None:
                self._pending[agreement_id] = None
                # Started again should one have died of something not an `Exception`
                # (its own loop logs and survives those): stale answers for good otherwise.
                if self._refresher is None or not self._refresher.is_alive():
                    self._refresher = _start(self._run, "truce-refresher")
            else:
                self._pending_classes[(agreement_id, scope)] = None
                if self._class_refresher is None or not self._class_refresher.is_alive():
                    self._class_refresher = _start(self._run_classes, "truce-class-refresher")
            self._cond.notify_all()

    def reports_changed(self) -> None:
        """New reports were stored: refresh every agreement this process serves."""
        for agreement_id in list(self._memo):
            self.request(agreement_id)

    def close(self) -> None:
        """Stop the refresher (a computation under way is abandoned with the process)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self.shared.close()

    def _usable(self, agreement_id: str, entry: AgreementEntry) -> Snapshot | None:
        memo = self._memo.get(agreement_id)
        return memo if memo is not None and memo.agreement_digest == entry.digest else None

    def _wait(
        self, agreement_id: str, entry: AgreementEntry, version: int, wait_s: float | None
    ) -> Reading:
        """The snapshot once it is fresh at `version`, or a stale one after `wait_s`
        seconds (None: until it is fresh)."""
        deadline = None if wait_s is None else time.monotonic() + wait_s
        with self._cond:
            self._failed.pop(agreement_id, None)
            while not self._closed:
                memo = self._usable(agreement_id, entry)
                if memo is not None and memo.fresh(version, entry.digest, self.clock()):
                    return Reading(memo, stale=False)
                failure = self._failed.get(agreement_id)
                if failure is not None:
                    raise failure
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0 and memo is not None:
                    return Reading(memo, stale=True)
                if agreement_id not in self._pending:  # that pass fell short
                    self.request(agreement_id)
                self._cond.wait(POLL_S if left is None else max(min(left, POLL_S), 0.001))
        if threading.current_thread() is self._class_refresher:  # stopping: no class
            raise _Closed(f"closed while waiting for the evaluation of {agreement_id}")
        # No refresher after `close` (the app's lifespan ended): compute here, unstored,
        # rather than wait for a refresh that will never come.
        return Reading(self._compute(entry, self.clock()), stale=False)

    # --- the refresher -----------------------------------------------------------------

    def _run(self) -> None:
        """The refresher of the shared evaluations (and the watch for reports stored
        through other processes)."""
        freed = False
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    if not self._cond.wait(WATCH_S if self.compute_process else None):
                        break  # idle for a while: look at the store
                if self._closed:
                    return
                agreement_id = next(iter(self._pending), None)
                if agreement_id is not None:
                    del self._pending[agreement_id]
            if agreement_id is None:
                if freed:  # idle after refreshing: what the old snapshots held is free
                    heap.give_back()
                    freed = False
                self._watch()
                continue
            try:
                self._refresh(agreement_id)
                freed = True
            except Exception as exc:
                log.exception("refreshing the evaluation of %s failed", agreement_id)
                with self._cond:
                    self._failed[agreement_id] = exc
                    self._cond.notify_all()

    def _run_classes(self) -> None:
        """The refresher of the visibility classes' evaluations (`_full` waits here for
        the shared refresher to bring the full evaluation up to date first)."""
        while True:
            with self._cond:
                while not self._pending_classes and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                item = next(iter(self._pending_classes))
                del self._pending_classes[item]
            agreement_id, scope = item
            try:
                self.own.refresh(self.agreements.get(agreement_id), scope)
            except _Closed:
                return
            except Exception:  # a reader asks again; a waiting one computes it itself
                log.exception("refreshing %s's evaluation of %s failed", scope.name, agreement_id)

    def _watch(self) -> None:
        """Ask for a refresh of each agreement this process serves that is behind the
        store (reports stored through another process)."""
        try:
            with read_transaction(self.engine) as conn:
                version = report_store.reports_version(conn)
        except Exception:  # the database is away for a moment: look again later
            log.warning("reading the reports version failed", exc_info=True)
            return
        for agreement_id, memo in list(self._memo.items()):
            if memo.reports_version < version:
                self.request(agreement_id)

    def _refresh(self, agreement_id: str) -> None:
        """Bring the agreement's snapshot up to the stored reports version: load the one
        another process stored, or take the lease and compute it (once per call)."""
        entry = self.agreements.get(agreement_id)
        deferred = False
        while not self._closed:
            now = self.clock()
            with read_transaction(self.engine) as conn:
                version = report_store.reports_version(conn)
                meta = derived.stored(conn, agreement_id)
            memo = self._usable(agreement_id, entry)
            if memo is not None and memo.fresh(version, entry.digest, now):
                return
            if self._worth_loading(meta, memo, entry):
                self._load(agreement_id, entry)
                # The process that stored it holds what it was made from: its turn
                # again (it may not have seen the later reports yet; a computation
                # here would be from every report, some 20 s at a million).
                deferred = False
                continue
            generation = None if meta is None else meta.generation
            if (
                self.compute_process
                and not deferred
                and not self.shared.made(agreement_id, generation)
            ):
                deferred = True  # let the process that made it refresh it, incrementally
                time.sleep(AFFINITY_S)
                continue
            token = lease.claim(self.engine, agreement_id, now=self.lease_clock())
            if token is None:  # another process computes: wait for its snapshot or its death
                time.sleep(POLL_S)
                continue
            try:
                with lease.Heartbeat(self.engine, agreement_id, token, clock=self.lease_clock):
                    with read_transaction(self.engine) as conn:
                        meta = derived.stored(conn, agreement_id)
                    if self._worth_loading(meta, memo, entry):  # stored while we claimed
                        lease.release(self.engine, agreement_id, token)
                        continue
                    self.computations += 1
                    self.shared.compute_and_store(entry, now, token, self.evaluate, self.clock)
            except BaseException:
                lease.release(self.engine, agreement_id, token)
                raise
            self._load(agreement_id, entry)  # the rows just written: a patch of the last
            return

    def _worth_loading(
        self, meta: derived.Stored | None, memo: Snapshot | None, entry: AgreementEntry
    ) -> bool:
        """The store holds a later computation of this agreement than `memo`."""
        return (
            meta is not None
            and meta.agreement_digest == entry.digest
            and meta.newer_than(memo)
            and (memo is None or (meta.reports_version or 0) >= memo.reports_version)
        )

    def _load(self, agreement_id: str, entry: AgreementEntry) -> Snapshot | None:
        with self._load_lock:
            memo = self._memo.get(agreement_id)
            snap = derived.load(self.engine, agreement_id, memo)
        if snap is None or snap.agreement_digest != entry.digest:
            return self._usable(agreement_id, entry)
        return self._keep(agreement_id, snap)

    def _keep(self, agreement_id: str, snap: Snapshot) -> Snapshot:
        """Hold `snap` unless this process holds a later one; wake waiting readers."""
        with self._cond:
            memo = self._memo.get(agreement_id)
            if (
                memo is None
                or memo.agreement_digest != snap.agreement_digest
                or (
                    (snap.reports_version, snap.computed_at)
                    >= (memo.reports_version, memo.computed_at)
                )
            ):
                self._memo[agreement_id] = snap
            self._cond.notify_all()
            held = self._memo[agreement_id]
        if held is snap and not snap.same(memo):
            for ref in list(self._followers):
                follower = ref()
                if follower is None:
                    self._followers.remove(ref)
                else:
                    follower(agreement_id)
        return held

    def _full(self, entry: AgreementEntry) -> Snapshot:
        """The evaluation over every report, to link a class's review keys to. The class
        refresher waits for the shared refresher to bring it up to date: a class linked
        to one behind is counted current only as far as it is, and its readers would
        ask again at once. Elsewhere the current one, as a reader of it would get it
        (perhaps stale: the class is then counted current only as far as it is)."""
        if threading.current_thread() is self._class_refresher:
            return self._current(entry, None).snapshot
        return self.current(entry.agreement.id).snapshot

    def _compute(self, entry: AgreementEntry, as_of: datetime) -> Snapshot:
        snap = compute(self.engine, entry, as_of, self.clock, self.evaluate)
        self.computations += 1
        return snap

    def _compute_own(self, entry: AgreementEntry, as_of: datetime, scope: Scope | None) -> Snapshot:
        snap = self.shared.compute_own(entry, as_of, scope, self.evaluate, self.clock)
        self.computations += 1
        return snap

    def _compute_class(
        self, entry: AgreementEntry, as_of: datetime, scope: Scope, base: Snapshot | None
    ) -> Snapshot:
        snap = self.shared.compute_class(entry, as_of, scope, base, self.evaluate, self.clock)
        self.computations += 1
        return snap


def _start(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread
