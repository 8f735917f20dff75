"""The audit log: every write, appended to a hash chain.

Entry n's hash is sha256 over the canonical JSON of {seq, at, actor, action,
payload, prev_hash}, where prev_hash is entry n-1's hash (64 zeros for the
first). The newest hash is also kept in `state.audit_head`. `verify` recomputes
the chain and reports the first entry that was edited, removed or reordered, and
a removed tail (the head no longer matches).

Appends happen inside the writer's own transaction (`write_transaction`), so an
entry exists exactly when the change it records was committed, and appends are
serial (SQLite: the write lock; PostgreSQL: an advisory lock).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from truce.store.schema import audit_log, state

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(seq: int, at: str, actor: str, action: str, payload: str, prev_hash: str) -> str:
    body = canonical_json(
        {
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "payload": payload,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append(conn: Connection, actor: str, action: str, payload: dict[str, Any]) -> int:
    """Append one entry in the caller's (write) transaction; returns its seq."""
    head = conn.execute(
        select(state.c.int_value, state.c.text_value).where(state.c.key == "audit_head")
    ).one()
    seq = int(head.int_value or 0) + 1
    prev = head.text_value or GENESIS
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    text = canonical_json(payload)
    digest = entry_hash(seq, at, actor, action, text, prev)
    conn.execute(
        audit_log.insert().values(
            seq=seq, at=at, actor=actor, action=action, payload=text, prev_hash=prev, hash=digest
        )
    )
    conn.execute(
        update(state).where(state.c.key == "audit_head").values(int_value=seq, text_value=digest)
    )
    return seq


@dataclass(frozen=True)
class AuditProblem:
    seq: int | None
    message: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.message}" if self.seq is not None else self.message


@dataclass(frozen=True)
class VerifyResult:
    entries: int
    problems: list[AuditProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


def entries(engine: Engine, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
    with engine.connect() as conn:
        q = select(audit_log).order_by(audit_log.c.seq.desc() if limit else audit_log.c.seq)
        if limit:
            q = q.limit(limit)
        for row in conn.execute(q):
            yield {**row._mapping, "payload": json.loads(row.payload)}


def verify(engine: Engine) -> VerifyResult:
    """Recompute the chain in storage order (by seq) and compare every link."""
    problems: list[AuditProblem] = []
    n = 0
    with engine.connect() as conn:
        head = conn.execute(
            select(state.c.int_value, state.c.text_value).where(state.c.key == "audit_head")
        ).one_or_none()
        prev = GENESIS
        expected_seq = 1
        for row in conn.execute(select(audit_log).order_by(audit_log.c.seq)).yield_per(5000):
            n += 1
            if row.seq != expected_seq:
                problems.append(
                    AuditProblem(
                        row.seq,
                        f"expected entry {expected_seq} here: entries are missing or were renumbered",
                    )
                )
            if row.prev_hash != prev:
                problems.append(
                    AuditProblem(
                        row.seq,
                        "prev_hash does not match the entry before it: an entry was removed, "
                        "inserted or reordered",
                    )
                )
            digest = entry_hash(row.seq, row.at, row.actor, row.action, row.payload, row.prev_hash)
            if digest != row.hash:
                problems.append(
                    AuditProblem(row.seq, "content does not match its hash: the entry was edited")
                )
            prev = row.hash
            expected_seq = row.seq + 1
        if head is None:
            problems.append(AuditProblem(None, "the audit head record is missing"))
        elif (head.int_value or 0) != n or (head.text_value or GENESIS) != prev:
            problems.append(
                AuditProblem(
                    None,
                    f"the chain ends at entry {n} ({prev[:12]}…) but the recorded head is entry "
                    f"{head.int_value} ({(head.text_value or '')[:12]}…): entries at the end were "
                    "removed or added outside truce",
                )
            )
    return VerifyResult(entries=n, problems=problems)
