"""Every tampering SPEC §7 lists is detected by the witnessing centre and stored as an alert."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete, select, update
from tests.exchange.conftest import Centre, Pair, rows_of

from truce.exchange import log, merkle
from truce.exchange.bulletin import encode_bulletin
from truce.exchange.checkpoint import Checkpoint, signed_checkpoint
from truce.exchange.keys import rotate_key
from truce.exchange.pull import Transport, pull
from truce.exchange.tables import exchange_checkpoints, exchange_log
from truce.store.engine import write_transaction


def _issue(pair: Pair, centre: Centre, n: int) -> None:
    for _ in range(n):
        pair.clock.advance(timedelta(hours=2))
        centre.issue()


def _kinds(centre: Centre) -> list[str]:
    return [a["kind"] for a in centre.ex.status()["alerts"]]


def _tampered(t: Transport, path: str, change) -> Transport:  # type: ignore[no-untyped-def]
    def call(method: str, p: str, body: bytes | None) -> tuple[int, bytes]:
        status, data = t(method, p, body)
        return (status, change(data)) if p == path else (status, data)

    return call


def test_an_edited_bulletin_is_a_mismatch_with_the_signed_tree(pair: Pair) -> None:
    a, b = pair.a, pair.b
    a.ingest(rows_of("amman"))
    _issue(pair, a, 2)
    edit = _tampered(a.transport(), "/exchange/bulletins/1", lambda d: d.replace(b"a-1", b"a-9"))
    r = pull(b.ex, "amman", edit)
    assert r.alerts and _kinds(b) == ["bulletin_mismatch"]
    assert r.imported_reports == 0 and not r.cosigned
    assert b.ex.status()["peers"][0]["size_seen"] == 0  # the head did not move


def test_a_bulletin_edited_in_the_issuers_database_is_caught_by_peer_and_startup_check(
    pair: Pair,
) -> None:
    a, b = pair.a, pair.b
    a.ingest(rows_of("amman"))
    _issue(pair, a, 1)
    with write_transaction(a.service.engine) as conn:
        data = conn.execute(select(exchange_log.c.bulletin)).scalar_one()
        conn.execute(update(exchange_log).values(bulletin=data.replace(b"a-1", b"a-9")))
    assert pull(b.ex, "amman", a.transport()).alerts
    assert _kinds(b) == ["bulletin_mismatch"]
    problems = a.ex.check_own_log()
    assert problems[0] == "bulletin 1: its bytes no longer hash to the stored leaf"
    assert set(_kinds(a)) == {"log_corrupt"}


def test_a_dropped_bulletin_is_missing(pair: Pair) -> None:
    a, b = pair.a, pair.b
    _issue(pair, a, 3)
    with write_transaction(a.service.engine) as conn:
        conn.execute(delete(exchange_log).where(exchange_log.c.seq == 2))
    r = pull(b.ex, "amman", a.transport())
    assert _kinds(b) == ["missing"], r.alerts
    # Nothing is taken from a log that cannot prove what its checkpoint signs.
    assert b.ex.status()["peers"][0]["bulletins_held"] == 0


def test_two_swapped_bulletins_do_not_match_the_tree(pair: Pair) -> None:
    a, b = pair.a, pair.b
    _issue(pair, a, 3)
    with write_transaction(a.service.engine) as conn:
        rows = {r.seq: r for r in conn.execute(select(exchange_log))}
        for seq, other in ((1, 2), (2, 1)):
            conn.execute(
                update(exchange_log)
                .where(exchange_log.c.seq == seq)
                .values(bulletin=rows[other].bulletin, leaf_hash=rows[other].leaf_hash)
            )
    pull(b.ex, "amman", a.transport())
    assert _kinds(b) == ["bulletin_mismatch"]


def test_a_replayed_old_checkpoint_is_a_replay(pair: Pair) -> None:
    a, b = pair.a, pair.b
    _issue(pair, a, 1)
    old = a.client.get("/exchange/checkpoint").text
    assert pull(b.ex, "amman", a.transport()).alerts == []
    _issue(pair, a, 2)
    assert pull(b.ex, "amman", a.transport()).alerts == []
    replay = _tampered(a.transport(), "/exchange/checkpoint", lambda _d: old.encode())
    pull(b.ex, "amman", replay)
    assert _kinds(b) == ["replay"]


def test_a_bulletin_appended_twice_is_a_replay(pair: Pair) -> None:
    """A validly signed log whose leaf 2 repeats bulletin 1 (an insider with the key)."""
    a, b = pair.a, pair.b
    _issue(pair, a, 1)
    signer = a.ex.signer
    assert signer is not None
    with write_transaction(a.service.engine) as conn:
        first = conn.execute(select(exchange_log)).one()
        log.append(
            conn,
            signer,
            agreement_id=first.agreement_id,
            period_from=first.period_to,
            period_to=first.period_to + timedelta(hours=2),
            issued_at=first.issued_at,
            bulletin=bytes(first.bulletin),
            max_report_id=first.max_report_id,
            seq=2,
        )
    pull(b.ex, "amman", a.transport())
    assert _kinds(b) == ["replay"]
    assert b.ex.status()["peers"][0]["bulletins_held"] == 1


def test_a_forged_checkpoint_signature_is_refused(pair: Pair) -> None:
    a, b = pair.a, pair.b
    _issue(pair, a, 2)

    def forge(data: bytes) -> bytes:
        text = data.decode()
        lines = text.split("\n")
        lines[1] = "1"  # claims size 1 under the size-2 signature
        return "\n".join(lines).encode()

    pull(b.ex, "amman", _tampered(a.transport(), "/exchange/checkpoint", forge))
    assert _kinds(b) == ["bad_signature"]


def test_an_unknown_key_is_an_alert_until_the_peer_adds_the_rotated_key(
    pair: Pair, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    a, b = pair.a, pair.b
    _issue(pair, a, 1)
    assert pull(b.ex, "amman", a.transport()).alerts == []
    key_file = tmp_path / "amman" / "truce.key"
    _old, new = rotate_key(key_file)
    a.ex.signer = new
    _issue(pair, a, 1)
    pull(b.ex, "amman", a.transport())
    assert _kinds(b) == ["unknown_key"]
    b.ex.add_peer("amman", "http://amman.test", str(new.verifier))
    r = pull(b.ex, "amman", a.transport())
    assert r.alerts == [] and r.cosigned and r.size == 2
    # The issuer's own log still verifies: checkpoint 1 under the old key, 2 under the new.
    assert a.ex.check_own_log() == []


def test_a_fork_two_roots_for_one_size_is_inconsistent(pair: Pair) -> None:
    a, b = pair.a, pair.b
    _issue(pair, a, 2)
    assert pull(b.ex, "amman", a.transport()).alerts == []
    with write_transaction(a.service.engine) as conn:  # the issuer starts over: another history
        conn.execute(delete(exchange_checkpoints))
        conn.execute(delete(exchange_log))
    a.ingest(rows_of("amman"))
    pair.clock.advance(timedelta(minutes=10))
    _issue(pair, a, 2)
    pull(b.ex, "amman", a.transport())
    assert _kinds(b) == ["inconsistent"]
    assert "fork" in b.ex.status()["alerts"][0]["detail"]


def test_a_rewritten_history_fails_the_consistency_proof(pair: Pair) -> None:
    a, b = pair.a, pair.b
    _issue(pair, a, 2)
    assert pull(b.ex, "amman", a.transport()).alerts == []
    signer = a.ex.signer
    assert signer is not None
    # An insider rewrites bulletin 1 and re-signs every checkpoint, then carries on.
    with write_transaction(a.service.engine) as conn:
        rows = list(conn.execute(select(exchange_log).order_by(exchange_log.c.seq)))
        edited = json.loads(rows[0].bulletin)
        edited["summary"]["reports"] = 99
        data = encode_bulletin(edited)
        conn.execute(
            update(exchange_log)
            .where(exchange_log.c.seq == 1)
            .values(bulletin=data, leaf_hash=merkle.leaf_hash(data).hex())
        )
        leaves = log.leaf_hashes(conn)
        for size in (1, 2):
            root = merkle.root_hash(leaves[:size])
            conn.execute(
                update(exchange_checkpoints)
                .where(exchange_checkpoints.c.size == size)
                .values(
                    root=root.hex(), note=signed_checkpoint(Checkpoint("amman", size, root), signer)
                )
            )
    assert a.ex.check_own_log() == []  # consistent with itself: only a witness can tell
    _issue(pair, a, 1)
    pull(b.ex, "amman", a.transport())
    assert _kinds(b) == ["inconsistent"]
    assert "rewritten" in b.ex.status()["alerts"][0]["detail"]


def test_a_peer_offline_for_12_hours_is_caught_up_with_no_gap(pair: Pair) -> None:
    a, b = pair.a, pair.b

    def offline(method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        raise httpx.ConnectError("connection refused")

    _issue(pair, a, 1)
    assert pull(b.ex, "amman", a.transport()).alerts == []
    for _ in range(6):  # 12 hours of two-hourly bulletins nobody could fetch
        a.ingest(rows_of("amman"))
        _issue(pair, a, 1)
        pull(b.ex, "amman", offline)
    assert _kinds(b) == ["unreachable"]
    r = pull(b.ex, "amman", a.transport())
    assert (r.alerts, r.new_bulletins, r.cosigned) == ([], 6, True)
    peer = b.ex.status()["peers"][0]
    assert (peer["size_seen"], peer["bulletins_held"], peer["gaps"]) == (7, 7, [])
    assert _kinds(b) == []  # unreachable clears itself when the peer answers


def test_a_crash_mid_issue_leaves_no_gap_and_no_duplicate(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = pair.a
    _issue(pair, a, 1)
    real = log.append

    def crash(conn, signer, **kw):  # type: ignore[no-untyped-def]
        real(conn, signer, **kw)  # the rows are written ...
        raise RuntimeError("power cut")  # ... and the transaction never commits

    monkeypatch.setattr(log, "append", crash)
    pair.clock.advance(timedelta(hours=2))
    with pytest.raises(RuntimeError):
        a.issue()
    monkeypatch.setattr(log, "append", real)
    again = a.issue()
    assert again.seq == 2 and again.created
    assert a.issue(again.period_to).created is False
    assert a.ex.check_own_log() == []
