"""The shared evaluations computed and stored by a process of their own.

A server worker that computed in a thread shared its interpreter with the
readers it serves: reading a million reports, evaluating them and encoding the
changed rows held the GIL for seconds, and every request waited behind it (read
p95 1.7 s at 1M reports while reports arrived). The child does all of that and
writes the rows (`truce.store.derived.store`); the worker keeps only its
heartbeat on the lease, then brings its copy up to date from the rows written.
The child lives as long as the worker and keeps what the next refresh starts from
(`truce.service.compute.Computer`): the reports it read and the evaluation it made.

A worker has a second such child for the evaluations it keeps for itself and never
stores (a visibility class's, an explicit `as_of` instant's: `OwnEvaluations`),
so that neither waits for the other. That child sends each back packed
(`PackedIncidents`): at a million incidents some 100 MB to hold, where the dicts a
worker used to make of it took 2.6 GB, and seconds of its interpreter.

The child comes from a fork server that has imported the pipeline and loaded the
compiled consolidation kernel (`truce.service.compute_preload`), not from a fork
of the threaded server process itself.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Iterator
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Engine

from truce.service.agreements import AgreementEntry
from truce.service.scopes import Scope
from truce.store.derived import Snapshot

if TYPE_CHECKING:
    from truce.service.compute import Computer

log = logging.getLogger("truce.service")

WATCH_S = 0.05  # how often a computing child looks whether its worker is still there
_lock = threading.Lock()
_context: BaseContext | None = None


class ComputeFailed(RuntimeError):
    """The computing process ended without storing an evaluation."""


def _get_context() -> BaseContext:
    global _context
    with _lock:
        if _context is None:
            if "forkserver" in multiprocessing.get_all_start_methods():
                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload(["truce.service.compute_preload"])
                _context = ctx
            else:  # Windows, some macOS set-ups: a fresh interpreter per refresh
                _context = multiprocessing.get_context("spawn")
        return _context


def _serve(pipe: Connection) -> None:
    """The child: compute each request, keeping each agreement's shared state for the
    next (`Computer`), until the worker closes its end of the pipe (or dies). A request
    is to compute and store the shared evaluation under a lease, or to compute one the
    worker keeps for itself, sent back packed: a visibility class's (`ClassRequest`,
    from the class's last computation where it can: `ClassComputers`) or an `as_of`
    instant's (`OwnRequest`)."""
    from truce.service.class_compute import ClassComputers, Continued
    from truce.service.compute import Computer, compute_own, wall_clock
    from truce.store import heap
    from truce.store.engine import make_engine

    computer = Computer(to_store=True)
    classes = ClassComputers()
    engines: dict[str, Engine] = {}
    while True:
        try:
            request = pipe.recv()
        except EOFError:  # the worker is gone
            break
        if request is None:
            break
        url, entry = request[0], request[1]
        try:
            engine = engines.get(url) or engines.setdefault(url, make_engine(url))
            with dies_with_worker(pipe):
                if isinstance(request, OwnRequest):
                    own = compute_own(engine, request.entry, request.as_of, request.scope)
                    reply: tuple[str, Any] = ("computed", own)
                    incremental = False
                elif isinstance(request, ClassRequest):
                    made = classes.compute(
                        engine, entry, request.as_of, request.scope, request.base, wall_clock
                    )
                    reply = ("computed", made)
                    incremental = isinstance(made, Continued)
                else:
                    reply = _shared(engine, computer, request)
                    last = computer.last.get(entry.agreement.id, {})
                    incremental = bool(last.get("incremental"))
            pipe.send(reply)
        except Exception as exc:  # reported to the worker, which logs and retries later
            log.exception("computing the evaluation of %s failed", entry.agreement.id)
            pipe.send(("error", f"{type(exc).__name__}: {exc}"))
            incremental = False
        # After a computation from scratch, the JSON of every incident was freed: hand it
        # back, the child holds columns only. Not after an incremental one: little was
        # freed, and the next refresh would fault its large arrays' pages in again
        # (10k into 1M: 1.9-2.6 s CPU with the trim, 0.7-0.9 s without).
        if not incremental:
            heap.give_back()
    for engine in engines.values():
        engine.dispose()


