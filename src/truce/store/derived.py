"""The cached evaluation of each agreement, shared by every server process.

A snapshot is fresh when it was computed for the current reports version and
agreement digest, and `now` is before its `valid_until` (the next phase
boundary or local midnight that could change phase or condition states).
The `derived` row holds its small parts (`header`: phases, conditions); its
incidents and violations are rows of their own (`truce.store.evaluation_rows`),
written under the row's `generation`, which every store moves on.

Computing is guarded by a lease in the same row (`truce.store.lease`); `store`
writes only while the lease is still the caller's, and releases it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, func, select, update

from truce.store import evaluation_rows
from truce.store.deferred import Deferred, resolved
from truce.store.engine import read_transaction, write_transaction
from truce.store.heap import give_back, paused_gc
from truce.store.packed import INCIDENT_FIELDS, plain_value
from truce.store.schema import derived

log = logging.getLogger("truce.store")

# A refresh that rewrote more incident rows than both of these (reports arriving for
# times before many stored incidents move every later one) is read whole rather than
# patched in: a patch holds every changed row's text at once, and at 1M incidents a
# rewrite of nearly all of them left each worker at 0.9-1.3 GB, the texts' freed
# memory scattered between the rows kept. The whole load streams them.
PATCH_MAX_ROWS = 20_000
PATCH_MAX_SHARE = 0.125
LINEAGE = 8  # the computations a snapshot remembers it was patched from


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Snapshot:
    agreement_id: str
    reports_version: int
    agreement_digest: str
    as_of: datetime
    valid_until: datetime | None
    computed_at: datetime
    data: dict[str, Any]
    generation: int = 0  # the stored rows' generation it matches (0: not stored)
    # The reports version it was computed at, when found still to hold at a later one
    # (`reports_version`: a class's evaluation, when only reports it does not see were
    # added since; `truce.store.reports.unchanged_for`). 0: computed at `reports_version`.
    computed_version: int = 0
    # How many times a class's review keys were linked anew since it was computed (its
    # data then differs from the same computation's: `OwnEvaluations`).
    relinks: int = 0
    # The computations this one was patched from, newest first, each with the first
    # incident position at which this one may differ from it (`evaluation_rows.patch`):
    # the incidents before it are the same, in their places. What a class's review keys
    # need looking at again when they were linked to one of these (`OwnEvaluations`).
    patched_from: tuple[tuple[tuple[Any, ...], int], ...] = ()
    # A class's evaluation: which computation of its computing process it is, so that
    # the next can be computed from it (`truce.service.class_compute`). 0: none such.
    serial: int = 0

    def same_before(self, computation: tuple[Any, ...]) -> int | None:
        """Up to which incident position this one holds the same incidents as the
        computation `computation` it was patched from (None: not known to be)."""
        return next((first for c, first in self.patched_from if c == computation), None)

    def fresh(self, version: int, digest: str, now: datetime) -> bool:
        """Computed from (at least) reports version `version`, and still valid at `now`."""
        return (
            self.reports_version >= version
            and self.agreement_digest == digest
            and (self.valid_until is None or now < self.valid_until)
        )

    @property
    def computation(self) -> tuple[int, str, datetime, int]:
        """Which computation this is (cheaper than comparing the data)."""
        return (
            self.computed_version or self.reports_version,
            self.agreement_digest,
            self.computed_at,
            self.relinks,
        )

    def same(self, other: Snapshot | None) -> bool:
        """The same computation (perhaps found to hold at a later reports version)."""
        return other is not None and self.computation == other.computation

    def still_at(self, version: int) -> Snapshot:
        """This computation, found to hold at reports version `version` too."""
        return replace(self, reports_version=version, computed_version=self.computation[0])


def encode(data: dict[str, Any]) -> str:
    """The snapshot as compact JSON text (orjson: ~10x faster than `json` at 1M incidents)."""
    return orjson.dumps(data, default=plain_value).decode("utf-8")


@dataclass(frozen=True)
class Stored:
    """What the `derived` row says, without its header."""

    reports_version: int | None
    agreement_digest: str | None
    computed_at: datetime | None
    claim_token: str | None
    claim_at: datetime | None
    generation: int | None = None  # of the stored rows

    def newer_than(self, snap: Snapshot | None) -> bool:
        """A stored computation other than (so, later than) `snap`."""
        if self.computed_at is None or self.reports_version is None:
            return False
        return snap is None or not (
            snap.reports_version == self.reports_version
            and snap.agreement_digest == self.agreement_digest
            and snap.computed_at == self.computed_at
        )


def stored(conn: Connection, agreement_id: str) -> Stored | None:
    """The row's lease and version columns (one cheap read)."""
    cols = (
        derived.c.reports_version,
        derived.c.agreement_digest,
        derived.c.computed_at,
        derived.c.claim_token,
        derived.c.claim_at,
        derived.c.generation,
    )
    row = conn.execute(select(*cols).where(derived.c.agreement_id == agreement_id)).first()
    if row is None:
        return None
    return Stored(
        None if row.reports_version is None else int(row.reports_version),
        row.agreement_digest,
        _aware(row.computed_at),
        row.claim_token,
        _aware(row.claim_at),
        None if row.generation is None else int(row.generation),
    )


