"""Witnessing a peer: fetch its checkpoint and new bulletins, verify, import, cosign.

Order of checks (each failure is a stored alert, and the pull stops there
without moving the peer's head, so the next pull retries from the same place):

1. the checkpoint is a signed note by a known key of the peer
   (`unknown_key`, `bad_signature`), its origin the peer's name;
2. against the last head seen: the same size with another root is a fork, a
   smaller size a rollback (`inconsistent`, `replay`); a larger one must come
   with a valid consistency proof (`inconsistent`);
3. each new bulletin must hash to a leaf whose inclusion proof leads to the
   checkpoint's root (`bulletin_mismatch`), be served at all (`missing`), be
   canonical, of this origin and carry its own sequence number (`replay`);
4. its reports are imported (submitted by `exchange:PEER`, keeping their
   `source`) in the same transaction that stores the bulletin;
5. the centre cosigns the checkpoint (C2SP tlog-cosignature) and posts it back.
   It never cosigns two inconsistent heads of one origin: step 2 refuses them.
Then the convergence check (`truce.exchange.converge`) compares verdicts.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, insert, select

from truce.errors import TruceError
from truce.exchange import alerts as alert_store
from truce.exchange import converge, merkle
from truce.exchange.bulletin import BulletinError, decode_bulletin
from truce.exchange.bulletin_import import import_bulletin
from truce.exchange.checkpoint import Checkpoint, cosign
from truce.exchange.note import NoteError, UnknownKeyError, open_note
from truce.exchange.queries import peer_verifiers
from truce.exchange.service import Exchange
from truce.exchange.tables import (
    exchange_peer_bulletins,
    exchange_peer_heads,
    exchange_peers,
)
from truce.store.engine import read_transaction, write_transaction

# (method, path, body) -> (status, body); httpx in production, an in-process client in tests.
Transport = Callable[[str, str, bytes | None], tuple[int, bytes]]


class _Stop(Exception):
    def __init__(self, kind: str, detail: str, seq: int | None = None) -> None:
        super().__init__(detail)
        self.kind, self.detail, self.seq = kind, detail, seq


@dataclass
class PullResult:
    peer: str
    size: int = 0
    new_bulletins: int = 0
    imported_reports: int = 0
    cosigned: bool = False
    converged: list[tuple[int, bool]] = field(default_factory=list)  # (seq, digests equal)
    timings_s: dict[str, float] = field(default_factory=dict)  # wall seconds per stage

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings_s[stage] = self.timings_s.get(stage, 0.0) + time.perf_counter() - t0

    alerts: list[str] = field(default_factory=list)


def http_transport(base_url: str, timeout_s: float = 30.0) -> Transport:
    client = httpx.Client(base_url=base_url, timeout=timeout_s)

    def call(method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        r = client.request(method, path, content=body)
        return r.status_code, r.content

    return call


def pull(ex: Exchange, peer: str, transport: Transport | None = None) -> PullResult:
    """One round with `peer`; every failure is stored as an alert (and listed in the result)."""
    with read_transaction(ex.engine) as conn:
        row = conn.execute(select(exchange_peers).where(exchange_peers.c.name == peer)).first()
        if row is None:
            raise ValueError(f"unknown peer {peer!r}: add it with `truce peers add`")
        verifiers = peer_verifiers(conn).get(peer, [])
        head = conn.execute(
            select(exchange_peer_heads).where(exchange_peer_heads.c.peer == peer)
        ).first()
        held = int(
            conn.execute(
                select(func.coalesce(func.max(exchange_peer_bulletins.c.seq), 0)).where(
                    exchange_peer_bulletins.c.peer == peer
                )
            ).scalar_one()
        )
    transport = transport or http_transport(row.url)
    result = PullResult(peer)
    try:
        _pull(ex, peer, transport, verifiers, head, held, result)
    except _Stop as stop:
        with write_transaction(ex.engine) as conn:
            alert_store.raise_alert(conn, peer, stop.kind, stop.detail, ex.clock(), stop.seq)
        result.alerts.append(f"{stop.kind}: {stop.detail}")
    return result


def _get(transport: Transport, path: str) -> tuple[int, bytes]:
    try:
        return transport("GET", path, None)
    except httpx.HTTPError as exc:
        raise _Stop("unreachable", f"{path}: {type(exc).__name__}: {exc}") from None


def _pull(
    ex: Exchange,
    peer: str,
    transport: Transport,
    verifiers: list[Any],
    head: Any,
    held: int,
    result: PullResult,
) -> None:
    status, body = _get(transport, "/exchange/checkpoint")
    if status != 200:
        raise _Stop("unreachable", f"GET /exchange/checkpoint answered {status}")
    with write_transaction(ex.engine) as conn:  # the peer answers again
        alert_store.clear(conn, now=ex.clock(), by="pull", kind="unreachable", peer=peer)
    text = body.decode("utf-8", errors="replace")
    try:
        note, _ = open_note(text, verifiers)
        cp = Checkpoint.parse(note.text)
    except UnknownKeyError as exc:
        raise _Stop("unknown_key", f"checkpoint: {exc}") from None
    except NoteError as exc:
        raise _Stop("bad_signature", f"checkpoint: {exc}") from None
    if cp.origin != peer:
        raise _Stop("bad_signature", f"checkpoint origin {cp.origin!r} is not {peer!r}")
    result.size = cp.size
    old_size = int(head.size) if head else 0
    old_root = bytes.fromhex(head.root) if head else b""
    if cp.size < old_size:
        raise _Stop(
            "replay", f"checkpoint of size {cp.size} after one of size {old_size} (rollback)"
        )
    if cp.size == old_size and head and cp.root != old_root:
        raise _Stop("inconsistent", f"fork: two roots for size {cp.size}")
    if old_size and cp.size > old_size:
        status, body = _get(transport, f"/exchange/proof/consistency?from={old_size}&to={cp.size}")
        if status != 200:
            raise _Stop("inconsistent", f"no consistency proof {old_size}->{cp.size} ({status})")
        try:
            proof = _hashes(body)
            merkle.verify_consistency(old_size, cp.size, old_root, cp.root, proof)
        except (ValueError, merkle.ProofError) as exc:
            raise _Stop(
                "inconsistent", f"history rewritten between {old_size} and {cp.size}: {exc}"
            ) from None
    latest: dict[str, dict[str, Any]] = {}  # per agreement, the newest bulletin taken
    for seq in range(held + 1, cp.size + 1):
        added, bulletin = _take_bulletin(ex, peer, transport, cp, seq, result)
        result.imported_reports += added
        result.new_bulletins += 1
        latest[bulletin["agreement"]] = bulletin
    with result.timed("cosign"):
        _cosign(ex, peer, transport, note.text, cp, result)
    with result.timed("converge"):
        for bulletin in latest.values():
            _converge(ex, peer, transport, bulletin, result)


def _converge(
    ex: Exchange, peer: str, transport: Transport, bulletin: dict[str, Any], result: PullResult
) -> None:
    """Recompute the peer's `evaluation_digest` from this side; differing incidents are an alert."""
    try:
        agreement = ex.agreement(bulletin["agreement"])
    except TruceError:
        return  # an agreement this centre does not hold: nothing to compare
    as_of = datetime.fromisoformat(bulletin["period"]["to"])
    with read_transaction(ex.engine) as conn:
        bounds = converge.bounds_for_peer_bulletin(
            conn, ex.name, peer, bulletin["seq"], bulletin.get("holds", {})
        )
        if bounds is None:
            return
        evaluation = converge.recompute(conn, agreement, as_of, bounds, ex.name)
    digest = converge.evaluation_digest(evaluation)
    with write_transaction(ex.engine) as conn:
        matched = converge.record(conn, peer, bulletin, digest, ex.clock())
    result.converged.append((bulletin["seq"], matched))
    if matched:
        return
    status, body = _get(transport, f"/exchange/incidents/{bulletin['seq']}")
    theirs = json.loads(body)["incidents"] if status == 200 else {}
    keys = converge.differing(converge.incident_digests(evaluation), theirs)
    shown = ", ".join(keys[:20]) + (f" and {len(keys) - 20} more" if len(keys) > 20 else "")
    raise _Stop(
        "digest_mismatch",
        f"bulletin {bulletin['seq']} ({bulletin['agreement']} to {bulletin['period']['to']}): "
        f"evaluation digest differs; {len(keys)} incident(s) differ: {shown or '(none listed)'}",
        bulletin["seq"],
    )


