"""The audit log: every write, appended to a hash chain.

The chain rule (hashing, verification) is `truce.domain.chain`; this module
reads and appends rows. The newest hash is also kept in `state.audit_head`, so
`verify` also sees a removed tail. Each entry's time comes from the caller's
clock (`now=`).

Appends happen inside the writer's own transaction (`write_transaction`), so an
entry exists exactly when the change it records was committed, and appends are
serial (SQLite: the write lock; PostgreSQL: an advisory lock).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from truce.domain.chain import (
    GENESIS,
    AuditProblem,
    VerifyResult,
    canonical_json,
    entry_hash,
    make_entry,
    verify_chain,
)
from truce.store.schema import audit_log, state

__all__ = [
    "GENESIS",
    "AuditProblem",
    "VerifyResult",
    "append",
    "canonical_json",
    "entries",
    "entry_hash",
    "verify",
]


def append(
    conn: Connection, actor: str, action: str, payload: dict[str, Any], *, now: datetime
) -> int:
    """Append one entry, written at `now`, in the caller's (write) transaction; returns its seq."""
    head = conn.execute(
        select(state.c.int_value, state.c.text_value).where(state.c.key == "audit_head")
    ).one()
    e = make_entry(
        int(head.int_value or 0) + 1, head.text_value or GENESIS, actor, action, payload, now=now
    )
    conn.execute(
        audit_log.insert().values(
            seq=e.seq,
            at=e.at,
            actor=e.actor,
            action=e.action,
            payload=e.payload,
            prev_hash=e.prev_hash,
            hash=e.hash,
        )
    )
    conn.execute(
        update(state).where(state.c.key == "audit_head").values(int_value=e.seq, text_value=e.hash)
    )
    return e.seq


def entries(engine: Engine, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
    with engine.connect() as conn:
        q = select(audit_log).order_by(audit_log.c.seq.desc() if limit else audit_log.c.seq)
        if limit:
            q = q.limit(limit)
        for row in conn.execute(q):
            yield {**row._mapping, "payload": json.loads(row.payload)}


def verify(engine: Engine) -> VerifyResult:
    """The stored chain checked by `truce.domain.chain.verify_chain`, streamed by seq."""
    with engine.connect() as conn:
        head = conn.execute(
            select(state.c.int_value, state.c.text_value).where(state.c.key == "audit_head")
        ).one_or_none()
        rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).yield_per(5000)
        recorded = None if head is None else (head.int_value or 0, head.text_value or GENESIS)
        return verify_chain(rows, recorded)
