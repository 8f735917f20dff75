"""Review state of violations, keyed by the stable violation key, with full history.

The state machine is `truce.domain.review`, who may act `truce.domain.access`;
this module only persists. Every action is one event row; a state change is an
optimistic update (`version`) inside a write transaction, retried when another
writer got there first, so two concurrent reviews of one violation both end up
in its history.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from truce.domain.review import INITIAL, transition
from truce.errors import Conflict
from truce.store import audit
from truce.store import reports as report_store
from truce.store.engine import write_transaction
from truce.store.schema import incident_publications, review_events, violation_reviews
from truce.store.users import User

MAX_RETRIES = 50


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _insert(conn: Connection) -> Any:
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


@dataclass(frozen=True)
class ReviewState:
    state: str
    published: bool
    history: list[dict[str, Any]]
    last_seen: dict[str, Any] | None = None


def states_for(conn: Connection, agreement_id: str) -> dict[str, tuple[str, bool]]:
    """violation key -> (state, published) for every reviewed violation of an agreement."""
    q = select(
        violation_reviews.c.violation_key, violation_reviews.c.state, violation_reviews.c.published
    ).where(violation_reviews.c.agreement_id == agreement_id)
    return {k: (s, bool(p)) for k, s, p in conn.execute(q)}


def published_incidents(conn: Connection, agreement_id: str, after: int = 0) -> Iterator[str]:
    """The keys of the agreement's published incidents, as published after publication
    `after` (the second of an earlier `fingerprint`): publications are only added."""
    q = select(incident_publications.c.incident_key).where(
        incident_publications.c.agreement_id == agreement_id,
        incident_publications.c.id > after,
    )
    return (k for (k,) in conn.execute(q))


def fingerprint(conn: Connection) -> tuple[int, int]:
    """Moves with every review action and every publication (newest row ids; cheap)."""
    events = select(func.coalesce(func.max(review_events.c.id), 0))
    pubs = select(func.coalesce(func.max(incident_publications.c.id), 0))
    return int(conn.execute(events).scalar_one()), int(conn.execute(pubs).scalar_one())


def _history(conn: Connection, review_id: int) -> list[dict[str, Any]]:
    q = (
        select(review_events)
        .where(review_events.c.review_id == review_id)
        .order_by(review_events.c.id)
    )
    return [
        {
            "at": _aware(e.at).isoformat(),
            "by": e.actor,
            "role": e.actor_role,
            "party": e.actor_party,
            "action": e.action,
            "comment": e.comment,
            "from": e.from_state,
            "to": e.to_state,
        }
        for e in conn.execute(q)
    ]


def get(conn: Connection, violation_key: str) -> ReviewState | None:
    row = conn.execute(
        select(violation_reviews).where(violation_reviews.c.violation_key == violation_key)
    ).first()
    if row is None:
        return None
    return ReviewState(
        state=row.state,
        published=bool(row.published),
        history=_history(conn, row.id),
        last_seen=json.loads(row.last_seen) if row.last_seen else None,
    )


def publish_incident(
    conn: Connection,
    agreement_id: str,
    incident_key: str,
    report_keys: list[str],
    by: str,
    now: datetime,
) -> bool:
    """Publish an incident and its reports in the caller's transaction; False if already."""
    inserted = conn.execute(
        _insert(conn)(incident_publications)
        .values(
            agreement_id=agreement_id, incident_key=incident_key, published_by=by, published_at=now
        )
        .on_conflict_do_nothing()
        .returning(incident_publications.c.id)
    ).first()
    if report_store.mark_published(conn, report_keys):
        # The published reports changed, and with them the evaluations of those who
        # see only published reports (`truce.service.scopes`): a new reports version.
        report_store.bump_version(conn)
    return inserted is not None


class _Lost(Exception):
    """Another writer changed the review between our read and our update."""


def apply(
    engine: Engine,
    *,
    violation_key: str,
    agreement_id: str,
    rule: str,
    incident_key: str,
    report_keys: list[str],
    violation: dict[str, Any],
    action: str,
    comment: str | None,
    user: User,
    now: datetime,
) -> ReviewState:
    """Record one review action the caller has checked (`truce.domain.access`); the next
    state is `truce.domain.review.transition` of the stored one (Conflict, 409, when it
    does not allow the action)."""

    def attempt(conn: Connection) -> ReviewState:
        conn.execute(
            _insert(conn)(violation_reviews)
            .values(
                violation_key=violation_key,
                agreement_id=agreement_id,
                rule=rule,
                incident_key=incident_key,
                state=INITIAL,
                published=False,
                version=1,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["violation_key"])
        )
        row = conn.execute(
            select(violation_reviews).where(violation_reviews.c.violation_key == violation_key)
        ).one()
        from_state = row.state
        to_state = transition(action, from_state, published=bool(row.published), key=violation_key)
        n = conn.execute(
            update(violation_reviews)
            .where(violation_reviews.c.id == row.id, violation_reviews.c.version == row.version)
            .values(
                state=to_state,
                version=row.version + 1,
                published=bool(row.published) or action == "publish",
                last_seen=json.dumps(violation, separators=(",", ":")),
                updated_at=now,
            )
        ).rowcount
        if n != 1:
            raise _Lost()
        conn.execute(
            review_events.insert().values(
                review_id=row.id,
                at=now,
                actor=user.name,
                actor_role=user.role,
                actor_party=user.party,
                action=action,
                from_state=from_state,
                to_state=to_state,
                comment=comment,
            )
        )
        if action == "publish":
            publish_incident(conn, agreement_id, incident_key, report_keys, user.name, now)
        audit.append(
            conn,
            user.name,
            f"violation.{action}",
            {"violation": violation_key, "from": from_state, "to": to_state, "comment": comment},
            now=now,
        )
        return ReviewState(
            state=to_state,
            published=bool(row.published) or action == "publish",
            history=_history(conn, row.id),
            last_seen=violation,
        )

    for _ in range(MAX_RETRIES):
        try:
            with write_transaction(engine) as conn:
                return attempt(conn)
        except _Lost:
            continue
    raise Conflict(f"violation {violation_key} is being reviewed by others right now; try again")
