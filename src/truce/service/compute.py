"""Computing an agreement's evaluation over the stored reports: from scratch, or from
the previous computation after new reports (issue #13: incremental refresh).

`compute` evaluates from scratch (an `as_of` instant). `Computer` computes the shared
evaluation (and, over the reports a class sees, a visibility class's:
`truce.service.class_compute`) and keeps, per agreement, what it needs to do the next
one incrementally: the reports it read (with their store ids), the
evaluation it made, and the generation of the rows it stored. After new reports it
reads only those (the ids it lacks), re-consolidates only what they can reach
(`truce.domain.incremental.reevaluate`), and turns into JSON only the incidents
from the first one that may have changed, plus the violations; the store keeps the
earlier incidents' rows as they are (`truce.store.derived.store(kept_incidents=)`).

Anything that could make the previous computation a wrong start — another agreement
version or sign-up registry, other quiet-day coverage, reports gone from the store,
rows another process stored meanwhile, a test's own evaluate function — means from
scratch, never a guess.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Connection, Engine, func, select

from truce.domain.conditions.base import Coverage
from truce.domain.keys import violation_key
from truce.domain.model import Agreement, Evaluation, ReportTable
from truce.domain.timeparse import to_utc64
from truce.exchange.coverage import coverage_in, needs_coverage
from truce.service import commitments
from truce.service.agreements import AgreementEntry
from truce.service.scopes import Scope
from truce.service.validity import instant, valid_until
from truce.store import reports as report_store
from truce.store.derived import Snapshot, paused_gc
from truce.store.engine import read_transaction
from truce.store.packed import PackedIncidents, violations_by_incident
from truce.store.schema import derived, reports

log = logging.getLogger("truce.service")

# (agreement, reports, as_of, quiet-day coverage) -> evaluation; replaceable for tests.
EvaluateFn = Callable[[Agreement, ReportTable, datetime, Coverage | None], Evaluation]
ID_CHUNK = 10_000  # store ids per `IN (...)` when reading new reports


def default_evaluate(
    agreement: Agreement, table: ReportTable, as_of: datetime, coverage: Coverage | None
) -> Evaluation:
    from truce.domain.evaluate import evaluate

    return evaluate(agreement, table, as_of=as_of, coverage=coverage)


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Computed:
    """A computation: its snapshot, whose `data["incidents"]` holds the incidents from
    position `kept` on (the store holds the first `kept` already, unchanged)."""

    snapshot: Snapshot
    kept: int


def compute(
    engine: Engine,
    entry: AgreementEntry,
    as_of: datetime,
    clock: Callable[[], datetime] = wall_clock,
    evaluate: EvaluateFn = default_evaluate,
    where: ColumnElement[bool] | None = None,
    *,
    packed: bool = False,
) -> Snapshot:
    """The agreement's evaluation at `as_of` over the stored reports (`where` selects
    some), from scratch, with every incident: as dicts, or `packed` as a server process
    holds them (`PackedIncidents`: at a million incidents some 100 MB against 2.6 GB,
    made a block of dicts at a time)."""
    with paused_gc(), read_transaction(engine) as conn:
        version = report_store.reports_version(conn)  # first: the data is at least this new
        table, _ = report_store.load_all(conn, () if where is None else (where,), original=False)
        agreement, covered = _effective(conn, entry)
    ev = evaluate(agreement, table, as_of, covered)
    snap = _snapshot(entry, ev, table, version, as_of, clock(), incidents_from=0, blocks=packed)
    if packed:
        pack_incidents(snap.data)
    return snap


def pack_incidents(data: dict[str, Any]) -> None:
    """`data`'s incidents (every one, as `IncidentBlocks` give them) packed in place, with
    their violations' ids: how a server process holds an evaluation it keeps."""
    data["incidents"] = PackedIncidents.of_items(
        data["incidents"], violations_by_incident(data["violations"])
    )


def compute_own(
    engine: Engine,
    entry: AgreementEntry,
    as_of: datetime,
    scope: Scope | None,
    clock: Callable[[], datetime] = wall_clock,
    evaluate: EvaluateFn = default_evaluate,
) -> Snapshot:
    """`compute` over the reports `scope` sees (None: all), packed: an evaluation a
    server process keeps for itself (`OwnEvaluations`), wherever it is computed."""
    where = None if scope is None else scope.where()
    return compute(engine, entry, as_of, clock, evaluate, where, packed=True)


