"""Edits that pass `truce audit verify` are caught by the peer at the next bulletin."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import delete, select, update
from tests.exchange.conftest import Pair, rows_of

from truce.domain.chain import GENESIS, make_entry
from truce.store.engine import write_transaction
from truce.store.schema import audit_log, state, users, violation_reviews


def _round(pair: Pair) -> list[str]:
    pair.clock.advance(timedelta(hours=2))
    pair.a.issue()
    return pair.pull(pair.b, pair.a).alerts


def _kinds(pair: Pair) -> list[str]:
    return [a["kind"] for a in pair.b.ex.status()["alerts"]]


def _setup(pair: Pair) -> None:
    a = pair.a
    a.service.add_user("alice", "secretariat")
    a.service.add_user("mallory", "observer")
    a.service.revoke_user("mallory")
    a.ingest(rows_of("amman"))
    assert _round(pair) == []


def test_honest_changes_replay_cleanly(pair: Pair) -> None:
    _setup(pair)
    pair.a.service.add_user("bob", "observer")
    pair.a.service.revoke_user("alice")
    assert _round(pair) == []
    assert _kinds(pair) == []


def test_an_unrevoked_token_is_caught(pair: Pair) -> None:
    _setup(pair)
    with write_transaction(pair.a.service.engine) as conn:
        conn.execute(update(users).where(users.c.name == "mallory").values(revoked_at=None))
    assert pair.a.service.verify_audit().ok  # the audit chain alone cannot tell
    _round(pair)
    assert _kinds(pair) == ["state_mismatch"]
    assert "revocations" in pair.b.ex.status()["alerts"][0]["detail"]


def test_a_review_state_changed_by_hand_is_caught(pair: Pair) -> None:
    from truce.store.users import SYSTEM_USER

    _setup(pair)
    a = pair.a
    pair.clock.advance(timedelta(hours=36))
    key = a.service.snapshot("us-ru-2016-09").data["violations"][0]["key"]
    a.service.review(key, "dispute", "looks wrong", SYSTEM_USER)
    assert _round(pair) == []
    with write_transaction(a.service.engine) as conn:
        conn.execute(update(violation_reviews).values(state="dismissed"))
    assert a.service.verify_audit().ok
    _round(pair)
    assert _kinds(pair) == ["state_mismatch"]


def test_a_rewritten_audit_chain_is_caught(pair: Pair) -> None:
    _setup(pair)
    a = pair.a
    # Rewrite the whole chain consistently (so `truce audit verify` passes), minus one entry.
    with write_transaction(a.service.engine) as conn:
        rows = list(conn.execute(select(audit_log).order_by(audit_log.c.seq)))
        conn.execute(delete(audit_log))
        prev, seq = GENESIS, 0
        for r in rows:
            if r.action == "user.revoke":
                continue  # the revocation of mallory disappears from the record
            seq += 1
            e = make_entry(seq, prev, r.actor, r.action, json.loads(r.payload), now=a.clock())
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
            prev = e.hash
        conn.execute(
            update(state).where(state.c.key == "audit_head").values(int_value=seq, text_value=prev)
        )
    a.service.add_user("carol", "observer")  # life goes on
    assert a.service.verify_audit().ok
    _round(pair)
    assert _kinds(pair) == ["audit_mismatch"]
