"""The sign-up registry on a running server: read it, change it (the secretariat
only, every change audited), and the agreement the evaluation then uses.

A change for a group replaces that group's entry in the agreement file (or adds
a group). It bumps the reports version, so every process recomputes its
evaluation with it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from truce.domain.commitments import status_at
from truce.domain.model import Agreement, Commitment
from truce.domain.timeparse import iso, parse_local_datetime
from truce.errors import BadInput, Forbidden
from truce.formats.agreement.builder import _with_committed_groups
from truce.store import audit
from truce.store import commitments as store
from truce.store import reports as report_store
from truce.store.engine import read_transaction, write_transaction
from truce.store.users import User

EDIT_ROLES = frozenset({"admin", "secretariat"})
FIELDS = ("group", "party", "via", "accepted", "declined", "withdrew", "note", "source")


def _key(group: str) -> str:
    return " ".join(group.lower().split())


def effective(conn: Connection, agreement: Agreement) -> Agreement:
    """The agreement with the stored changes to its registry applied."""
    stored = store.changes(conn, agreement.id)
    if not stored:
        return agreement
    by_group = {_key(c.group): c for c in agreement.commitments}
    tz = agreement.timezone
    for stored_c, _, _ in stored:
        c = replace(
            stored_c,
            accepted=stored_c.accepted and stored_c.accepted.astimezone(tz),
            declined=stored_c.declined and stored_c.declined.astimezone(tz),
            withdrew=stored_c.withdrew and stored_c.withdrew.astimezone(tz),
        )
        before = by_group.get(_key(c.group))
        by_group[_key(c.group)] = replace(c, aliases=before.aliases) if before else c
    signed = tuple(by_group.values())
    file_parties = tuple(
        replace(p, actors=tuple(a for a in p.actors if _key(a) not in by_group))
        for p in agreement.parties
    )
    parties = _with_committed_groups(file_parties, signed)
    return replace(agreement, commitments=signed, parties=parties)


def public(c: Commitment, as_of: datetime) -> dict[str, Any]:
    return {
        "group": c.group,
        "party": c.party,
        "via": c.via,
        "accepted": iso(c.accepted),
        "declined": iso(c.declined),
        "withdrew": iso(c.withdrew),
        "note": c.note,
        "source": c.source,
        "status": status_at(c, as_of),
    }


def list_commitments(engine: Engine, agreement: Agreement, now: datetime) -> dict[str, Any]:
    """The registry as it stands, each group's status now, and the history of changes."""
    with read_transaction(engine) as conn:
        current = effective(conn, agreement)
        history = store.changes(conn, agreement.id)
    return {
        "agreement": agreement.id,
        "commitments": [public(c, now) for c in current.commitments],
        "changes": [
            {**public(c, now), "changed_by": by, "changed_at": iso(at)} for c, by, at in history
        ],
    }


def parse(agreement: Agreement, body: dict[str, Any]) -> Commitment:
    """A Commitment from a request body; BadInput saying what is wrong."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise BadInput(f"unknown keys {', '.join(unknown)}; known: {', '.join(FIELDS)}")
    group = str(body.get("group") or "").strip()
    if not group:
        raise BadInput("group is required: the group's name as reports write it")
    party = body.get("party")
    if party not in agreement.party_ids():
        raise BadInput(
            f"party {party!r} is not a party of {agreement.id}; "
            f"known: {', '.join(agreement.party_ids())}"
        )
    times: dict[str, datetime | None] = {}
    for name in ("accepted", "declined", "withdrew"):
        value = body.get(name)
        try:
            times[name] = parse_local_datetime(value, agreement.timezone) if value else None
        except ValueError as exc:
            raise BadInput(f"{name}: {exc}; give an ISO 8601 time with its offset") from None
    accepted, declined, withdrew = times["accepted"], times["declined"], times["withdrew"]
    if withdrew is not None and (accepted is None or withdrew <= accepted):
        raise BadInput("withdrew: a group can only withdraw after it accepted")
    if accepted is not None and declined is not None and declined >= accepted:
        raise BadInput("declined: a group that declined and later accepted gives declined first")
    return Commitment(
        group,
        party,
        body.get("via"),
        accepted,
        declined,
        withdrew,
        note=body.get("note"),
        source=body.get("source"),
    )


def set_commitment(
    engine: Engine, agreement: Agreement, body: dict[str, Any], user: User, now: datetime
) -> dict[str, Any]:
    """Record a group's sign-up status; the secretariat only; audited."""
    if user.role not in EDIT_ROLES:
        raise Forbidden(
            f"role {user.role!r} may not change the sign-up registry; the secretariat does"
        )
    c = parse(agreement, body)
    with write_transaction(engine) as conn:
        store.append(conn, agreement.id, c, changed_by=user.name, now=now)
        audit.append(
            conn,
            user.name,
            "commitment.set",
            {
                "agreement": agreement.id,
                **{k: v for k, v in public(c, now).items() if k != "status"},
            },
            now=now,
        )
        report_store.bump_version(conn)  # the evaluations depend on it: recompute
    return public(c, now)
