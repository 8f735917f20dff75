"""The centre's own log in the database: append a bulletin, read proofs, check it.

Appends run inside the caller's `write_transaction`, so the bulletin, its leaf
and the signed checkpoint of the new size are committed together or not at
all: a crash mid-issue leaves no gap and no duplicate sequence number.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select

from truce.exchange import merkle
from truce.exchange.checkpoint import Checkpoint, signed_checkpoint
from truce.exchange.note import NoteError, Signer, Verifier, open_note
from truce.exchange.tables import exchange_checkpoints, exchange_keys, exchange_log

__all__ = ["append", "check_log", "consistency", "inclusion", "latest_checkpoint", "leaf_hashes"]


def leaf_hashes(conn: Connection, size: int | None = None) -> list[bytes]:
    q = select(exchange_log.c.leaf_hash).order_by(exchange_log.c.seq)
    if size is not None:
        q = q.where(exchange_log.c.seq <= size)
    return [bytes.fromhex(h) for h in conn.execute(q).scalars()]


def size(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(exchange_log.c.seq), 0))).scalar_one())


def record_key(conn: Connection, signer: Signer, now: datetime) -> None:
    """Remember the public half of the key in use; a different one of the same name retires."""
    vkey = str(signer.verifier)
    known = {r.vkey: r for r in conn.execute(select(exchange_keys))}
    if vkey in known and known[vkey].retired_at is None:
        return
    for other, row in known.items():
        if other != vkey and row.retired_at is None:
            conn.execute(
                exchange_keys.update().where(exchange_keys.c.vkey == other).values(retired_at=now)
            )
    if vkey not in known:
        conn.execute(insert(exchange_keys).values(vkey=vkey, name=signer.name, created_at=now))


def own_verifiers(conn: Connection) -> list[Verifier]:
    """Every key this centre has signed with, current and retired."""
    return [Verifier.parse(v) for v in conn.execute(select(exchange_keys.c.vkey)).scalars()]


@dataclass(frozen=True)
class Appended:
    seq: int
    root: bytes
    note: str


def append(
    conn: Connection,
    signer: Signer,
    *,
    agreement_id: str,
    period_from: datetime,
    period_to: datetime,
    issued_at: datetime,
    bulletin: bytes,
    max_report_id: int,
    seq: int,
) -> Appended:
    """Add one leaf and the signed checkpoint of the new size."""
    leaves = leaf_hashes(conn)
    if len(leaves) != seq - 1:
        raise RuntimeError(f"log has {len(leaves)} leaves; cannot append seq {seq}")
    leaf = merkle.leaf_hash(bulletin)
    root = merkle.root_hash([*leaves, leaf])
    note = signed_checkpoint(Checkpoint(signer.name, seq, root), signer)
    conn.execute(
        insert(exchange_log).values(
            seq=seq,
            agreement_id=agreement_id,
            period_from=period_from,
            period_to=period_to,
            issued_at=issued_at,
            bulletin=bulletin,
            leaf_hash=leaf.hex(),
            max_report_id=max_report_id,
        )
    )
    conn.execute(
        insert(exchange_checkpoints).values(
            size=seq,
            root=root.hex(),
            note=note,
            vkey=str(signer.verifier),
            created_at=issued_at,
        )
    )
    return Appended(seq, root, note)


def latest_checkpoint(conn: Connection) -> tuple[int, str] | None:
    row = conn.execute(
        select(exchange_checkpoints.c.size, exchange_checkpoints.c.note)
        .order_by(exchange_checkpoints.c.size.desc())
        .limit(1)
    ).first()
    return (int(row.size), row.note) if row else None


def bulletin_bytes(conn: Connection, seq: int) -> bytes | None:
    row = conn.execute(select(exchange_log.c.bulletin).where(exchange_log.c.seq == seq)).first()
    return bytes(row.bulletin) if row else None


def inclusion(conn: Connection, seq: int, tree_size: int) -> list[bytes]:
    leaves = leaf_hashes(conn, tree_size)
    if tree_size > len(leaves):
        raise merkle.ProofError(f"the log has {len(leaves)} bulletins, not {tree_size}")
    return merkle.inclusion_proof(seq - 1, leaves)


def consistency(conn: Connection, old_size: int, new_size: int) -> list[bytes]:
    leaves = leaf_hashes(conn, new_size)
    if new_size > len(leaves):
        raise merkle.ProofError(f"the log has {len(leaves)} bulletins, not {new_size}")
    return merkle.consistency_proof(old_size, leaves)


def check_log(conn: Connection, verifiers: Iterable[Verifier] | None = None) -> list[str]:
    """Recompute the log from its stored bytes: every problem found, in words.

    Each leaf must hash its bulletin, sequence numbers must run 1..n without a
    gap, and every checkpoint must carry the root of its size, signed by one of
    this centre's keys, with the origin of the key name."""
    problems: list[str] = []
    verifiers = list(verifiers) if verifiers is not None else own_verifiers(conn)
    leaves: list[bytes] = []
    for expected, row in enumerate(
        conn.execute(
            select(exchange_log.c.seq, exchange_log.c.bulletin, exchange_log.c.leaf_hash).order_by(
                exchange_log.c.seq
            )
        ),
        start=1,
    ):
        if row.seq != expected:
            problems.append(f"bulletin {expected} is missing (next is {row.seq})")
            break
        leaf = merkle.leaf_hash(bytes(row.bulletin))
        if leaf.hex() != row.leaf_hash:
            problems.append(f"bulletin {row.seq}: its bytes no longer hash to the stored leaf")
        leaves.append(leaf)
    roots: dict[int, bytes] = {}
    for row in conn.execute(select(exchange_checkpoints).order_by(exchange_checkpoints.c.size)):
        n = int(row.size)
        if n > len(leaves):
            problems.append(f"checkpoint {n} is beyond the {len(leaves)} bulletins held")
            continue
        root = roots.setdefault(n, merkle.root_hash(leaves[:n]))
        try:
            opened, _ = open_note(row.note, verifiers)
            cp = Checkpoint.parse(opened.text)
        except NoteError as exc:
            problems.append(f"checkpoint {n}: {exc}")
            continue
        if cp.size != n or cp.root != root or row.root != root.hex():
            problems.append(f"checkpoint {n}: its root is not the root of the bulletins held")
        if cp.origin not in {v.name for v in verifiers}:
            problems.append(f"checkpoint {n}: origin {cp.origin!r} is not this centre's key name")
    return problems


def digest_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
