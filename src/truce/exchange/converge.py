"""Convergence: do both centres reach the same verdicts from the same data?

A peer's bulletin says, in `holds`, which of this centre's bulletins it had
imported when it issued, and its `evaluation_digest` is over exactly its own
reports through that bulletin plus ours through `holds`. This centre rebuilds
the same set from its side (its own reports through its bulletin `holds[us]`,
the peer's through the peer bulletin) and evaluates it as of the period's end.
Equal digests are recorded; a difference is a `digest_mismatch` alert naming
the incidents that differ (each side's per-incident digests, fetched from the
peer's `GET /exchange/incidents/{seq}`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from truce.domain.model import Agreement
from truce.exchange import coverage
from truce.exchange.bulletin import evaluation_digest
from truce.exchange.canonical import canonical_json_fast
from truce.exchange.held import held_evaluation
from truce.exchange.tables import exchange_convergence, exchange_log, exchange_peer_bulletins


def incident_digests(evaluation: Mapping[str, Any]) -> dict[str, str]:
    """Per incident key: SHA-256 of the incident with its violations (ids left out:
    they number incidents in order, so one extra incident would renumber the rest)."""
    by_id: dict[str, list[dict[str, Any]]] = {}
    for v in evaluation.get("violations", []):
        by_id.setdefault(v["incident"], []).append(
            {k: x for k, x in v.items() if k not in ("id", "incident")}
        )
    out = {}
    for inc in evaluation.get("incidents", []):
        body = {k: x for k, x in inc.items() if k != "id"}
        body["violations"] = sorted(by_id.get(inc["id"], []), key=lambda v: str(v["rule"]))
        out[str(inc["key"])] = hashlib.sha256(canonical_json_fast(body)).hexdigest()
    return out


def _own_bound(conn: Connection, seq: int) -> int | None:
    row = conn.execute(
        select(exchange_log.c.max_report_id).where(exchange_log.c.seq == seq)
    ).first()
    return int(row.max_report_id) if row else None


def _peer_bound(conn: Connection, peer: str, seq: int) -> int | None:
    row = conn.execute(
        select(exchange_peer_bulletins.c.max_report_id).where(
            (exchange_peer_bulletins.c.peer == peer) & (exchange_peer_bulletins.c.seq == seq)
        )
    ).first()
    return int(row.max_report_id) if row else None


@dataclass(frozen=True)
class Bounds:
    """What stood behind one bulletin: this centre's log through `own_seq` (its reports
    through `own_max_id`), each peer's bulletins through `peer_seqs` (reports through
    `peer_max_ids`)."""

    own_seq: int
    own_max_id: int
    peer_seqs: dict[str, int]
    peer_max_ids: dict[str, int]


def bounds_for_peer_bulletin(
    conn: Connection, me: str, peer: str, seq: int, holds: Mapping[str, int]
) -> Bounds | None:
    """The bounds that rebuild the set behind the peer's bulletin `seq`; None when this
    centre does not hold all of it."""
    own_seq = holds.get(me, 0)
    own = _own_bound(conn, own_seq) if own_seq else 0
    seqs = {peer: seq, **{o: s for o, s in holds.items() if o != me}}
    peers = {p: _peer_bound(conn, p, s) for p, s in seqs.items()}
    if own is None or any(v is None for v in peers.values()):
        return None
    return Bounds(own_seq, own, seqs, {k: v for k, v in peers.items() if v is not None})


def bounds_for_own_bulletin(conn: Connection, seq: int, holds: Mapping[str, int]) -> Bounds | None:
    own = _own_bound(conn, seq)
    peers = {p: _peer_bound(conn, p, s) for p, s in holds.items()}
    if own is None or any(v is None for v in peers.values()):
        return None
    return Bounds(seq, own, dict(holds), {k: v for k, v in peers.items() if v is not None})


def recompute(
    conn: Connection, agreement: Agreement, as_of: datetime, bounds: Bounds, me: str
) -> dict[str, Any]:
    """The evaluation behind a bulletin: its reports and (when a condition counts against
    it) its coverage, both rebuilt from the bounds; `me` is this centre's name."""
    covered = (
        coverage.bounded(conn, agreement.id, me, bounds.own_seq, bounds.peer_seqs)
        if coverage.needs_coverage(agreement)
        else None
    )
    return held_evaluation(
        conn,
        agreement,
        as_of,
        own_max_id=bounds.own_max_id,
        peer_max_ids=bounds.peer_max_ids,
        coverage=covered,
    )


def record(
    conn: Connection, peer: str, bulletin: Mapping[str, Any], digest: str, now: datetime
) -> bool:
    matched = digest == bulletin["evaluation_digest"]
    conn.execute(
        insert(exchange_convergence).values(
            peer=peer,
            seq=bulletin["seq"],
            agreement_id=bulletin["agreement"],
            period_to=datetime.fromisoformat(bulletin["period"]["to"]).astimezone(UTC),
            their_digest=bulletin["evaluation_digest"],
            our_digest=digest,
            matched=matched,
            checked_at=now,
        )
    )
    return matched


def differing(ours: Mapping[str, str], theirs: Mapping[str, str]) -> list[str]:
    """Incident keys whose digests differ, or that only one side has."""
    return sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))


__all__ = [
    "Bounds",
    "bounds_for_own_bulletin",
    "bounds_for_peer_bulletin",
    "differing",
    "evaluation_digest",
    "incident_digests",
    "recompute",
    "record",
]
