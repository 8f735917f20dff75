"""The cached evaluation of each agreement, shared by every server process.

A snapshot is fresh when it was computed for the current reports version and
agreement digest, and `now` is before its `valid_until` (the next phase
boundary or local midnight that could change phase or condition states).

Computing is guarded by a lease in the `derived` row: a conditional UPDATE
(atomic on both dialects: SQLite's write lock, PostgreSQL's row lock) lets
exactly one process claim it; the others wait for the snapshot to appear. A
lease older than `LEASE_S` is taken to belong to a crashed process and can be
claimed again.
"""

from __future__ import annotations

import gc
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from truce.store.engine import write_transaction
from truce.store.schema import derived

LEASE_S = 180.0


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

    def fresh(self, version: int, digest: str, now: datetime) -> bool:
        return (
            self.reports_version == version
            and self.agreement_digest == digest
            and (self.valid_until is None or now < self.valid_until)
        )


class _GcPause:
    """Counts the threads that asked for cyclic GC to be off (see `paused_gc`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pausers = 0
        self.was_enabled = True

    def enter(self) -> None:
        with self.lock:
            self.pausers += 1
            if self.pausers == 1:
                self.was_enabled = gc.isenabled()
                gc.disable()

    def leave(self) -> None:
        with self.lock:
            self.pausers -= 1
            if self.pausers == 0 and self.was_enabled:
                gc.enable()


_GC_PAUSE = _GcPause()


@contextmanager
def paused_gc() -> Iterator[None]:
    """Cyclic garbage collection off while a snapshot is built, parsed or indexed.

    Those make millions of objects and no reference cycles, and each full collection
    walks every object alive (at 1M incidents ~4 s each, several per parse: parsing
    takes 2 s of CPU without them, 6.6 s with). Reference counting still frees at
    once; collection resumes when the last thread that paused it is done."""
    _GC_PAUSE.enter()
    try:
        yield
    finally:
        _GC_PAUSE.leave()


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python values (orjson's `default`)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a snapshot")


def encode(data: dict[str, Any]) -> str:
    """The snapshot as compact JSON text (orjson: ~10x faster than `json` at 1M incidents)."""
    return orjson.dumps(data, default=_plain).decode("utf-8")


def load(conn: Connection, agreement_id: str, reuse: Snapshot | None = None) -> Snapshot | None:
    """The stored snapshot; `reuse` (one this process parsed before) is returned as is
    when the stored one is the same computation, sparing a large JSON parse."""
    meta_cols = [c for c in derived.c if c.name != "snapshot"]
    row = conn.execute(select(*meta_cols).where(derived.c.agreement_id == agreement_id)).first()
    if row is None or row.computed_at is None:
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
        select(derived.c.snapshot).where(derived.c.agreement_id == agreement_id)
    ).scalar()
    if text is None:
        return None
    return Snapshot(
        agreement_id=agreement_id,
        reports_version=int(row.reports_version),
        agreement_digest=row.agreement_digest,
        as_of=_aware(row.as_of),  # type: ignore[arg-type]
        valid_until=_aware(row.valid_until),
        computed_at=computed_at,  # type: ignore[arg-type]
        data=_parse(text),
    )


def stored_agreements(conn: Connection) -> list[str]:
    """Agreements with a stored snapshot (computed before, perhaps by another process)."""
    q = select(derived.c.agreement_id).where(derived.c.computed_at.is_not(None))
    return sorted(a for (a,) in conn.execute(q))


def _parse(text: str) -> dict[str, Any]:
    with paused_gc():
        return orjson.loads(text)  # type: ignore[no-any-return]


def claim(engine: Engine, agreement_id: str, *, now: datetime) -> str | None:
    """Try to take the compute lease; returns its token, or None when another holds it."""
    token = secrets.token_hex(16)
    stale = now - timedelta(seconds=LEASE_S)
    with write_transaction(engine) as conn:
        ins = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(ins(derived).values(agreement_id=agreement_id).on_conflict_do_nothing())
        n = conn.execute(
            update(derived)
            .where(
                derived.c.agreement_id == agreement_id,
                or_(derived.c.claim_token.is_(None), derived.c.claim_at < stale),
            )
            .values(claim_token=token, claim_at=now)
        ).rowcount
    return token if n == 1 else None


def release(engine: Engine, agreement_id: str, token: str) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            update(derived)
            .where(derived.c.agreement_id == agreement_id, derived.c.claim_token == token)
            .values(claim_token=None, claim_at=None)
        )


def store(engine: Engine, snap: Snapshot, token: str) -> bool:
    """Write the snapshot and release the lease, if the lease is still ours."""
    with write_transaction(engine) as conn:
        n = conn.execute(
            update(derived)
            .where(derived.c.agreement_id == snap.agreement_id, derived.c.claim_token == token)
            .values(
                reports_version=snap.reports_version,
                agreement_digest=snap.agreement_digest,
                as_of=snap.as_of,
                valid_until=snap.valid_until,
                computed_at=snap.computed_at,
                snapshot=encode(snap.data),
                claim_version=snap.reports_version,
                claim_token=None,
                claim_at=None,
            )
        ).rowcount
    return n == 1