@contextlib.contextmanager
def dies_with_worker(pipe: Connection) -> Iterator[None]:
    """While computing, end this process at once if the worker's end of `pipe` becomes
    readable: the worker sends nothing while it waits for the answer, so that is its
    end closing (it died, say kill -9) or it stopping this child. A computation then
    dies with its worker, as one in a thread would; an orphaned child otherwise went on
    to store its evaluation under the dead worker's lease. A store cut short is rolled
    back by the database."""
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if pipe.poll(WATCH_S):
                os._exit(1)

    watcher = threading.Thread(target=watch, name="truce-compute-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


class OwnRequest(NamedTuple):
    """An evaluation the worker keeps for itself, never stored: over the reports `scope`
    sees (None: all) at `as_of`."""

    url: str
    entry: AgreementEntry
    as_of: datetime
    scope: Scope | None


class ClassRequest(NamedTuple):
    """A visibility class's evaluation, continuing the computation numbered `base` (the
    one the worker holds) where it can (`truce.service.class_compute`)."""

    url: str
    entry: AgreementEntry
    as_of: datetime
    scope: Scope
    base: int


def _shared(engine: Engine, computer: Computer, request: Any) -> tuple[str, Any]:
    from truce.service.compute import wall_clock
    from truce.store import derived

    _url, entry, as_of, token = request
    done = computer.compute(engine, entry, as_of, wall_clock)
    stored = derived.store(engine, done.snapshot, token, kept_incidents=done.kept)
    last = dict(computer.last.get(entry.agreement.id, {}))
    if stored is not None:
        computer.stored(entry.agreement.id, stored.generation)
        last["generation"] = stored.generation
    return ("stored" if stored else "lost", last)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


class ComputeProcess:
    """One worker's computing process, started on first use and again after a crash."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._child: BaseProcess | None = None
        self._pipe: Connection | None = None
        self.last: Any = None  # what the last computation reused (logs, tests)
        # Per agreement: the generation of the rows the child last stored, from the
        # evaluation it holds (what its next refresh can start from).
        self.generations: dict[str, int] = {}

    def compute_and_store(
        self, engine: Engine, entry: AgreementEntry, as_of: datetime, token: str
    ) -> bool:
        """Compute and store in the child, waiting for it; True when it stored the
        evaluation, False when the lease was taken over meanwhile (nothing stored)."""
        status, detail = self._ask(entry, (_url(engine), entry, as_of, token))
        self.last = detail
        if status == "stored":
            self.generations[entry.agreement.id] = int(detail["generation"])
        return bool(status == "stored")

    def compute_own(
        self, engine: Engine, entry: AgreementEntry, as_of: datetime, scope: Scope | None
    ) -> Snapshot:
        """Compute in the child an evaluation this worker keeps (`OwnRequest`), packed."""
        _status, snap = self._ask(entry, OwnRequest(_url(engine), entry, as_of, scope))
        return snap  # type: ignore[no-any-return]

    def compute_class(
        self, engine: Engine, entry: AgreementEntry, as_of: datetime, scope: Scope, base: int
    ) -> Any:
        """A class's evaluation computed in the child (`ClassRequest`): packed whole, or
        a `Continued` of the computation `base`."""
        _status, made = self._ask(entry, ClassRequest(_url(engine), entry, as_of, scope, base))
        return made

    def _ask(self, entry: AgreementEntry, request: Any) -> tuple[str, Any]:
        with self._lock:
            pipe = self._start()
            try:
                pipe.send(request)
                status, detail = pipe.recv()
            except (EOFError, OSError) as exc:  # the child died (killed, out of memory)
                self._stop()
                raise ComputeFailed(
                    f"the process computing the evaluation of {entry.agreement.id} died "
                    f"({type(exc).__name__}); the next refresh starts a new one"
                ) from exc
        if status == "error":
            raise ComputeFailed(f"computing the evaluation of {entry.agreement.id}: {detail}")
        return status, detail

    def _start(self) -> Connection:
        if self._child is not None and self._child.is_alive() and self._pipe is not None:
            return self._pipe
        self._stop()
        ctx = _get_context()
        mine, theirs = ctx.Pipe()  # type: ignore[attr-defined]
        child = ctx.Process(  # type: ignore[attr-defined]
            target=_serve, args=(theirs,), name="truce-compute", daemon=True
        )
        child.start()
        theirs.close()
        self._child, self._pipe = child, mine
        return mine

    def _stop(self) -> None:
        if self._pipe is not None:
            with contextlib.suppress(OSError):
                self._pipe.send(None)
            self._pipe.close()
        if self._child is not None:
            self._child.join(timeout=5)
            if self._child.is_alive():
                self._child.kill()
        self._child = self._pipe = None
        self.generations.clear()  # a new child holds nothing

    def close(self) -> None:
        """Stop the child; one computing now is killed rather than waited for."""
        if self._lock.acquire(timeout=0.1):
            try:
                self._stop()
            finally:
                self._lock.release()
        elif self._child is not None:
            self._child.kill()  # the waiting worker thread gets EOFError: ComputeFailed
