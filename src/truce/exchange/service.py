"""Exchange use cases shared by the CLI, the API and the scheduler.

`Exchange` wraps the engine, the agreements, the clock and (for what signs)
the centre's key. Here: what peers read of this centre's log (checkpoint,
bulletins, proofs), receiving their cosignatures, adding a peer, and the
status. Issuing bulletins is `truce.exchange.issuing` (`ex.issue` calls it);
pulling from a peer is `truce.exchange.pull`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Engine, and_, insert, select

from truce.domain.model import Agreement
from truce.errors import BadInput, Forbidden, NotFound
from truce.exchange import alerts as alert_store
from truce.exchange import issuing, log, queries
from truce.exchange.checkpoint import Checkpoint, parse_signature_line, verify_cosignature
from truce.exchange.issuing import DEFAULT_INTERVAL, Issued
from truce.exchange.note import NoteError, Signer, Verifier, parse_note
from truce.exchange.tables import (
    exchange_cosignatures,
    exchange_log,
    exchange_peer_bulletins,
    exchange_peer_keys,
    exchange_peers,
)
from truce.store.engine import read_transaction, write_transaction


class ExchangeError(BadInput):
    """A request the exchange refuses (400; the subclasses 403 and 404)."""


class Unauthorized(ExchangeError, Forbidden):
    """A cosignature by a key that is not a known peer's, or one that does not verify."""


class NotFoundError(ExchangeError, NotFound):
    """No such bulletin, or a proof for sizes the log does not have."""


def _iso(stored: datetime) -> str:
    return queries.aware(stored).astimezone(UTC).isoformat()


