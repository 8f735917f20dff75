"""Taking a verified bulletin of a peer into the store (`truce.exchange.pull`, step 4):
its reports imported under `exchange:PEER` and the bulletin recorded in one
transaction, once; its audit entries replayed against the peer's claimed state,
any mismatch an alert (the bulletin itself is authentic: it is still taken).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from truce.errors import TruceError
from truce.exchange import alerts as alert_store
from truce.exchange.coverage import needs_coverage
from truce.exchange.held import importer_name
from truce.exchange.service import Exchange
from truce.exchange.tables import exchange_peer_bulletins, exchange_peer_state
from truce.exchange.witness_state import Replayed, check_state, replay
from truce.store import audit
from truce.store import reports as report_store
from truce.store.engine import write_transaction
from truce.store.schema import reports as reports_table


def import_bulletin(
    ex: Exchange,
    peer: str,
    seq: int,
    data: bytes,
    leaf: bytes,
    bulletin: dict[str, Any],
    timed: Callable[[str], AbstractContextManager[None]],
) -> int:
    """Import the bulletin's reports and record it, in one transaction (`timed(stage)`
    times the parse and the import for the pull's figures)."""
    from truce.formats.reports import read_report_objects

    rows = bulletin["reports"]
    now = ex.clock()
    table = None
    if rows:
        with timed("parse"):
            table = read_report_objects(rows).reports
    importer = importer_name(peer)
    try:
        covering = needs_coverage(ex.agreement(bulletin["agreement"]))
    except TruceError:
        covering = False  # an agreement this centre does not hold
    with timed("import"), write_transaction(ex.engine) as conn:
        if _have(conn, peer, seq):
            return 0
        added = 0
        if table is not None and len(table):
            outcome = report_store.insert_reports(
                conn, table, submitted_by=importer, received_at=now
            )
            added = outcome.count
            if added:
                version = report_store.bump_version(conn)
                audit.append(
                    conn,
                    importer,
                    "exchange.import",
                    {"peer": peer, "seq": seq, "accepted": added, "reports_version": version},
                    now=now,
                )
        if not added and covering:
            report_store.bump_version(conn)  # its period is newly covered: re-evaluate
        _witness_state(conn, peer, seq, bulletin, now)
        max_id = conn.execute(select(func.coalesce(func.max(reports_table.c.id), 0))).scalar_one()
        conn.execute(
            insert(exchange_peer_bulletins).values(
                peer=peer,
                seq=seq,
                agreement_id=bulletin["agreement"],
                period_from=datetime.fromisoformat(bulletin["period"]["from"]).astimezone(UTC),
                period_to=datetime.fromisoformat(bulletin["period"]["to"]).astimezone(UTC),
                bulletin=data,
                leaf_hash=leaf.hex(),
                max_report_id=int(max_id),
                received_at=now,
            )
        )
    return added


def _witness_state(
    conn: Connection, peer: str, seq: int, bulletin: dict[str, Any], now: datetime
) -> None:
    """Replay the bulletin's audit entries; a chain or state that does not match is an alert
    (the bulletin itself is authentic: it is still taken)."""
    if "audit" not in bulletin:
        return
    row = conn.execute(
        select(exchange_peer_state.c.replayed).where(exchange_peer_state.c.peer == peer)
    ).first()
    replayed = Replayed.from_json(row.replayed if row else None)
    problems = replay(replayed, bulletin["audit"])
    for p in problems:
        alert_store.raise_alert(conn, peer, "audit_mismatch", f"bulletin {seq}: {p}", now, seq)
    if not problems:
        for p in check_state(replayed, bulletin.get("state", {})):
            alert_store.raise_alert(conn, peer, "state_mismatch", f"bulletin {seq}: {p}", now, seq)
    values = {"replayed": replayed.to_json()}
    if row is None:
        conn.execute(insert(exchange_peer_state).values(peer=peer, **values))
    else:
        conn.execute(
            exchange_peer_state.update().where(exchange_peer_state.c.peer == peer).values(**values)
        )


def _have(conn: Connection, peer: str, seq: int) -> bool:
    return (
        conn.execute(
            select(exchange_peer_bulletins.c.seq).where(
                (exchange_peer_bulletins.c.peer == peer) & (exchange_peer_bulletins.c.seq == seq)
            )
        ).first()
        is not None
    )