def _effective(conn: Connection, entry: AgreementEntry) -> tuple[Agreement, Coverage | None]:
    agreement = commitments.effective(conn, entry.agreement)  # registry changes
    covered = coverage_in(conn, agreement.id) if needs_coverage(agreement) else None
    return agreement, covered


def _snapshot(
    entry: AgreementEntry,
    ev: Evaluation,
    table: ReportTable,
    version: int,
    as_of: datetime,
    computed_at: datetime,
    *,
    incidents_from: int,
    blocks: bool = False,
) -> Snapshot:
    from truce.formats.evaluation_json import evaluation_to_dict

    data = evaluation_to_dict(ev, incidents_from=incidents_from, blocks=blocks)
    anchors = ev.incidents.anchor
    for v, row in zip(data["violations"], ev.violations.incident.tolist(), strict=True):
        v["incident_key"] = anchors[row]
        v["key"] = violation_key(entry.agreement.id, v["rule"], v["incident_key"])
    later = table.observed_at[table.observed_at > to_utc64(as_of)]
    first_later = instant(later.min()) if len(later) else None
    return Snapshot(
        agreement_id=entry.agreement.id,
        reports_version=version,
        agreement_digest=entry.digest,
        as_of=as_of,
        valid_until=valid_until(ev, first_later),
        computed_at=computed_at,
        data=data,
    )


@dataclass
class Held:
    """What one agreement's last computation leaves for the next."""

    digest: str
    agreement: Agreement  # with the sign-up registry's changes
    coverage: Coverage | None
    ids: np.ndarray  # the store ids of `table`'s rows
    table: ReportTable
    evaluation: Evaluation
    reports_version: int  # the store's when `table` was read
    generation: int = 0  # of the rows stored from `evaluation` (0: not stored)


class Computer:
    """Computes the shared evaluations of one process, each from the last when it can."""

    def __init__(
        self,
        evaluate: EvaluateFn = default_evaluate,
        *,
        to_store: bool = False,
        where: ColumnElement[bool] | None = None,
    ) -> None:
        """`to_store`: its snapshots are only stored (a computing process), or handed on
        row by row, so their incidents are made a block at a time as they are read
        (`IncidentBlocks`), not held all at once. `where`: over the reports it selects
        only (a visibility class's, `truce.service.class_compute`); its evaluations are
        never stored, so the incidents before a re-evaluation's cut are always those of
        its own last one."""
        self.evaluate = evaluate
        self.to_store = to_store
        self.where = where
        self.held: dict[str, Held] = {}
        self.last: dict[str, Any] = {}  # what the last computation reused (logs, tests)

    def compute(
        self, engine: Engine, entry: AgreementEntry, as_of: datetime, clock: Callable[[], datetime]
    ) -> Computed:
        aid = entry.agreement.id
        # Millions of small objects and no cycles: the collector would walk them all
        # (and the evaluation this process holds) again and again while they are read.
        with paused_gc(), read_transaction(engine) as conn:
            version = report_store.reports_version(conn)
            agreement, covered = _effective(conn, entry)
            stored = None  # a class's evaluations are never stored: nothing to read
            if self.where is None:
                stored = conn.execute(
                    select(
                        derived.c.generation, derived.c.reports_version, derived.c.agreement_digest
                    ).where(derived.c.agreement_id == aid)
                ).first()
            held = self._usable(aid, entry, agreement, covered)
            new_ids = None if held is None else _new_ids(conn, held.ids, self.where)
            if held is None or new_ids is None:
                table = _load(conn, None, self.where)
                ids = _report_ids(conn, self.where)
            else:
                table = ReportTable.concat([held.table, _load(conn, new_ids)])
                ids = np.concatenate([held.ids, new_ids])
        if held is None or new_ids is None:
            ev = self.evaluate(agreement, table, as_of, covered)
            kept = 0
        else:
            from truce.domain.incremental import reevaluate, same_incidents_from

            new_rows = np.arange(len(held.table), len(table))
            # `table` is `held.table` and the new rows: `held.evaluation.reports` when
            # that left no report out (its evaluation's input, as it was).
            appended = held.evaluation.reports is held.table
            ev = reevaluate(
                held.evaluation, table, new_rows, as_of=as_of, coverage=covered, appended=appended
            )
            reused = int(ev.extra.get("incremental", {}).get("reused", 0))
            own = self.where is not None  # never stored: `held` is the base
            kept = reused if own or _rows_hold(stored, held, entry.digest) else 0
            if kept and (own or (stored is not None and stored.generation == held.generation)):
                # The rows are `held`'s own: also those of the incidents made again as
                # they were (not so for rows another process stored since).
                kept += same_incidents_from(
                    held.evaluation, ev, kept, appended=appended and ev.reports is table
                )
        self.last[aid] = {
            "incremental": held is not None and new_ids is not None,
            "kept": kept,
            "new_reports": 0 if new_ids is None else len(new_ids),
        }
        self.held[aid] = Held(entry.digest, agreement, covered, ids, table, ev, version)
        snap = _snapshot(
            entry, ev, table, version, as_of, clock(), incidents_from=kept, blocks=self.to_store
        )
        return Computed(snap, kept)

    def stored(self, agreement_id: str, generation: int) -> None:
        """The last computation's rows were stored as `generation`."""
        held = self.held.get(agreement_id)
        if held is not None:
            held.generation = generation

    def _usable(
        self,
        agreement_id: str,
        entry: AgreementEntry,
        agreement: Agreement,
        covered: Coverage | None,
    ) -> Held | None:
        held = self.held.get(agreement_id)
        if self.evaluate is not default_evaluate or held is None:
            return None  # a test's own evaluate is called every time
        registry = (agreement.commitments, agreement.parties)
        if (
            held.digest != entry.digest
            or (held.agreement.commitments, held.agreement.parties) != registry
            or held.coverage != covered
        ):
            self.held.pop(agreement_id)
            return None
        return held


