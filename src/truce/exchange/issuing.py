"""Issuing bulletins: closing a period into this centre's log (SPEC §7).

`issue` closes the agreement's current period now (or at a given instant);
`issue_due` closes every interval boundary passed since the last bulletin (the
scheduler's call). Both take the `Exchange` (engine, agreements, key, clock,
interval); receiving from peers and reading the log are in `truce.exchange.service`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from truce.exchange import coverage, log, queries
from truce.exchange.bulletin import build_bulletin, encode_bulletin, period_end
from truce.exchange.held import held_evaluation
from truce.exchange.tables import exchange_log, exchange_peer_bulletins
from truce.store import reports as report_store
from truce.store.engine import read_transaction, write_transaction
from truce.store.schema import reports as reports_table

if TYPE_CHECKING:
    from truce.exchange.service import Exchange

DEFAULT_INTERVAL = timedelta(hours=2)
ENV_INTERVAL = "TRUCE_EXCHANGE_INTERVAL_S"
ENV_AGREEMENTS = "TRUCE_EXCHANGE_AGREEMENTS"


# Tests only: the bulletin is written but not committed; the process writes its pid to
# this file and waits, for a test to kill it there (tests/exchange/test_crash_mid_issue.py).
ENV_TEST_PAUSE_FILE = "TRUCE_EXCHANGE_TEST_PAUSE_FILE"
TEST_PAUSE_S = 120.0


def _pause_for_crash_test() -> None:
    path = os.environ.get(ENV_TEST_PAUSE_FILE)
    if path:
        Path(path).write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(TEST_PAUSE_S)


def interval_from_env() -> timedelta:
    value = os.environ.get(ENV_INTERVAL, "").strip()
    return timedelta(seconds=float(value)) if value else DEFAULT_INTERVAL


@dataclass(frozen=True)
class Issued:
    seq: int
    created: bool  # False: the period was already closed by an earlier bulletin
    period_from: datetime
    period_to: datetime
    reports: int


def issue(ex: Exchange, agreement_id: str, *, period_to: datetime | None = None) -> Issued:
    """Close the agreement's current period at `period_to` (default: now).

    Idempotent: a period already closed (a bulletin ending at or after
    `period_to`) returns that bulletin. One transaction: a crash leaves the
    log as it was."""
    signer = ex.require_signer()
    agreement = ex.agreement(agreement_id)
    now = ex.clock()
    # Whole seconds: the bulletin writes times to the second, and the next period
    # starts exactly where this one ends.
    to = (period_to or now).astimezone(UTC).replace(microsecond=0)
    with write_transaction(ex.engine) as conn:
        log.record_key(conn, signer, now)
        last = conn.execute(
            select(exchange_log)
            .where(exchange_log.c.agreement_id == agreement_id)
            .order_by(exchange_log.c.seq.desc())
            .limit(1)
        ).first()
        if last is not None and queries.aware(last.period_to) >= to:
            return Issued(
                last.seq,
                False,
                queries.aware(last.period_from),
                queries.aware(last.period_to),
                0,
            )
        frm = queries.aware(last.period_to) if last else to - ex.interval
        last_max = int(last.max_report_id) if last else 0
        max_id = int(
            conn.execute(select(func.coalesce(func.max(reports_table.c.id), 0))).scalar_one()
        )
        rows = queries.period_reports(conn, last_max, max_id)
        holds = {
            r.peer: int(r.seq)
            for r in conn.execute(
                select(
                    exchange_peer_bulletins.c.peer,
                    func.max(exchange_peer_bulletins.c.seq).label("seq"),
                ).group_by(exchange_peer_bulletins.c.peer)
            )
        }
        seq = log.size(conn) + 1
        covered = None
        if coverage.needs_coverage(agreement):
            covered = coverage.bounded(conn, agreement_id, signer.name, seq, holds, extra=(frm, to))
            # A new covered period can change quiet-days verdicts without new reports.
            report_store.bump_version(conn)
        evaluation = held_evaluation(conn, agreement, to, coverage=covered)
        audit_block, state_digests = queries.audit_and_state(conn, seq)
        bulletin = build_bulletin(
            origin=signer.name,
            seq=seq,
            agreement=agreement_id,
            period_from=frm,
            period_to=to,
            issued_at=now,
            tz=agreement.timezone,
            reports=rows,
            reviews=queries.reviews(conn, agreement_id, frm, to),
            evaluation=evaluation,
            holds=holds,
            audit=audit_block,
            state=state_digests,
        )
        log.append(
            conn,
            signer,
            agreement_id=agreement_id,
            period_from=frm,
            period_to=to,
            issued_at=now,
            bulletin=encode_bulletin(bulletin),
            max_report_id=max_id,
            seq=seq,
        )
        _pause_for_crash_test()
    return Issued(seq, True, frm, to, len(rows))


def issue_due(ex: Exchange, agreement_ids: list[str], *, max_catch_up: int = 48) -> list[Issued]:
    """Scheduled bulletins: one per interval boundary passed since the last one, in
    order (a server that was stopped closes the missed periods, up to `max_catch_up`
    per call; the reports that arrived meanwhile go in the first)."""
    out = []
    now = ex.clock()
    for agreement_id in agreement_ids:
        tz = ex.agreement(agreement_id).timezone
        due = period_end(now, ex.interval, tz)
        with read_transaction(ex.engine) as conn:
            last = conn.execute(
                select(func.max(exchange_log.c.period_to)).where(
                    exchange_log.c.agreement_id == agreement_id
                )
            ).scalar_one()
        boundary = due
        if last is not None:
            nxt = period_end(queries.aware(last) + ex.interval, ex.interval, tz)
            boundary = max(nxt, due - (max_catch_up - 1) * ex.interval)
        while boundary <= due:
            out.append(issue(ex, agreement_id, period_to=boundary))
            boundary = period_end(boundary + ex.interval, ex.interval, tz)
    return out


__all__ = [
    "DEFAULT_INTERVAL",
    "ENV_AGREEMENTS",
    "ENV_INTERVAL",
    "Issued",
    "interval_from_env",
    "issue",
    "issue_due",
]
