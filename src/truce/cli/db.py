"""`truce db upgrade`, and how every command opens its database (`--db`, `open_service`).

Which database is chosen, and why, is `truce.cli.database`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from truce.cli.exits import err, fail

# SQLAlchemy and Alembic (half a second to import) load only in the commands that open a
# database, not in every `truce` start-up.
if TYPE_CHECKING:
    from truce.service import Service

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="database URL (default: TRUCE_DATABASE_URL, else sqlite at TRUCE_DB_PATH)"
    ),
]


def open_service(
    db: str | None, *, migrate: bool = True, existing: bool = True, create_when_named: bool = False
) -> Service:
    """The service on the database the command should use (see `truce.cli.database`).

    `existing`: the database must be there already (no empty one is created);
    `migrate=False`: its schema must be there too (read-only commands)."""
    from sqlalchemy.exc import DBAPIError

    from truce.cli.database import (
        DEMO_DB_PATH,
        DatabaseProblem,
        choose_database,
        existing_database,
        schema_missing_message,
    )
    from truce.service import Service
    from truce.store.migrate import current_revision, upgrade

    try:
        chosen = (
            existing_database(db, create_when_named=create_when_named)
            if existing
            else choose_database(db)
        )
    except DatabaseProblem as exc:
        raise fail(str(exc)) from None
    if chosen.how == "demo":
        err.print(
            f"using the demo's database {DEMO_DB_PATH} (no ./truce.sqlite here; "
            "choose another with --db or TRUCE_DB_PATH)",
            highlight=False,
        )
    svc = Service.from_url(chosen.url)
    try:
        if migrate:
            upgrade(svc.engine)
        elif current_revision(svc.engine) is None:
            raise fail(schema_missing_message(chosen))
    except DBAPIError as exc:
        raise fail(f"cannot open the database {chosen.shown}: {exc.orig}") from None
    return svc


db_app = typer.Typer(help="The database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Apply the Alembic migrations (the server also does this at start-up)."""
    from truce.store.engine import database_url_from_env, make_engine
    from truce.store.migrate import upgrade

    url = db or database_url_from_env()
    rev = upgrade(make_engine(url))
    print(f"database at revision {rev}: {url.split('@')[-1]}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
