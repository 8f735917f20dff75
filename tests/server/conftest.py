"""Server test fixtures: a `db_url` parametrised over SQLite and PostgreSQL/PostGIS,
an in-process client, and users of every role.

PostgreSQL: `TRUCE_TEST_PG_URL` (default postgresql+psycopg://postgres@127.0.0.1:5432/truce_test,
made by scripts/setup-postgis.sh). Each test gets its own schema, dropped afterwards.
Unreachable server: skip locally, FAIL under CI (CI=true).
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from truce.api import Settings, create_app
from truce.service import Service

with warnings.catch_warnings():
    # Starlette prefers `httpx2` for its TestClient; the project pins httpx.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PG_URL = os.environ.get(
    "TRUCE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/truce_test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
WAIT_MS = 60_000


@cache
def _pg_problem() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            has_postgis = conn.execute(
                text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
            ).scalar()
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL at {PG_URL} is unreachable ({type(exc).__name__}: {str(exc).strip()[:200]})"
    if not has_postgis:
        return f"PostGIS is not installed on the PostgreSQL server at {PG_URL}"
    return None


def _require_pg() -> None:
    problem = _pg_problem()
    if problem is None:
        return
    hint = "; run scripts/setup-postgis.sh or set TRUCE_TEST_PG_URL"
    if IN_CI:
        pytest.fail(problem + hint)
    pytest.skip(problem + hint)


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema (PostGIS stays in public)."""
    _require_pg()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema},public"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'truce.sqlite'}"
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture
def app(db_url: str) -> Iterator[object]:
    # Tests read their own writes: a request for a stale evaluation waits for its refresh
    # (the server's default answers at once with the previous one; see test_refresh.py).
    application = create_app(
        Settings(database_url=db_url, max_body_bytes=2_000_000, refresh_wait_ms=WAIT_MS)
    )
    yield application
    application.state.service.engine.dispose()


@pytest.fixture
def service(app: object) -> Service:
    return app.state.service  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def client(app: object) -> Iterator[TestClient]:
    with TestClient(app) as c:  # type: ignore[arg-type]
        yield c


@dataclass
class Tokens:
    """One token per role; centres `amman` (party opp) and `hmeimim` (party gov)."""

    admin: str
    secretariat: str
    amman: str
    hmeimim: str
    humanitarian: str
    observer: str

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, who)}"}


ROLE_OF = {
    "admin": ("admin", None),
    "secretariat": ("secretariat", None),
    "amman": ("centre", "opp"),
    "hmeimim": ("centre", "gov"),
    "humanitarian": ("humanitarian", None),
    "observer": ("observer", None),
}


@pytest.fixture
def tokens(service: Service) -> Tokens:
    made = {}
    for name, (role, party) in ROLE_OF.items():
        _, made[name] = service.add_user(name, role, party)
    return Tokens(**made)
