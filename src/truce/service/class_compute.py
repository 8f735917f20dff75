"""A visibility class's evaluation computed from its last one (issue #13 item 3).

A class (what an observer, or a submitter, may see) is evaluated over the reports it
sees. Computed from scratch, that is every report again: some 15 s at a million,
after every publication. A computing process keeps the state of its last few
classes' computations (`Computer` over the reports `Scope.where` selects), so the
next reads only the reports the class gained since (new ones, and earlier ones
published since) and re-evaluates only what they can reach, as the shared
evaluation's refresh does.

The worker holds the class's evaluation packed; the computing process sends only
what changed: the incidents from the first that may differ on, as rows
(`Continued`), which the worker lays after the ones it holds
(`PackedIncidents.continued`). Each computation is numbered (`Snapshot.serial`): a
computation continues only the very one the worker holds, else it is made whole.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Engine

from truce.service.agreements import AgreementEntry
from truce.service.compute import Computer, EvaluateFn, default_evaluate, pack_incidents
from truce.service.scopes import Scope
from truce.store.deferred import resolved
from truce.store.derived import Snapshot
from truce.store.packed import PackedIncidents, incident_doc, plain_value, violations_by_incident

# Classes whose computation state a computing process keeps: each holds its reports
# and evaluation, about as much as the shared evaluation's (~1 GB at a million).
HELD_CLASSES = 2


@dataclass(frozen=True)
class Continued:
    """A class's evaluation as the continuation of the one numbered `base`: its
    `snapshot.data["incidents"]` are the rows (key, JSON text) from position `kept` on;
    the ones before are `base`'s."""

    snapshot: Snapshot
    kept: int
    base: int


class ClassComputers:
    """The classes' computations of one process, each from its last when it can."""

    def __init__(self, evaluate: EvaluateFn = default_evaluate) -> None:
        self.evaluate = evaluate
        self._held: OrderedDict[tuple[str, str], tuple[Computer, int]] = OrderedDict()
        # Computed in the threads of a process that has no computing process: one class
        # at a time each (`OwnEvaluations` locks per class), the table shared.
        self._lock = threading.Lock()
        self.last: dict[tuple[str, str], dict[str, int | bool]] = {}  # logs, tests

    def compute(
        self,
        engine: Engine,
        entry: AgreementEntry,
        as_of: datetime,
        scope: Scope,
        base: int,
        clock: Callable[[], datetime],
    ) -> Snapshot | Continued:
        """The class's evaluation at `as_of`: continuing the computation numbered `base`
        (the one the caller holds) when this process made it last, else whole."""
        key = (entry.agreement.id, scope.name)
        with self._lock:
            held = self._held.pop(key, None)
        if held is not None and base and held[1] == base:
            computer = held[0]
        else:
            computer = Computer(self.evaluate, to_store=True, where=scope.where())
        done = computer.compute(engine, entry, as_of, clock)
        snap = replace(done.snapshot, serial=secrets.randbits(62) + 1)
        with self._lock:
            self._held[key] = (computer, snap.serial)
            while len(self._held) > HELD_CLASSES:
                self._held.popitem(last=False)
            self.last[key] = {**computer.last.get(entry.agreement.id, {}), "kept": done.kept}
        data = snap.data
        if done.kept:
            rows = [(i["key"], incident_doc(i, plain_value).decode()) for i in data["incidents"]]
            return Continued(replace(snap, data={**data, "incidents": rows}), done.kept, base)
        pack_incidents(data)
        return snap


def continued(base: Snapshot | None, computed: Snapshot | Continued) -> Snapshot:
    """The class's evaluation `computed` made whole: a continuation laid after the
    incidents of `base`, the evaluation it continues."""
    if isinstance(computed, Snapshot):
        return computed
    if base is None or base.serial != computed.base:
        raise RuntimeError("a class's evaluation continues one that is not held")
    snap = computed.snapshot
    held = resolved(base.data["incidents"])
    if not isinstance(held, PackedIncidents):
        raise RuntimeError("a class's held evaluation is not packed")
    violations = snap.data["violations"]
    incidents = held.continued(
        computed.kept, snap.data["incidents"], violations_by_incident(violations)
    )
    return replace(snap, data={**snap.data, "incidents": incidents})
