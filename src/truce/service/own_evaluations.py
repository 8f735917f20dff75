"""Evaluations a process computes for itself and never stores: one per visibility
class (what an observer or a submitter may see: issue #13 item 3), made from the
reports that class may see, and one per explicit `as_of` instant; each kept in this
process per reports version. `Evaluations` (the shared evaluation's refresher)
answers readers with these for a scope or an `as_of`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from truce.service.agreements import AgreementEntry
from truce.service.scopes import Moved, ReportIndex, Scope, holder_keys, link_review_keys
from truce.store import heap
from truce.store import reports as report_store
from truce.store.deferred import resolved
from truce.store.derived import Snapshot
from truce.store.engine import read_transaction
from truce.store.packed import PackedIncidents, keys_of

# (agreement, as_of, which reports: None for all) -> an evaluation computed now, packed
ComputeFn = Callable[[AgreementEntry, datetime, Scope | None], Snapshot]
# (agreement, as_of, class, the class's evaluation held) -> its evaluation now, packed,
# computed from the one held where it can be (`truce.service.class_compute`)
ComputeClassFn = Callable[[AgreementEntry, datetime, Scope, Snapshot | None], Snapshot]


@dataclass(frozen=True)
class Reading:
    """A snapshot as a reader gets it: `stale` when reports arrived since (or a phase
    boundary or local midnight passed) and a refresh is under way."""

    snapshot: Snapshot
    stale: bool


class OwnEvaluations:
    """The visibility classes' and the `as_of` instants' evaluations of one process."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime],
        compute: ComputeFn,
        full: Callable[[AgreementEntry], Snapshot],
        compute_class: ComputeClassFn,
        *,
        as_of_cache_size: int,
        scoped_cache_size: int,
    ) -> None:
        """`full`: the evaluation over every report (whose incident keys a class's
        review keys are linked to)."""
        self.engine, self.clock, self.compute, self.full = engine, clock, compute, full
        self.compute_class = compute_class
        self.as_of_cache_size = as_of_cache_size
        self.scoped_cache_size = scoped_cache_size
        self._lock = threading.Lock()  # guards the fields below
        # Evaluations for explicit `as_of` instants, per reports version.
        self._as_of: OrderedDict[tuple[str, str, str, int, datetime], Snapshot] = OrderedDict()
        self._scoped: OrderedDict[tuple[str, str], Snapshot] = OrderedDict()
        self._scoped_locks: dict[tuple[str, str], threading.Lock] = {}
        self._bases: dict[tuple[str, str], report_store.Basis] = {}  # what each was made from
        # The computation of the full evaluation each one's review keys were linked to,
        # and what they were linked through (`ReportIndex.moved_at`).
        self._links: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._moved: dict[tuple[str, str], Moved] = {}

    def latest(self, agreement_id: str, scope: Scope) -> Snapshot | None:
        """The newest evaluation of the class this process holds, without reading."""
        return self._scoped.get((agreement_id, scope.name))

    def current(
        self, entry: AgreementEntry, scope: Scope, wait: bool, request: Callable[[], None]
    ) -> Reading:
        """The class's evaluation: a stale one at once (asking `request` for a refresh)
        unless the caller `wait`s; none yet, or waiting: computed now, in this thread."""
        with read_transaction(self.engine) as conn:
            version = report_store.reports_version(conn)
        held = self._scoped.get((entry.agreement.id, scope.name))
        if held is not None and held.fresh(version, entry.digest, self.clock()):
            return Reading(held, stale=False)
        if held is None or held.agreement_digest != entry.digest or wait:
            held = self.refresh(entry, scope)
            if held.fresh(version, entry.digest, self.clock()):
                return Reading(held, stale=False)
        request()  # linked to a full evaluation behind `version`, or not waited for
        return Reading(held, stale=True)

    def refresh(self, entry: AgreementEntry, scope: Scope) -> Snapshot:
        """The class's evaluation at the stored reports version, computed if need be, and
        counted current only as far as the full evaluation its review keys were linked
        to: a reader finds it stale until both are current."""
        key = (entry.agreement.id, scope.name)
        with self._lock:
            lock = self._scoped_locks.setdefault(key, threading.Lock())
        # Before the class's lock: a reader that waits for a class's refresh would
        # otherwise wait, behind that lock, for the shared refresh too (at a start,
        # some 20 s at a million). One that is behind by then only stamps it lower.
        full = self.full(entry)
        with lock:  # one computation per class at a time; the others take its result
            held = self._scoped.get(key)
            with read_transaction(self.engine) as conn:
                version = report_store.reports_version(conn)
                if held is not None and held.fresh(version, entry.digest, self.clock()):
                    return held
                # Read before computing: the evaluation is at least as new as this.
                basis = report_store.basis(conn)
                still = self._still(conn, key, held, entry, scope, basis)
            if still is not None:  # only reports the class does not see came since
                snap, moved = self._relinked(key, entry, still, full)
            else:
                base = held if held is not None and held.agreement_digest == entry.digest else None
                snap = self.compute_class(entry, self.clock(), scope, base)
                moved = _moved(full, snap)
                link_review_keys(snap.data, entry.agreement.id, holder_keys(moved))
            snap = snap.still_at(min(max(version, snap.reports_version), full.reports_version))
            self._keep(key, snap, basis, full, moved)
            heap.give_back_after(len(snap.data["incidents"]))
            return snap

    def _still(
        self,
        conn: Connection,
        key: tuple[str, str],
        held: Snapshot | None,
        entry: AgreementEntry,
        scope: Scope,
        now: report_store.Basis,
    ) -> Snapshot | None:
        """`held` if it holds at `now`: the same agreement, before its `valid_until`, and
        no report the class sees added or published since it was made. Reports keep
        arriving that most classes do not see (stored unpublished): without this, each
        class was made again from every report it sees (some 16 s at a million) after
        each of them."""
        before = self._bases.get(key)
        if held is None or before is None or held.agreement_digest != entry.digest:
            return None
        if held.valid_until is not None and self.clock() >= held.valid_until:
            return None
        return held if report_store.unchanged_for(conn, before, now, scope.where()) else None

    def _keep(
        self,
        key: tuple[str, str],
        snap: Snapshot,
        basis: report_store.Basis,
        full: Snapshot,
        moved: Moved,
    ) -> None:
        with self._lock:
            self._scoped[key] = snap
            self._bases[key] = basis
            self._links[key] = full.computation
            self._moved[key] = moved
            self._scoped.move_to_end(key)
            while len(self._scoped) > self.scoped_cache_size:
                gone, _ = self._scoped.popitem(last=False)
                self._bases.pop(gone, None)
                self._links.pop(gone, None)
                self._moved.pop(gone, None)

    def as_of(self, entry: AgreementEntry, as_of: datetime, scope: Scope | None) -> Snapshot:
        """The evaluation at `as_of` over the reports `scope` sees (None: all)."""
        with read_transaction(self.engine) as conn:
            version = report_store.reports_version(conn)
        name = "" if scope is None else scope.name
        key = (entry.agreement.id, name, entry.digest, version, as_of)
        with self._lock:
            if key in self._as_of:
                self._as_of.move_to_end(key)
                return self._as_of[key]
        snap = self.compute(entry, as_of, scope)
        linked_at = version
        if scope is not None:
            full = self.full(entry)
            link_review_keys(snap.data, entry.agreement.id, holder_keys(_moved(full, snap)))
            linked_at = full.reports_version
        if linked_at >= version:  # not kept if linked to a full evaluation behind it
            with self._lock:
                self._as_of[key] = snap
                while len(self._as_of) > self.as_of_cache_size:
                    self._as_of.popitem(last=False)
        heap.give_back_after(len(snap.data["incidents"]))
        return snap

    def _relinked(
        self, key: tuple[str, str], entry: AgreementEntry, snap: Snapshot, full: Snapshot
    ) -> tuple[Snapshot, Moved]:
        """A class's evaluation found to hold, its review keys linked to `full`: reports
        the class does not see may have joined the full incident holding a class
        incident's earliest report (or made another the earliest of it), and reviews
        follow the full incident's key. Usually nothing moved: the same computation,
        carried on (`Snapshot.still_at`)."""
        before = self._moved.get(key, {})
        link = self._links.get(key)
        if link == full.computation:
            return snap, before
        same_before = None if link is None else full.same_before(link)
        if same_before is None:
            moved = _moved(full, snap)
        else:  # `full` patched the one linked to: only its incidents from there on
            moved = {r: held for r, held in before.items() if held[1] < same_before}
            moved.update(_moved(full, snap, same_before))
        incidents = resolved(snap.data["incidents"])
        if holder_keys(moved) == _review_keys(incidents):
            return snap, moved
        # The dicts are shared with readers of `snap`: linked as copies.
        if not isinstance(incidents, PackedIncidents):
            incidents = [dict(i) for i in incidents]
        data = {**snap.data, "incidents": incidents}
        data["violations"] = [dict(v) for v in snap.data["violations"]]
        link_review_keys(data, entry.agreement.id, holder_keys(moved))
        return replace(snap, data=data, relinks=snap.relinks + 1), moved


def _moved(full: Snapshot, snap: Snapshot, first: int = 0) -> Moved:
    """What `link_review_keys` needs of a class's evaluation, through the report index of
    the full evaluation `full`'s incidents from position `first` on. Made for each and
    dropped: at 1M reports a whole one is about half a second of mostly compiled work
    (the GIL released) but some 40 MB held, and the full evaluation it was made of
    changes with every report anyway; a refresh's patch is some milliseconds."""
    index = ReportIndex.of(full.data, first)
    return index.moved_at(keys_of(resolved(snap.data["incidents"])))


def _review_keys(incidents: Sequence[dict[str, Any]]) -> dict[str, str]:
    """The review keys of a class's incidents that are not their own keys."""
    if isinstance(incidents, PackedIncidents):
        return dict(incidents.review_keys or {})
    return {i["key"]: i["review_key"] for i in incidents if i["review_key"] != i["key"]}
