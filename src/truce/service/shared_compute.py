"""Where a process computes its evaluations (`SharedCompute`): in the calling thread,
or in computing processes of its own (`truce.service.compute_process`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from truce.service.agreements import AgreementEntry
from truce.service.compute import (
    Computer,
    EvaluateFn,
    compute_own,
    default_evaluate,
)
from truce.service.scopes import Scope
from truce.store.derived import Snapshot


class SharedCompute:
    """Where one process computes the shared evaluations: in the calling thread
    (`Computer`), or in its compute process (`truce.service.compute_process`), which
    `truce serve` uses so that readers never wait for the interpreter."""

    def __init__(self, engine: Engine, *, in_child: bool) -> None:
        self.engine, self.in_child = engine, in_child
        self.computer = Computer()  # in-thread: the incremental state
        self.child: Any = None  # a ComputeProcess, started by the first computation
        self.own_child: Any = None  # another, for the evaluations never stored
        self.classes: Any = None  # in-thread: the classes' (a `ClassComputers`)
        self.classes_continued = 0  # class evaluations computed from the last (logs, tests)

    def compute_and_store(
        self,
        entry: AgreementEntry,
        now: datetime,
        token: str,
        evaluate: EvaluateFn,
        clock: Callable[[], datetime],
    ) -> bool:
        """Compute (from the last computation when it can) and store under the lease
        `token`; False when the lease was lost meanwhile. A test's own `evaluate` is
        called in the thread."""
        from truce.store import derived

        if self.in_child and evaluate is default_evaluate:
            if self.child is None:
                from truce.service.compute_process import ComputeProcess

                self.child = ComputeProcess()
            return bool(self.child.compute_and_store(self.engine, entry, now, token))
        if self.computer.evaluate is not evaluate:
            self.computer = Computer(evaluate)
        done = self.computer.compute(self.engine, entry, now, clock)
        stored = derived.store(self.engine, done.snapshot, token, kept_incidents=done.kept)
        if stored is not None:
            self.computer.stored(entry.agreement.id, stored.generation)
        return stored is not None

    def compute_own(
        self,
        entry: AgreementEntry,
        as_of: datetime,
        scope: Scope | None,
        evaluate: EvaluateFn,
        clock: Callable[[], datetime],
    ) -> Snapshot:
        """An evaluation the process keeps for itself (`OwnEvaluations`): over the reports
        `scope` sees (None: all) at `as_of`, from scratch, packed; in a child of its own
        when the shared ones are computed in one. A test's own `evaluate` is called in
        the thread."""
        if self.in_child and evaluate is default_evaluate:
            return self._own_child().compute_own(self.engine, entry, as_of, scope)  # type: ignore[no-any-return]
        return compute_own(self.engine, entry, as_of, scope, clock, evaluate)

    def compute_class(
        self,
        entry: AgreementEntry,
        as_of: datetime,
        scope: Scope,
        base: Snapshot | None,
        evaluate: EvaluateFn,
        clock: Callable[[], datetime],
    ) -> Snapshot:
        """A visibility class's evaluation, packed, computed from `base` (the one the
        process holds) where it can (`truce.service.class_compute`); in the child that
        computes the evaluations never stored, when there is one."""
        from truce.service.class_compute import ClassComputers, Continued, continued

        serial = 0 if base is None else base.serial
        if self.in_child and evaluate is default_evaluate:
            made = self._own_child().compute_class(self.engine, entry, as_of, scope, serial)
        else:
            if self.classes is None or self.classes.evaluate is not evaluate:
                self.classes = ClassComputers(evaluate)
            made = self.classes.compute(self.engine, entry, as_of, scope, serial, clock)
        self.classes_continued += isinstance(made, Continued)
        return continued(base, made)

    def _own_child(self) -> Any:
        """The computing process of the evaluations never stored, started on first use."""
        if self.own_child is None:
            from truce.service.compute_process import ComputeProcess

            self.own_child = ComputeProcess()
        return self.own_child

    def made(self, agreement_id: str, generation: int | None) -> bool:
        """This process's computation made the stored rows of `generation` (so it holds
        what they were made from), or there are none."""
        if not generation:
            return True
        if self.child is not None:
            return bool(self.child.generations.get(agreement_id) == generation)
        held = self.computer.held.get(agreement_id)
        return held is not None and held.generation == generation

    def close(self) -> None:
        for child in (self.child, self.own_child):
            if child is not None:
                child.close()