def load(engine: Engine, agreement_id: str, reuse: Snapshot | None = None) -> Snapshot | None:
    """The stored snapshot. `reuse` (one this process loaded before) is returned as is
    when the stored one is the same computation, and otherwise brought up to date with
    the rows written since (`evaluation_rows.changes_since`): a refresh that changed
    a few incidents costs a reader of a million only those few.

    Loaded whole (nothing to start from), it is returned once its header and
    violations are read; its incidents follow from the same read transaction in a
    thread of their own (`Deferred`), so a restarted server's first answers that
    need no incident (the dashboard) do not wait for a million of them."""
    ready = threading.Event()
    out: dict[str, Any] = {}

    def read() -> None:
        incidents: Deferred | None = None
        try:
            held = None if reuse is None else reuse.data["incidents"]
            if isinstance(held, Deferred):
                # A start's whole read of `reuse` still under way finishes first: a
                # second beside it (the store's evaluation made again meanwhile) held a
                # million rows' text twice and shared the GIL with it (a first OGC page
                # waited 19-23 s behind the two). Waited for outside the transaction.
                held.settled()
            with read_transaction(engine) as conn, paused_gc():
                got = _read(conn, agreement_id, reuse)
                if not isinstance(got, tuple):  # none, the same, or patched: complete
                    out["snap"] = got
                    ready.set()
                    return
                incidents, snap = got
                out["snap"] = snap
                ready.set()
                violations = snap.data["violations"]
                incidents.fill(
                    lambda: evaluation_rows.load_incidents(conn, agreement_id, violations)
                )
                snap.data["incidents"] = incidents.value()  # later readers: without waiting
            # A whole load read every row as text (1M: hundreds of MB, freed by now, in
            # pieces glibc would keep): hand them back, once per start or from-scratch.
            give_back()
        except BaseException as exc:
            if not ready.is_set():
                out["error"] = exc
                ready.set()
            elif incidents is not None and not incidents.ready:
                incidents.fill(_raise(exc))
            log.exception("reading the stored evaluation of %s failed", agreement_id)

    threading.Thread(target=read, name=f"truce-load-{agreement_id}", daemon=True).start()
    ready.wait()
    if "error" in out:
        raise out["error"]
    return out["snap"]  # type: ignore[no-any-return]


def _raise(exc: BaseException) -> Callable[[], Sequence[dict[str, Any]]]:
    def again() -> Sequence[dict[str, Any]]:
        raise exc

    return again


def _read(
    conn: Connection, agreement_id: str, reuse: Snapshot | None
) -> Snapshot | tuple[Deferred, Snapshot] | None:
    meta_cols = [c for c in derived.c if c.name != "header"]
    row = conn.execute(select(*meta_cols).where(derived.c.agreement_id == agreement_id)).first()
    if row is None or row.computed_at is None or row.generation is None:
        return None
    computed_at = _aware(row.computed_at)
    if (
        reuse is not None
        and reuse.reports_version == row.reports_version
        and reuse.agreement_digest == row.agreement_digest
        and reuse.computed_at == computed_at
    ):
        return reuse
    text = conn.execute(
        select(derived.c.header).where(derived.c.agreement_id == agreement_id)
    ).scalar()
    if text is None:
        return None
    header = orjson.loads(text)
    counts = header.pop("rows")
    if header.pop("incident_fields", None) not in (None, list(INCIDENT_FIELDS)):
        return None  # rows of another version's layout: computed again
    items: tuple[Sequence[dict[str, Any]], list[dict[str, Any]]] | None = None
    patched_from: tuple[tuple[tuple[Any, ...], int], ...] = ()
    if reuse is not None and 0 < reuse.generation <= row.generation:
        rewritten = evaluation_rows.rows_since(conn, agreement_id, reuse.generation)
        if rewritten <= max(PATCH_MAX_ROWS, PATCH_MAX_SHARE * counts["incidents"]):
            patched = _patched(conn, agreement_id, reuse, counts)
            if patched is not None:
                incidents, violations, first = patched
                items = (incidents, violations)
                patched_from = _lineage(reuse, first)
        else:  # whole, streamed; the snapshot held answers meanwhile
            violations = evaluation_rows.load_violations(conn, agreement_id)
            items = (evaluation_rows.load_incidents(conn, agreement_id, violations), violations)
    deferred = None
    if items is None:
        deferred = Deferred()
        items = (deferred, evaluation_rows.load_violations(conn, agreement_id))
    snap = Snapshot(
        agreement_id=agreement_id,
        reports_version=int(row.reports_version),
        agreement_digest=row.agreement_digest,
        as_of=_aware(row.as_of),  # type: ignore[arg-type]
        valid_until=_aware(row.valid_until),
        computed_at=computed_at,  # type: ignore[arg-type]
        data={**header, "incidents": items[0], "violations": items[1]},
        generation=int(row.generation),
        patched_from=patched_from,
    )
    return snap if deferred is None else (deferred, snap)


