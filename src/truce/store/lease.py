"""The compute lease in each agreement's `derived` row: who computes its evaluation.

A conditional UPDATE (atomic on both dialects: SQLite's write lock, PostgreSQL's
row lock) lets exactly one process claim it; the others keep serving the previous
evaluation. The holder renews the lease every `HEARTBEAT_S` while it computes
(`Heartbeat`); a lease not renewed for `LEASE_STALE_S` belongs to a process that
died (a `kill -9` leaves it behind) and is taken over by the next claim at once.
Lease times are wall-clock instants of the processes sharing the store.
`truce.store.derived.store` releases it with the evaluation it stores.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from truce.store.engine import write_transaction
from truce.store.schema import derived

log = logging.getLogger("truce.store")

HEARTBEAT_S = 1.0
LEASE_STALE_S = 5.0


def claim(engine: Engine, agreement_id: str, *, now: datetime) -> str | None:
    """Try to take the compute lease; returns its token, or None while another process
    holds it and renews it (`heartbeat`). `now` is the wall clock."""
    token = secrets.token_hex(16)
    stale = now - timedelta(seconds=LEASE_STALE_S)
    with write_transaction(engine, audited=False) as conn:
        ins = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(ins(derived).values(agreement_id=agreement_id).on_conflict_do_nothing())
        n = conn.execute(
            update(derived)
            .where(
                derived.c.agreement_id == agreement_id,
                or_(
                    derived.c.claim_token.is_(None),
                    derived.c.claim_at.is_(None),
                    derived.c.claim_at < stale,
                ),
            )
            .values(claim_token=token, claim_at=now)
        ).rowcount
    return token if n == 1 else None


def heartbeat(engine: Engine, agreement_id: str, token: str, *, now: datetime) -> bool:
    """Renew the lease; False when it is no longer ours (taken over, or released)."""
    with write_transaction(engine, audited=False) as conn:
        n = conn.execute(
            update(derived)
            .where(derived.c.agreement_id == agreement_id, derived.c.claim_token == token)
            .values(claim_at=now)
        ).rowcount
    return n == 1


class Heartbeat:
    """Renews a lease every `every_s` from a thread of its own while the holder computes
    (the computation holds the GIL for long stretches, but never for seconds)."""

    def __init__(
        self,
        engine: Engine,
        agreement_id: str,
        token: str,
        *,
        clock: Callable[[], datetime],
        every_s: float = HEARTBEAT_S,
    ) -> None:
        self.engine, self.agreement_id, self.token = engine, agreement_id, token
        self.clock, self.every_s = clock, every_s
        self.lost = False  # the lease was taken over: the result will not be stored
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"truce-lease-{agreement_id}", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                if not heartbeat(self.engine, self.agreement_id, self.token, now=self.clock()):
                    self.lost = True
                    return
            except Exception:  # the database is away for a moment: try again next beat
                log.warning("renewing the evaluation lease failed", exc_info=True)


def release(engine: Engine, agreement_id: str, token: str) -> None:
    with write_transaction(engine, audited=False) as conn:
        conn.execute(
            update(derived)
            .where(derived.c.agreement_id == agreement_id, derived.c.claim_token == token)
            .values(claim_token=None, claim_at=None)
        )
