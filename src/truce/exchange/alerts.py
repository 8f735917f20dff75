"""Stored alerts: every exchange failure is a row, shown by `truce exchange status`
(exit 1 while any is open), `GET /exchange/status` and the web page; never only a log line.

Kinds (SPEC §7): `bad_signature`, `unknown_key`, `bulletin_mismatch` (bytes that
do not match the tree), `missing` (a sequence number the log does not serve),
`inconsistent` (a fork or a rewritten history), `replay` (an old or
out-of-order bulletin or checkpoint), `digest_mismatch` (the same period, other
verdicts), `log_corrupt` (this centre's own log fails its start-up check),
`unreachable` (cleared by itself when the peer answers again), `audit_mismatch`
(the peer's audit chain does not continue from the head it witnessed before:
rewritten or cut) and `state_mismatch` (its users, token revocations or review
states differ from what its audit entries record: edited by hand).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, insert, select

from truce.exchange.tables import exchange_alerts

KINDS = (
    "bad_signature",
    "unknown_key",
    "bulletin_mismatch",
    "missing",
    "inconsistent",
    "replay",
    "digest_mismatch",
    "log_corrupt",
    "unreachable",
    "audit_mismatch",
    "state_mismatch",
)


@dataclass(frozen=True)
class Alert:
    id: int
    peer: str | None
    kind: str
    seq: int | None
    detail: str
    at: datetime
    cleared_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "peer": self.peer,
            "kind": self.kind,
            "seq": self.seq,
            "detail": self.detail,
            "at": self.at.isoformat(),
            "cleared_at": self.cleared_at and self.cleared_at.isoformat(),
        }


def raise_alert(
    conn: Connection,
    peer: str | None,
    kind: str,
    detail: str,
    now: datetime,
    seq: int | None = None,
) -> None:
    """Store an alert, once: the same open alert is not repeated at every pull."""
    assert kind in KINDS, kind
    same = conn.execute(
        select(exchange_alerts.c.id).where(
            and_(
                exchange_alerts.c.peer.is_(None)
                if peer is None
                else exchange_alerts.c.peer == peer,
                exchange_alerts.c.kind == kind,
                exchange_alerts.c.detail == detail,
                exchange_alerts.c.cleared_at.is_(None),
            )
        )
    ).first()
    if same is None:
        conn.execute(
            insert(exchange_alerts).values(peer=peer, kind=kind, seq=seq, detail=detail, at=now)
        )


def clear(
    conn: Connection, *, now: datetime, by: str, ids: list[int] | None = None, kind: str | None = None,
    peer: str | None = None,
) -> int:  # fmt: skip
    q = exchange_alerts.update().where(exchange_alerts.c.cleared_at.is_(None))
    if ids is not None:
        q = q.where(exchange_alerts.c.id.in_(ids))
    if kind is not None:
        q = q.where(exchange_alerts.c.kind == kind)
    if peer is not None:
        q = q.where(exchange_alerts.c.peer == peer)
    return int(conn.execute(q.values(cleared_at=now, cleared_by=by)).rowcount)


def alerts(conn: Connection, *, open_only: bool = True) -> list[Alert]:
    q = select(exchange_alerts).order_by(exchange_alerts.c.id)
    if open_only:
        q = q.where(exchange_alerts.c.cleared_at.is_(None))
    return [
        Alert(r.id, r.peer, r.kind, r.seq, r.detail, r.at, r.cleared_at) for r in conn.execute(q)
    ]
