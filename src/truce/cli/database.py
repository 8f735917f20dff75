"""Which database a command opens, and a clear error instead of an empty new one.

Order: `--db URL`, `TRUCE_DATABASE_URL`, `TRUCE_DB_PATH`, `./truce.sqlite`. When
none is set and `./truce.sqlite` does not exist but the demo's database
(`.demo/truce.sqlite`, written by `make demo`) does, that one is used, and the
command says so on stderr.

Commands that read or manage an existing database (`truce users ...`,
`truce audit verify`) call `existing_database`: a SQLite file that is not
there is reported with where to point the command, and no empty file is left
behind (SQLite would create one on connect). `truce users add` may create a
database named explicitly. `truce serve`, `truce ingest` and `truce db upgrade`
create databases on purpose.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from truce.store.engine import DEFAULT_DB_PATH, database_url_from_env

__all__ = ["DEMO_DB_PATH", "Chosen", "DatabaseProblem", "choose_database", "existing_database"]

DEMO_DB_PATH = Path(".demo") / "truce.sqlite"
POINT_TO_ONE = (
    "point to one with --db sqlite:///PATH (or postgresql+psycopg://...) or "
    "TRUCE_DB_PATH=PATH; `truce serve` and `truce db upgrade` create one"
)


class DatabaseProblem(Exception):
    """The database a command was pointed at cannot be used; the message says what to do."""


@dataclass(frozen=True)
class Chosen:
    url: str
    how: str  # where the URL came from: --db, TRUCE_DATABASE_URL, TRUCE_DB_PATH, default, demo

    @property
    def shown(self) -> str:
        """The URL without credentials, for messages."""
        return self.url.split("@")[-1]


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def choose_database(
    db: str | None, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Chosen:
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    if db:
        return Chosen(db, "--db")
    if env.get("TRUCE_DATABASE_URL", "").strip():
        return Chosen(database_url_from_env(dict(env)), "TRUCE_DATABASE_URL")
    if env.get("TRUCE_DB_PATH"):
        return Chosen(database_url_from_env(dict(env)), "TRUCE_DB_PATH")
    default = cwd / DEFAULT_DB_PATH
    demo = cwd / DEMO_DB_PATH
    if not default.exists() and demo.is_file():
        return Chosen(f"sqlite:///{DEMO_DB_PATH}", "demo")
    return Chosen(database_url_from_env({}), "default")


def existing_database(
    db: str | None, env: Mapping[str, str] | None = None, *, create_when_named: bool = False
) -> Chosen:
    """The chosen database, which must exist already (checked for SQLite files).

    `create_when_named`: a database named explicitly (--db or a TRUCE_* variable) may
    be created; only the implicit default must exist (e.g. `truce users add` setting up
    a server's first admin before its first start)."""
    chosen = choose_database(db, env)
    path = sqlite_file(chosen.url)
    if create_when_named and chosen.how not in ("default", "demo"):
        return chosen
    if path is not None and not path.is_file():
        source = {
            "--db": "given with --db",
            "TRUCE_DATABASE_URL": "named by TRUCE_DATABASE_URL",
            "TRUCE_DB_PATH": "named by TRUCE_DB_PATH",
        }.get(
            chosen.how,
            f"the default (no --db, TRUCE_DATABASE_URL or TRUCE_DB_PATH; no {DEMO_DB_PATH} here either)",
        )
        raise DatabaseProblem(f"no truce database at {path} ({source}): {POINT_TO_ONE}")
    return chosen


def schema_missing_message(chosen: Chosen) -> str:
    return (
        f"{chosen.shown} has no truce tables yet: create them with `truce db upgrade` "
        f"(with the same --db or TRUCE_* setting), or {POINT_TO_ONE.split('; ')[0]}"
    )