def _lineage(reuse: Snapshot, first: int) -> tuple[tuple[tuple[Any, ...], int], ...]:
    """A patch of `reuse` from incident position `first` on: what it was patched from."""
    earlier = ((c, min(f, first)) for c, f in reuse.patched_from)
    return ((reuse.computation, first), *earlier)[:LINEAGE]


def _patched(
    conn: Connection, agreement_id: str, reuse: Snapshot, counts: dict[str, int]
) -> tuple[evaluation_rows.Incidents, list[dict[str, Any]], int] | None:
    """`reuse` patched with the rows written since, and the first incident position
    that differs from it."""
    inc_changes, vio_changes = evaluation_rows.changes_since(conn, agreement_id, reuse.generation)
    # Incidents a whole load is still reading (the first load after a start) are waited
    # for and patched packed: patched through the `Deferred`, they would be decoded
    # into a million dicts (16 s and 2.4 GB a worker at 1M, kept from then on).
    held = resolved(reuse.data["incidents"])
    incidents = evaluation_rows.patch(held, inc_changes, counts["incidents"])
    violations = evaluation_rows.patch(reuse.data["violations"], vio_changes, counts["violations"])
    if incidents is None or violations is None:
        return None
    linked = evaluation_rows.link(
        incidents[0],
        violations[0],
        incidents_from=incidents[1],
        violations_from=violations[1],
        touched_before={v["incident_key"] for v in reuse.data["violations"][violations[1] :]},
    )
    return (*linked, incidents[1])


def stored_agreements(conn: Connection) -> list[str]:
    """Agreements with a stored snapshot (computed before, perhaps by another process)."""
    q = select(derived.c.agreement_id).where(derived.c.computed_at.is_not(None))
    return sorted(a for (a,) in conn.execute(q))


def store(
    engine: Engine, snap: Snapshot, token: str, *, kept_incidents: int = 0
) -> Snapshot | None:
    """Write the snapshot and release the lease, if the lease is still ours; returns it
    with the generation its rows were written as (None: the lease was lost).

    Only rows that changed are written (`evaluation_rows`); working out which, and
    encoding them, happens before the write lock is taken. `kept_incidents`: the
    stored rows hold the first that many incidents already, as they are, and
    `snap.data["incidents"]` only the ones after them (an incremental refresh)."""
    data = snap.data
    header = {k: v for k, v in data.items() if k not in ("incidents", "violations")}
    header["incident_fields"] = INCIDENT_FIELDS
    header["rows"] = {
        "incidents": kept_incidents + len(data["incidents"]),
        "violations": len(data["violations"]),
    }
    text = encode(header)
    with read_transaction(engine) as conn:
        plan = evaluation_rows.compare(conn, snap.agreement_id, data, kept_incidents)
    with write_transaction(engine, audited=False) as conn:
        generation = conn.execute(
            update(derived)
            .where(derived.c.agreement_id == snap.agreement_id, derived.c.claim_token == token)
            .values(
                reports_version=snap.reports_version,
                agreement_digest=snap.agreement_digest,
                as_of=snap.as_of,
                valid_until=snap.valid_until,
                computed_at=snap.computed_at,
                header=text,
                generation=func.coalesce(derived.c.generation, 0) + 1,
                claim_version=snap.reports_version,
                claim_token=None,
                claim_at=None,
            )
            .returning(derived.c.generation)
        ).scalar()
        if generation is None:
            return None
        evaluation_rows.apply(conn, snap.agreement_id, plan, int(generation))
    log.info(
        "stored the evaluation of %s: %d rows written, %d removed",
        snap.agreement_id,
        plan.changed,
        plan.removals,
    )
    return replace(snap, generation=int(generation))
