"""Users and their bearer tokens. Only the sha256 of a token is stored.

`TokenCache` keeps what `authenticate` found per token hash, in one process, for
as long as the caller says the store has not been written (see
`truce.store.watermark`): revocation is a write, so a revoked token is refused
once the watermark moves. Expiry is checked against the clock on every use.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select, update

from truce.domain.access import ROLES, allowed, check_grants, submit_sources
from truce.errors import AuthError, BadInput, Conflict, NotFound
from truce.store.schema import users

TOKEN_PREFIX = "truce_"


@dataclass(frozen=True)
class User:
    """Who is calling. `party` is set for centres (the side whose centre it is)."""

    id: int
    name: str
    role: str
    party: str | None
    created_at: datetime
    revoked_at: datetime | None = None
    expires_at: datetime | None = None
    sources: tuple[str, ...] | None = None  # granted source names; None = role default

    @property
    def sees_everything(self) -> bool:
        return allowed(self.role, "evaluation.see_all")

    @property
    def submit_sources(self) -> frozenset[str] | None:
        """The source names this token may submit under; None = any."""
        return submit_sources(self.role, self.name, self.sources)


# Used by the CLI and by tests that act without a token.
SYSTEM_USER = User(
    id=0, name="system", role="admin", party=None, created_at=datetime(1970, 1, 1, tzinfo=UTC)
)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _user(row: object) -> User:
    m = row._mapping  # type: ignore[attr-defined]
    return User(
        id=m["id"],
        name=m["name"],
        role=m["role"],
        party=m["party"],
        created_at=_aware(m["created_at"]),  # type: ignore[arg-type]
        revoked_at=_aware(m["revoked_at"]),
        expires_at=_aware(m["expires_at"]),
        sources=tuple(json.loads(m["sources"])) if m["sources"] else None,
    )


def check_new_user(
    name: str, role: str, party: str | None, sources: tuple[str, ...] | None = None
) -> None:
    if not name or not name.strip() or ":" in name:
        raise BadInput("a user name must be non-empty and must not contain ':'")
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if role == "centre" and not party:
        raise BadInput("a centre is bound to one party: give --party PARTY_ID")
    if role != "centre" and party:
        raise BadInput(f"only centres are bound to a party; drop --party for role {role!r}")
    problem = check_grants(role, sources)
    if problem:
        raise BadInput(problem)


def add(
    conn: Connection,
    name: str,
    role: str,
    party: str | None,
    *,
    expires_at: datetime | None = None,
    sources: tuple[str, ...] | None = None,
    now: datetime,
) -> tuple[User, str]:
    """Create a user with a fresh token; returns the user and the token (shown once).
    `sources` are the source names it may submit under (None: its role's default)."""
    sources = tuple(dict.fromkeys(sources)) if sources else None
    check_new_user(name, role, party, sources)
    active = conn.execute(
        select(users.c.id).where(users.c.name == name, users.c.revoked_at.is_(None))
    ).first()
    if active is not None:
        raise Conflict(f"user {name!r} already has an active token; revoke it first")
    token = new_token()
    uid = conn.execute(
        users.insert()
        .values(
            name=name,
            role=role,
            party=party,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=expires_at,
            sources=json.dumps(list(sources)) if sources else None,
        )
        .returning(users.c.id)
    ).scalar_one()
    return User(uid, name, role, party, now, None, expires_at, sources), token


def revoke(conn: Connection, name: str, *, now: datetime) -> int:
    n = conn.execute(
        update(users)
        .where(users.c.name == name, users.c.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
    if not n:
        raise NotFound(f"no active user named {name!r}")
    return n


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        return [_user(r) for r in conn.execute(select(users).order_by(users.c.id))]


def _check(user: User, now: datetime) -> User:
    if user.revoked_at is not None:
        raise AuthError(
            f"token revoked at {user.revoked_at.isoformat()}: ask an admin for a new one"
        )
    if user.expires_at is not None and user.expires_at <= now:
        raise AuthError(
            f"token expired at {user.expires_at.isoformat()}: ask an admin for a new one"
        )
    return user


def _missing() -> AuthError:
    return AuthError(
        "missing token: send 'Authorization: Bearer <token>' (tokens are made with "
        "'truce users add NAME --role ROLE')"
    )


def lookup(engine: Engine, token_hash: str) -> User | None:
    """The user row for a token hash (revoked and expired ones included), or None."""
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.token_hash == token_hash)).first()
    return None if row is None else _user(row)


def authenticate(engine: Engine, token: str | None, *, now: datetime) -> User:
    """The user a bearer token belongs to; AuthError saying why not otherwise."""
    if not token:
        raise _missing()
    user = lookup(engine, hash_token(token))
    if user is None:
        raise AuthError("unknown token: check it was copied whole, or ask an admin for a new one")
    return _check(user, now)


class TokenCache:
    """Token hash -> user, valid while the `version` passed to `get` stays the same.

    Known users are kept (including revoked ones, refused without a database read);
    unknown tokens are not, so a token made a moment ago works at once. At most
    `max_entries` tokens are kept; beyond that the cache starts over.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._version: Hashable = None
        self._users: dict[str, User] = {}
        self._lock = threading.Lock()

    def cached(self, token: str | None, *, version: Hashable, now: datetime) -> User | None:
        """The user from the cache (AuthError when refused), or None when a read is needed."""
        if not token:
            raise _missing()
        if version != self._version:
            return None
        user = self._users.get(hash_token(token))
        return None if user is None else _check(user, now)

    def get(self, engine: Engine, token: str | None, *, version: Hashable, now: datetime) -> User:
        """Like `authenticate`, reading the database only on a cache miss."""
        hit = self.cached(token, version=version, now=now)
        if hit is not None:
            return hit
        assert token  # `cached` refused an empty one
        digest = hash_token(token)
        user = lookup(engine, digest)
        if user is None:
            raise AuthError(
                "unknown token: check it was copied whole, or ask an admin for a new one"
            )
        with self._lock:
            if version != self._version or len(self._users) >= self.max_entries:
                self._users = {}
                self._version = version
            self._users[digest] = user
        return _check(user, now)

    def clear(self) -> None:
        with self._lock:
            self._users = {}
            self._version = None