def _rows_hold(stored: Any, held: Held, digest: str) -> bool:
    """Whether the stored rows hold `held.evaluation`'s incidents before the cut of a
    re-evaluation from it (so they need not be written again).

    They do when `held`'s own rows are the stored ones, and also when another process
    stored since (two server workers take turns): computations are serialised by the
    lease and each reads the store after taking it, so that one read every report
    `held` did and more, all of the added ones later than the cut, which leaves the
    incidents before it as they are in any evaluation over those reports."""
    if stored is None or not held.generation or stored.generation is None:
        return False
    if stored.generation == held.generation:
        return True
    return stored.agreement_digest == digest and (stored.reports_version or 0) >= (
        held.reports_version
    )


def _report_ids(conn: Connection, where: ColumnElement[bool] | None = None) -> np.ndarray:
    """Every stored report's id (of those `where` selects), in the order `load_all`
    reads them."""
    q = select(reports.c.id).order_by(reports.c.id)
    rows = conn.execute(q if where is None else q.where(where)).scalars().all()
    return np.asarray(rows, dtype=np.int64)


def _new_ids(
    conn: Connection, held: np.ndarray, where: ColumnElement[bool] | None = None
) -> np.ndarray | None:
    """The ids of the reports stored since `held` were read (sorted), or None if any of
    `held` is gone from the store. With `where`, of the reports it selects, compared
    whole: a class also gains earlier reports when they are published, and may lose
    some (a tenth of a second or two at a million ids)."""
    if where is None:
        top = int(held.max()) if len(held) else 0
        newest = conn.execute(select(func.max(reports.c.id))).scalar() or 0
        # Bounded on both sides: PostgreSQL, without statistics on the table yet (a bulk
        # load, autovacuum off), takes `id > top` for a third of it and reads every row.
        q = select(reports.c.id).where(reports.c.id > top, reports.c.id <= newest)
        later = conn.execute(q).scalars().all()
        if report_store.report_count(conn) == len(held) + len(later):
            return np.sort(np.asarray(later, dtype=np.int64))  # nothing gone or in between
    # Reports were removed, or a lower id was committed after `held` was read: truce's
    # own writers cannot (each audited write holds one advisory lock from its start, so
    # ids are committed in order), but a row stored by other means could. Compare all.
    now = _report_ids(conn, where)
    if len(np.setdiff1d(held, now, assume_unique=True)):
        return None
    return np.setdiff1d(now, held, assume_unique=True)


def _load(
    conn: Connection, ids: np.ndarray | None, where: ColumnElement[bool] | None = None
) -> ReportTable:
    if ids is None:
        table, _ = report_store.load_all(conn, () if where is None else (where,), original=False)
        return table
    parts = [
        report_store.load_all(conn, (reports.c.id.in_(chunk.tolist()),), original=False)[0]
        for chunk in np.array_split(ids, max(1, -(-len(ids) // ID_CHUNK)))
    ]
    return ReportTable.concat(parts)
