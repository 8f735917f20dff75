"""A per-process index of the current evaluation, for the OGC items queries (`OgcIndex`).

It holds one `truce.api.ogc.agreement_index.AgreementIndex` per agreement and
visibility class: the snapshot's incidents and violations in sorted numpy arrays,
with per-viewer masks.

Whether the index is current is decided from the store's watermark
(`truce.store.watermark`, re-read at most every `freshness_ms`): when the stored
reports version moves past it, or the snapshot's `valid_until` (next phase
boundary or local midnight) passes, the service's refresher is asked for a new
snapshot, and once this process holds it, it is indexed in a background thread.
Queries keep reading the previous index meanwhile: they never wait for either.

Methods taking `block=False` raise `WouldBlock` rather than read the database or
build anything, so the routes can answer from memory on the event loop and move
to a worker thread only when needed.
"""

from __future__ import annotations

import gc
import logging
import threading

from truce.api.ogc.agreement_index import AgreementIndex, View
from truce.service import Service
from truce.service.scopes import Scope, scope_for
from truce.store import derived, heap
from truce.store.derived import Snapshot
from truce.store.users import User
from truce.store.watermark import Mark, Watermark

log = logging.getLogger("truce.api")


class WouldBlock(Exception):
    """Answering needs the database or a (re)build; retry with `block=True` off the event loop."""


class OgcIndex:
    """One per app: the current `AgreementIndex` of each agreement.

    Whether an index is current is decided from the store's watermark
    (`truce.store.watermark`), so a fresh index costs no database read.
    """

    def __init__(self, service: Service, watermark: Watermark) -> None:
        self.service = service
        self.watermark = watermark
        # Per agreement and visibility class (scope name; "" for everything).
        self._by_key: dict[tuple[str, str], AgreementIndex] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self._indexing: set[tuple[str, str]] = set()  # being indexed in the background
        self.builds = 0  # how often an index was (re)built, for tests
        service.evaluations.follow(self._follow)

    def _follow(self, agreement_id: str) -> None:
        """A newer evaluation over every report is held: index it now, in the background,
        rather than at the next query, so the snapshot indexed before is freed (held
        until then, each worker kept two evaluations of 1M incidents: +300 MB)."""
        if (agreement_id, "") in self._by_key:
            self._index_in_background(agreement_id, None)

    def get(
        self, agreement_id: str, *, block: bool = True, user: User | None = None
    ) -> tuple[AgreementIndex, Mark]:
        """The index of the newest complete evaluation `user` may see (made from the
        reports its visibility class sees; default: all), and the watermark read with it.

        Readers never wait for a refresh: while newer reports are evaluated (by this
        process's refresher or another process) the index of the previous snapshot
        answers, and a newer snapshot is indexed in the background. Only when there is
        no index yet does a caller build one (`block=False`: raises `WouldBlock`)."""
        self.service.agreements.get(agreement_id)  # NotFound for unknown agreements
        scope = None if user is None else scope_for(user)
        key = (agreement_id, "" if scope is None else scope.name)
        mark = self.watermark.current() if block else self.watermark.peek()
        if mark is None:
            raise WouldBlock
        current = self._by_key.get(key)
        if current is not None and (self._up_to_date(current, scope, mark) or not self._waits):
            self._keep_current(current, scope, mark)
            return current, mark
        if not block:
            raise WouldBlock
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            current = self._by_key.get(key)
            if current is None or not self._up_to_date(current, scope, mark):
                # waits only when nothing is held yet, or as configured
                snap = self.service.evaluations.snapshot(agreement_id, scope=scope)
                if current is None or not current.carried(snap):
                    current = self._build(key, snap)
            return current, mark

    @property
    def _waits(self) -> bool:
        """Readers wait for a refresh (`refresh_wait_s` not 0: tests, the CLI)."""
        return self.service.evaluations.refresh_wait_s != 0

    def _up_to_date(self, current: AgreementIndex, scope: Scope | None, mark: Mark) -> bool:
        latest = self.service.evaluations.latest(current.agreement_id, scope)
        indexed = latest is None or current.carried(latest)  # first: it may carry it on
        return indexed and current.fresh(mark.reports_version, self.service.clock())

    def _keep_current(self, current: AgreementIndex, scope: Scope | None, mark: Mark) -> None:
        """Ask for a refresh when `current` is behind the store, and index a newer
        snapshot this process already holds (both in the background)."""
        evaluations = self.service.evaluations
        latest = evaluations.latest(current.agreement_id, scope)
        if latest is not None and not current.carried(latest):
            self._index_in_background(current.agreement_id, scope)
        elif not current.fresh(mark.reports_version, self.service.clock()):
            evaluations.request(current.agreement_id, scope)

    def _index_in_background(self, agreement_id: str, scope: Scope | None) -> None:
        key = (agreement_id, "" if scope is None else scope.name)
        with self._guard:
            if key in self._indexing:
                return
            self._indexing.add(key)
        threading.Thread(
            target=self._index_latest, args=(key, scope), name="truce-ogc-index", daemon=True
        ).start()

    def _index_latest(self, key: tuple[str, str], scope: Scope | None) -> None:
        try:
            snap = self.service.evaluations.latest(key[0], scope)
            with self._guard:
                lock = self._locks.setdefault(key, threading.Lock())
            with lock:
                current = self._by_key.get(key)
                if snap is not None and (current is None or not current.carried(snap)):
                    self._build(key, snap)
        except Exception:
            log.exception("indexing the evaluation of %s failed", key[0])
        finally:
            with self._guard:
                self._indexing.discard(key)

    def _build(self, key: tuple[str, str], snap: Snapshot) -> AgreementIndex:
        with derived.paused_gc():
            built = AgreementIndex.build(
                key[0],
                snap.reports_version,
                snap.valid_until,
                snap.data,
                snapshot=snap,
                previous=self._by_key.get(key),
            )
        self._by_key[key] = built
        self.builds += 1
        if len(built.incident_keys) >= heap.LARGE:
            gc.freeze()  # its millions of objects are not walked on every full collection
            heap.give_back()
        return built

    def view(
        self, agreement_id: str, user: User, *, block: bool = True
    ) -> tuple[AgreementIndex, View]:
        idx, mark = self.get(agreement_id, block=block, user=user)
        view = idx.cached_view(user, mark)
        if view is None:
            if not block:
                raise WouldBlock
            view = idx.view(self.service, user, mark)
        return idx, view
