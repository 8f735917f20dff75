"""An agreement's evaluation computed and stored by a process of its own.

A server worker that computed in a thread shared its interpreter with the
readers it serves: reading a million reports, evaluating them and encoding the
changed rows held the GIL for seconds, and every request waited behind it (read
p95 1.7 s at 1M reports while reports arrived). The child does all of that and
writes the rows (`truce.store.derived.store`); the worker keeps only its
heartbeat on the lease, then brings its copy up to date from the rows written.

Children come from a fork server that has imported the pipeline and loaded the
compiled consolidation kernel once (`truce.service.compute_preload`), so each
refresh starts in milliseconds, not the second and a half of a fresh
interpreter, and never forks the threaded server process itself.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from datetime import datetime
from multiprocessing.context import BaseContext

from sqlalchemy import Engine

from truce.service.agreements import AgreementEntry

log = logging.getLogger("truce.service")

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


def _compute_and_store(url: str, entry: AgreementEntry, as_of: datetime, token: str) -> None:
    """In the child: compute, then store under the lease `token` (exit 3: lease lost)."""
    from truce.service.evaluation import compute
    from truce.store import derived
    from truce.store.engine import make_engine

    engine = make_engine(url)
    try:
        if derived.store(engine, compute(engine, entry, as_of), token) is None:
            raise SystemExit(3)
    finally:
        engine.dispose()


def compute_and_store(engine: Engine, entry: AgreementEntry, as_of: datetime, token: str) -> bool:
    """Run the computation in a child process and wait for it; True when it stored the
    evaluation, False when the lease was taken over meanwhile (nothing stored)."""
    url = engine.url.render_as_string(hide_password=False)
    child = _get_context().Process(  # type: ignore[attr-defined]
        target=_compute_and_store,
        args=(url, entry, as_of, token),
        name=f"truce-compute-{entry.agreement.id}",
        daemon=True,
    )
    child.start()
    child.join()
    if child.exitcode == 3:
        return False
    if child.exitcode != 0:
        raise ComputeFailed(
            f"computing the evaluation of {entry.agreement.id} failed in its process "
            f"(exit code {child.exitcode}; its log has the reason)"
        )
    return True
