"""`truce users add|list|revoke`: users and their API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from truce.cli.db import DbOption, open_service
from truce.cli.exits import err, fail
from truce.cli.text import plural
from truce.errors import TruceError

users_app = typer.Typer(help="Users and their API tokens.", no_args_is_help=True)


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help="admin, secretariat, centre, humanitarian or observer")],
    party: Annotated[str | None, typer.Option(help="the party a centre belongs to")] = None,
    expires_days: Annotated[
        float | None, typer.Option(help="token lifetime in days (default: no expiry)")
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            help="a source name the token may submit under (repeatable); default: a "
            "humanitarian agency its own name, admin and secretariat any, a centre its own"
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Create a user and print its token (shown once; only its hash is stored)."""
    svc = open_service(db, create_when_named=True)
    expires = datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None
    try:
        user, token = svc.add_user(
            name, role, party, expires_at=expires, sources=tuple(source) if source else None
        )
    except TruceError as exc:
        raise fail(str(exc)) from None
    err.print(
        f"user {user.name} ({user.role}{', ' + user.party if user.party else ''}) created; token:"
    )
    print(token)


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """Every user and token state (tokens themselves are never shown again)."""
    svc = open_service(db)
    table = Table("name", "role", "party", "sources", "created", "expires", "revoked")
    for u in svc.list_users():
        may = u.submit_sources if u.role != "observer" else frozenset()
        table.add_row(
            u.name,
            u.role,
            u.party or "",
            "any" if may is None else ", ".join(sorted(may)),
            u.created_at.isoformat(timespec="seconds"),
            u.expires_at.isoformat(timespec="seconds") if u.expires_at else "",
            u.revoked_at.isoformat(timespec="seconds") if u.revoked_at else "",
        )
    Console().print(table)


@users_app.command("revoke")
def users_revoke(name: str, db: DbOption = None) -> None:
    """Revoke every active token of a user."""
    svc = open_service(db)
    try:
        n = svc.revoke_user(name)
    except TruceError as exc:
        raise fail(str(exc)) from None
    print(f"revoked {plural(n, 'token')} of {name}")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
