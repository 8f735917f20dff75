"""The sign-up registry's changes, as stored: read and append only."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select

from truce.domain.model import Commitment
from truce.store.schema import commitment_changes as table


def _aware(dt: datetime | None) -> datetime | None:
    return dt if dt is None or dt.tzinfo else dt.replace(tzinfo=UTC)


def _utc(dt: datetime | None) -> datetime | None:
    """Stored in UTC: SQLite keeps no offset."""
    return None if dt is None else dt.astimezone(UTC)


def changes(conn: Connection, agreement_id: str) -> list[tuple[Commitment, str, datetime]]:
    """Every change for the agreement, oldest first: (commitment, changed_by, changed_at)."""
    rows = conn.execute(
        select(table).where(table.c.agreement_id == agreement_id).order_by(table.c.id)
    ).mappings()
    return [
        (
            Commitment(
                group=r["group_name"],
                party=r["party"],
                via=r["via"],
                accepted=_aware(r["accepted"]),
                declined=_aware(r["declined"]),
                withdrew=_aware(r["withdrew"]),
                note=r["note"],
                source=r["source"],
            ),
            r["changed_by"],
            _aware(r["changed_at"]),  # type: ignore[misc]
        )
        for r in rows
    ]


def append(
    conn: Connection, agreement_id: str, c: Commitment, *, changed_by: str, now: datetime
) -> None:
    conn.execute(
        insert(table).values(
            agreement_id=agreement_id,
            group_name=c.group,
            party=c.party,
            via=c.via,
            accepted=_utc(c.accepted),
            declined=_utc(c.declined),
            withdrew=_utc(c.withdrew),
            note=c.note,
            source=c.source,
            changed_by=changed_by,
            changed_at=_utc(now),
        )
    )
