"""What the exchange's use cases read from the database: a bulletin's audit
entries and state digests, the period's review decisions, peers' keys, the status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, and_, func, select

from truce.domain.chain import GENESIS
from truce.exchange import alerts as alert_store
from truce.exchange import log
from truce.exchange.bulletin import LOCAL_COLUMNS
from truce.exchange.checkpoint import cosignature_key_id
from truce.exchange.held import IMPORT_PREFIX
from truce.exchange.note import Verifier
from truce.exchange.tables import (
    exchange_cosignatures,
    exchange_peer_bulletins,
    exchange_peer_heads,
    exchange_peer_keys,
    exchange_peers,
)
from truce.exchange.witness_state import reviews_digest, users_digest
from truce.store import reports as report_store
from truce.store.schema import audit_log, review_events, state, violation_reviews
from truce.store.schema import reports as reports_table
from truce.store.schema import users as users_table


def aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def audit_and_state(conn: Connection, seq: int) -> tuple[dict[str, Any], dict[str, str]]:
    """The audit entries since the previous bulletin, and digests of users and reviews."""
    since = 0
    if seq > 1:
        previous = orjson.loads(log.bulletin_bytes(conn, seq - 1) or b"{}")
        since = int(previous.get("audit", {}).get("size", 0))
    entries = [
        {k: r._mapping[k] for k in ("seq", "at", "actor", "action", "payload", "prev_hash", "hash")}
        for r in conn.execute(
            select(audit_log).where(audit_log.c.seq > since).order_by(audit_log.c.seq)
        )
    ]
    head = conn.execute(
        select(state.c.int_value, state.c.text_value).where(state.c.key == "audit_head")
    ).first()
    users = [
        (r.name, r.role, r.party, r.revoked_at is not None)
        for r in conn.execute(select(users_table).order_by(users_table.c.id))
    ]
    reviews = {
        r.violation_key: r.state
        for r in conn.execute(select(violation_reviews.c.violation_key, violation_reviews.c.state))
    }
    block = {
        "entries": entries,
        "head": (head.text_value if head else None) or GENESIS,
        "size": int((head.int_value if head else 0) or 0),
    }
    return block, {"users": users_digest(users), "reviews": reviews_digest(reviews)}


def period_reports(conn: Connection, after_id: int, upto_id: int) -> list[dict[str, Any]]:
    """This centre's own reports stored with `after_id < id <= upto_id` (imported ones
    left out), in the order stored, for `report_dict`. Times are read as SQLite's text
    where it stores text: `report_dict` rewrites it, sparing a datetime per value."""
    cols = [report_store.raw_time(c, conn) for c in reports_table.c if c.name not in LOCAL_COLUMNS]
    q = (
        select(*cols)
        .where(
            and_(
                reports_table.c.id > after_id,
                reports_table.c.id <= upto_id,
                ~reports_table.c.submitted_by.startswith(IMPORT_PREFIX),
            )
        )
        .order_by(reports_table.c.id)
    )
    # Plain str keys: SQLAlchemy's column names are a str subclass, which orjson refuses
    # as keys (and the canonical writer would then walk every value in Python).
    names = [str(c.name) for c in cols]
    return [dict(zip(names, row, strict=True)) for row in conn.execute(q)]


def reviews(
    conn: Connection, agreement_id: str, frm: datetime, to: datetime
) -> list[dict[str, Any]]:
    """Review decisions taken in (frm, to]: who moved which violation to which state."""
    q = (
        select(
            violation_reviews.c.violation_key,
            review_events.c.at,
            review_events.c.actor,
            review_events.c.actor_role,
            review_events.c.action,
            review_events.c.from_state,
            review_events.c.to_state,
            review_events.c.comment,
        )
        .join(violation_reviews, violation_reviews.c.id == review_events.c.review_id)
        .where(
            and_(
                violation_reviews.c.agreement_id == agreement_id,
                review_events.c.at > frm,
                review_events.c.at <= to,
            )
        )
        .order_by(review_events.c.at, review_events.c.id)
    )
    out = []
    for r in conn.execute(q):
        d = {k: v for k, v in r._mapping.items() if v is not None}
        d["at"] = aware(r.at).astimezone(UTC).isoformat().replace("+00:00", "Z")
        out.append(d)
    return out


def peer_verifiers(conn: Connection) -> dict[str, list[Verifier]]:
    out: dict[str, list[Verifier]] = {}
    for r in conn.execute(select(exchange_peer_keys).order_by(exchange_peer_keys.c.id)):
        out.setdefault(r.peer, []).append(Verifier.parse(r.vkey))
    return out


def cosigner(verifiers: list[Verifier], key_id: int) -> Verifier | None:
    for v in verifiers:
        if cosignature_key_id(v.name, v.public_key) == key_id:
            return v
    return None


def status(conn: Connection) -> dict[str, Any]:
    """Per peer: size seen, bulletins held, cosigned size, gaps; who cosigned us; open alerts."""
    own_size = log.size(conn)
    peers = []
    for p in conn.execute(select(exchange_peers).order_by(exchange_peers.c.name)):
        head = conn.execute(
            select(exchange_peer_heads).where(exchange_peer_heads.c.peer == p.name)
        ).first()
        seqs = [
            int(s)
            for s in conn.execute(
                select(exchange_peer_bulletins.c.seq)
                .where(exchange_peer_bulletins.c.peer == p.name)
                .order_by(exchange_peer_bulletins.c.seq)
            ).scalars()
        ]
        size = int(head.size) if head else 0
        held = set(seqs)
        gaps = [s for s in range(1, size + 1) if s not in held]
        peers.append(
            {
                "name": p.name,
                "url": p.url,
                "size_seen": size,
                "bulletins_held": len(seqs),
                "cosigned_size": int(head.cosigned_size) if head and head.cosigned_size else 0,
                "cosigned_at": head.cosigned_at.isoformat() if head and head.cosigned_at else None,
                "gaps": gaps,
            }
        )
    cosigned = {
        r.cosigner: int(r.size)
        for r in conn.execute(
            select(
                exchange_cosignatures.c.cosigner,
                func.max(exchange_cosignatures.c.size).label("size"),
            ).group_by(exchange_cosignatures.c.cosigner)
        )
    }
    open_alerts = alert_store.alerts(conn)
    return {
        "log_size": own_size,
        "cosigned_by": cosigned,
        "peers": peers,
        "alerts": [a.to_dict() for a in open_alerts],
    }