def _hashes(body: bytes) -> list[bytes]:
    data = json.loads(body)
    return [base64.b64decode(h, validate=True) for h in data["hashes"]]


def _take_bulletin(
    ex: Exchange, peer: str, transport: Transport, cp: Checkpoint, seq: int, result: PullResult
) -> tuple[int, dict[str, Any]]:
    with result.timed("fetch"):
        status, data = _get(transport, f"/exchange/bulletins/{seq}")
    if status == 404:
        raise _Stop("missing", f"bulletin {seq} of {cp.size} is not served", seq)
    if status != 200:
        raise _Stop("unreachable", f"GET bulletins/{seq} answered {status}", seq)
    with result.timed("fetch"):
        status, body = _get(transport, f"/exchange/proof/inclusion?seq={seq}&size={cp.size}")
    with result.timed("verify"):
        leaf = merkle.leaf_hash(data)
    if status == 404:
        raise _Stop("missing", f"no inclusion proof for bulletin {seq} in size {cp.size}", seq)
    try:
        if status != 200:
            raise merkle.ProofError(f"no inclusion proof ({status})")
        merkle.verify_inclusion(seq - 1, cp.size, leaf, _hashes(body), cp.root)
    except (ValueError, merkle.ProofError) as exc:
        raise _Stop(
            "bulletin_mismatch", f"bulletin {seq} does not match the signed tree: {exc}", seq
        ) from None
    try:
        with result.timed("decode"):
            bulletin = decode_bulletin(data)
    except BulletinError as exc:
        raise _Stop("bulletin_mismatch", f"bulletin {seq}: {exc}", seq) from None
    if bulletin["origin"] != peer:
        raise _Stop("replay", f"bulletin {seq} is from {bulletin['origin']!r}, not {peer!r}", seq)
    if bulletin["seq"] != seq:
        raise _Stop(
            "replay",
            f"leaf {seq} carries bulletin {bulletin['seq']} (replayed or out of order)",
            seq,
        )
    return import_bulletin(ex, peer, seq, data, leaf, bulletin, result.timed), bulletin


