"""Engines and transactions for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with `synchronous=FULL`, so a committed batch survives a
crash of the process (and of the machine). Write transactions on SQLite start with
`BEGIN IMMEDIATE`, taking the write lock up front: two writers then queue on the
busy timeout instead of failing half-way with "database is locked".
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text

DEFAULT_DB_PATH = "./truce.sqlite"
SQLITE_BUSY_TIMEOUT_S = 60.0
# PostgreSQL advisory lock id that serialises appends to the audit chain.
AUDIT_LOCK_ID = 0x7472_7563  # "truc"


def database_url_from_env(env: dict[str, str] | None = None) -> str:
    """`TRUCE_DATABASE_URL`, else SQLite at `TRUCE_DB_PATH` (default ./truce.sqlite)."""
    env = dict(os.environ) if env is None else env
    url = env.get("TRUCE_DATABASE_URL", "").strip()
    if url:
        return url
    path = Path(env.get("TRUCE_DB_PATH", DEFAULT_DB_PATH)).expanduser()
    return f"sqlite:///{path}"


def is_sqlite(bind: Engine | Connection) -> bool:
    return bind.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine configured for truce: WAL + immediate write transactions on SQLite."""
    if url.startswith("sqlite"):
        connect_args = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN itself (pysqlite's own
        # transaction handling would defer it and could not take the lock up front).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def write_transaction(engine: Engine, *, audited: bool = True) -> Iterator[Connection]:
    """A transaction that will write: committed on success, rolled back on error.

    SQLite: `BEGIN IMMEDIATE` (the write lock is taken at once). PostgreSQL: the
    audit advisory lock is taken at once, so appends to the hash chain are serial;
    `audited=False` skips it for writes that append nothing to the audit log (the
    evaluation lease's heartbeat must not queue behind a long ingest).
    """
    with engine.connect() as conn:
        if is_sqlite(conn):
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        if not audited:  # leaves the write watermark (`truce.store.watermark`) alone
            conn = conn.execution_options(truce_unaudited=True)
        with conn.begin():
            if audited and not is_sqlite(conn):
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK_ID})
            yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A read-only snapshot (SQLite WAL and PostgreSQL both give one per transaction)."""
    with engine.connect() as conn:
        if not is_sqlite(conn):
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn
