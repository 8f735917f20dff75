"""Users and their tokens: add, revoke, list, authenticate (each write audited)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from truce.store import audit
from truce.store import users as user_store
from truce.store.engine import write_transaction
from truce.store.users import User


def add_user(
    engine: Engine,
    name: str,
    role: str,
    party: str | None = None,
    *,
    now: datetime,
    expires_at: datetime | None = None,
    sources: tuple[str, ...] | None = None,
    actor: str = "cli",
) -> tuple[User, str]:
    """The new user and their token (shown once; only its hash is stored).
    `sources`: the source names the token may submit under (audited with the grant)."""
    with write_transaction(engine) as conn:
        user, token = user_store.add(
            conn, name, role, party, expires_at=expires_at, sources=sources, now=now
        )
        granted = user.submit_sources
        audit.append(
            conn,
            actor,
            "user.add",
            {
                "name": name,
                "role": role,
                "party": party,
                "expires_at": expires_at and expires_at.isoformat(),
                # what the token may submit under, as granted or by its role's default
                "sources": sorted(granted) if granted is not None else "any",
            },
            now=now,
        )
    return user, token


def revoke_user(engine: Engine, name: str, *, now: datetime, actor: str = "cli") -> int:
    """Revokes every token of `name`; returns how many were live."""
    with write_transaction(engine) as conn:
        n = user_store.revoke(conn, name, now=now)
        audit.append(conn, actor, "user.revoke", {"name": name, "tokens": n}, now=now)
    return n


def list_users(engine: Engine) -> list[User]:
    return user_store.list_users(engine)


def authenticate(engine: Engine, token: str | None, *, now: datetime) -> User:
    return user_store.authenticate(engine, token, now=now)