class Exchange:
    def __init__(
        self,
        engine: Engine,
        agreements: Callable[[str], Agreement],
        *,
        signer: Signer | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        interval: timedelta = DEFAULT_INTERVAL,
    ) -> None:
        self.engine = engine
        self.agreement = agreements
        self.signer = signer
        self._clock = clock
        self.interval = interval

    def clock(self) -> datetime:
        """Now, in UTC (SQLite keeps no offset: every stored time is UTC)."""
        return self._clock().astimezone(UTC)

    @property
    def name(self) -> str:
        return self.require_signer().name

    def require_signer(self) -> Signer:
        """The centre's key, for what signs; refused when the centre has none."""
        if self.signer is None:
            raise ExchangeError("this centre has no key: run `truce keys init --name NAME`")
        return self.signer

    # --- issuing (truce.exchange.issuing) --------------------------------------------

    def issue(self, agreement_id: str, *, period_to: datetime | None = None) -> Issued:
        """`issuing.issue`: close the agreement's current period at `period_to` (default: now)."""
        return issuing.issue(self, agreement_id, period_to=period_to)

    def issue_due(self, agreement_ids: list[str], *, max_catch_up: int = 48) -> list[Issued]:
        """`issuing.issue_due`: the scheduled bulletins due now, in order."""
        return issuing.issue_due(self, agreement_ids, max_catch_up=max_catch_up)

    # --- the log, read ----------------------------------------------------------------

    def checkpoint(self) -> str:
        """The latest signed checkpoint followed by the cosignature lines received for it."""
        with read_transaction(self.engine) as conn:
            latest = log.latest_checkpoint(conn)
            if latest is None:
                raise NotFoundError("no bulletin issued yet")
            size, note = latest
            lines = conn.execute(
                select(exchange_cosignatures.c.line)
                .where(exchange_cosignatures.c.size == size)
                .order_by(exchange_cosignatures.c.id)
            ).scalars()
            return note + "".join(lines)

    def bulletin(self, seq: int) -> bytes:
        with read_transaction(self.engine) as conn:
            data = log.bulletin_bytes(conn, seq)
        if data is None:
            raise NotFoundError(f"no bulletin {seq}")
        return data

    def bulletins(
        self, agreement_id: str | None = None, *, limit: int = 100, before: int | None = None
    ) -> list[dict[str, Any]]:
        """This centre's bulletins, newest first (at most `limit`, with seq < `before`): the
        log's columns only, so listing never reads a bulletin's bytes."""
        t = exchange_log
        query = select(t.c.seq, t.c.agreement_id, t.c.period_from, t.c.period_to, t.c.issued_at)
        if agreement_id is not None:
            query = query.where(t.c.agreement_id == agreement_id)
        if before is not None:
            query = query.where(t.c.seq < before)
        with read_transaction(self.engine) as conn:
            rows = conn.execute(query.order_by(t.c.seq.desc()).limit(limit)).all()
        return [
            {
                "seq": int(r.seq),
                "agreement": r.agreement_id,
                "period": {"from": _iso(r.period_from), "to": _iso(r.period_to)},
                "issued_at": _iso(r.issued_at),
            }
            for r in rows
        ]

    def bulletin_pair(
        self, seq: int, *, peer: str | None = None
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Bulletin `seq` (this centre's, or a peer's it holds) and the one before it
        of the same agreement (for "against the previous period")."""
        table = exchange_log if peer is None else exchange_peer_bulletins
        where = (lambda q: q) if peer is None else (lambda q: q.where(table.c.peer == peer))
        with read_transaction(self.engine) as conn:
            row = conn.execute(where(select(table).where(table.c.seq == seq))).first()
            if row is None:
                raise NotFoundError(f"no bulletin {seq}" + (f" of {peer}" if peer else ""))
            prev = conn.execute(
                where(
                    select(table.c.bulletin)
                    .where((table.c.seq < seq) & (table.c.agreement_id == row.agreement_id))
                    .order_by(table.c.seq.desc())
                    .limit(1)
                )
            ).first()
        return orjson.loads(row.bulletin), orjson.loads(prev.bulletin) if prev else None

    def bulletin_incidents(self, seq: int) -> dict[str, str]:
        """Per incident key, the digest of its verdicts behind bulletin `seq` (for a peer
        whose recomputed `evaluation_digest` differs: it names the incidents that do)."""
        from truce.exchange import converge

        bulletin = json.loads(self.bulletin(seq))
        agreement = self.agreement(bulletin["agreement"])
        as_of = datetime.fromisoformat(bulletin["period"]["to"])
        with read_transaction(self.engine) as conn:
            bounds = converge.bounds_for_own_bulletin(conn, seq, bulletin.get("holds", {}))
            if bounds is None:
                raise NotFoundError(f"bulletin {seq}: its peers' bulletins are no longer held")
            evaluation = converge.recompute(conn, agreement, as_of, bounds, self.name)
        return converge.incident_digests(evaluation)

    def inclusion(self, seq: int, size: int) -> list[bytes]:
        with read_transaction(self.engine) as conn:
            try:
                return log.inclusion(conn, seq, size)
            except ValueError as exc:
                raise NotFoundError(str(exc)) from None

    def consistency(self, old: int, new: int) -> list[bytes]:
        with read_transaction(self.engine) as conn:
            try:
                return log.consistency(conn, old, new)
            except ValueError as exc:
                raise NotFoundError(str(exc)) from None

    # --- cosignatures from peers ---------------------------------------------------------

    def receive_cosignatures(self, body: str) -> int:
        """A peer's cosigned copy of one of our checkpoints: store its valid cosignatures.

        Authenticated by the signatures themselves: only a known peer's key is
        accepted; an unknown key or a bad signature is an alert and refused."""
        try:
            note = parse_note(body)
            cp = Checkpoint.parse(note.text)
        except NoteError as exc:
            raise ExchangeError(f"not a cosigned checkpoint: {exc}") from None
        now = self.clock()
        with write_transaction(self.engine) as conn:
            ours = conn.execute(
                select(log.exchange_checkpoints.c.note).where(
                    log.exchange_checkpoints.c.size == cp.size
                )
            ).first()
            if ours is None or parse_note(ours.note).text != note.text:
                raise ExchangeError(f"checkpoint {cp.size} with that root is not ours")
            own = {(v.name, v.key_id) for v in log.own_verifiers(conn)}
            peers = queries.peer_verifiers(conn)
            stored = 0
            problem: tuple[str, str, str] | None = None
            for sig in note.signatures:
                if (sig.name, sig.key_id) in own:
                    continue
                witness = queries.cosigner(peers.get(sig.name, []), sig.key_id)
                if witness is None:
                    problem = (
                        sig.name,
                        "unknown_key",
                        f"cosignature by unknown key {sig.name}+{sig.key_id:08x}",
                    )
                    continue
                try:
                    ts = verify_cosignature(note.text, sig, witness)
                except NoteError as exc:
                    problem = (
                        sig.name,
                        "bad_signature",
                        f"cosignature of checkpoint {cp.size}: {exc}",
                    )
                    continue
                exists = conn.execute(
                    select(exchange_cosignatures.c.id).where(
                        and_(
                            exchange_cosignatures.c.size == cp.size,
                            exchange_cosignatures.c.cosigner == sig.name,
                            exchange_cosignatures.c.key_id == f"{sig.key_id:08x}",
                        )
                    )
                ).first()
                if exists is None:
                    conn.execute(
                        insert(exchange_cosignatures).values(
                            size=cp.size,
                            cosigner=sig.name,
                            key_id=f"{sig.key_id:08x}",
                            timestamp=ts,
                            line=sig.line(),
                            received_at=now,
                        )
                    )
                stored += 1
            if problem is not None:
                peer, kind, detail = problem
                alert_store.raise_alert(
                    conn, peer if peer in peers else None, kind, detail, now, cp.size
                )
        if problem is not None and stored == 0:
            raise Unauthorized(problem[2])
        return stored

    # --- peers ---------------------------------------------------------------------------

    def add_peer(self, name: str, url: str, vkey: str) -> Verifier:
        """Add a peer, or another key of a known peer (a rotation: old keys stay valid)."""
        try:
            verifier = Verifier.parse(vkey)
        except NoteError as exc:
            raise ExchangeError(str(exc)) from None
        if verifier.name != name:
            raise ExchangeError(f"the key is named {verifier.name!r}, not {name!r}")
        now = self.clock()
        with write_transaction(self.engine) as conn:
            row = conn.execute(select(exchange_peers).where(exchange_peers.c.name == name)).first()
            if row is None:
                conn.execute(
                    insert(exchange_peers).values(name=name, url=url.rstrip("/"), added_at=now)
                )
            elif row.url != url.rstrip("/"):
                conn.execute(
                    exchange_peers.update()
                    .where(exchange_peers.c.name == name)
                    .values(url=url.rstrip("/"))
                )
            known = conn.execute(
                select(exchange_peer_keys.c.id).where(
                    and_(exchange_peer_keys.c.peer == name, exchange_peer_keys.c.vkey == vkey)
                )
            ).first()
            if known is None:
                conn.execute(insert(exchange_peer_keys).values(peer=name, vkey=vkey, added_at=now))
        return verifier

    def peers(self) -> list[dict[str, Any]]:
        with read_transaction(self.engine) as conn:
            keys = queries.peer_verifiers(conn)
            return [
                {"name": r.name, "url": r.url, "keys": [str(v) for v in keys.get(r.name, [])]}
                for r in conn.execute(select(exchange_peers).order_by(exchange_peers.c.name))
            ]

    # --- status --------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        with read_transaction(self.engine) as conn:
            status = queries.status(conn)
        return {
            "origin": self.signer.name if self.signer else None,
            "key": str(self.signer.verifier) if self.signer else None,
            **status,
        }

    def check_own_log(self) -> list[str]:
        """Start-up: recompute this centre's log; every problem becomes an alert."""
        now = self.clock()
        with write_transaction(self.engine) as conn:
            problems = log.check_log(conn)
            for p in problems:
                alert_store.raise_alert(conn, None, "log_corrupt", p, now)
        return problems


__all__ = [
    "Exchange",
    "ExchangeError",
    "NotFoundError",
    "Unauthorized",
    "parse_signature_line",
]