def _cosign(
    ex: Exchange,
    peer: str,
    transport: Transport,
    text: str,
    cp: Checkpoint,
    result: PullResult,
) -> None:
    """Record the verified head, cosign it and post the cosignature to the peer."""
    now = ex.clock()
    with write_transaction(ex.engine) as conn:
        head = conn.execute(
            select(exchange_peer_heads).where(exchange_peer_heads.c.peer == peer)
        ).first()
        values = {"size": cp.size, "root": cp.root.hex(), "checkpoint": text, "seen_at": now}
        if head is None:
            conn.execute(insert(exchange_peer_heads).values(peer=peer, **values))
        elif int(head.size) != cp.size or head.root != cp.root.hex():
            # Only ever forward, and only along a verified consistency proof (checked above).
            conn.execute(
                exchange_peer_heads.update()
                .where(exchange_peer_heads.c.peer == peer)
                .values(**values)
            )
    if ex.signer is None:
        return
    sig = cosign(text, ex.signer, int(now.astimezone(UTC).timestamp()))
    body = (text + "\n" + sig.line()).encode()  # the checkpoint with our cosignature only
    try:
        status, answer = transport("POST", "/exchange/cosignatures", body)
    except httpx.HTTPError as exc:
        raise _Stop("unreachable", f"POST cosignatures: {exc}") from None
    if status != 200:
        raise _Stop("unreachable", f"POST cosignatures answered {status}: {answer[:200]!r}")
    with write_transaction(ex.engine) as conn:
        conn.execute(
            exchange_peer_heads.update()
            .where(exchange_peer_heads.c.peer == peer)
            .values(cosigned_size=cp.size, cosigned_at=now)
        )
    result.cosigned = True
