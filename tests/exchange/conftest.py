"""Two centres in one process: `amman` and `hmeimim`, each with its own database and key,
wired to each other over in-process HTTP (the real routes, no sockets)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tests.server.conftest import pg_schema_url  # noqa: F401 (fixture)
from tests.server.data import AGREEMENT, BASE_ROWS, to_csv

from truce.api import Settings, create_app
from truce.exchange.keys import init_key
from truce.exchange.pull import PullResult, Transport, pull
from truce.exchange.service import Exchange
from truce.store.users import SYSTEM_USER

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

T0 = datetime.fromisoformat("2016-09-13T00:00:00+03:00")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Centre:
    name: str
    app: object
    client: TestClient
    clock: Clock

    @property
    def ex(self) -> Exchange:
        return self.app.state.exchange  # type: ignore[attr-defined,no-any-return]

    @property
    def service(self):  # type: ignore[no-untyped-def]
        return self.app.state.service  # type: ignore[attr-defined]

    def transport(self) -> Transport:
        def call(method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
            r = self.client.request(method, path, content=body)
            return r.status_code, r.content

        return call

    def ingest(self, rows: list[dict[str, object]]) -> int:
        result = self.service.ingest_reports(to_csv(rows).encode(), format="csv", user=SYSTEM_USER)
        return result.accepted  # type: ignore[no-any-return]

    def issue(self, to: datetime | None = None):  # type: ignore[no-untyped-def]
        return self.ex.issue(AGREEMENT, period_to=to)


def make_centre(
    name: str, url: str, tmp: Path, clock: Clock, agreement_files: tuple[Path, ...] = ()
) -> Centre:
    if url.startswith("sqlite"):
        key_dir = Path(url.removeprefix("sqlite:///")).parent
    else:
        key_dir = tmp / name
    key_dir.mkdir(parents=True, exist_ok=True)
    init_key(name, key_dir / "truce.key")
    import os

    os.environ["TRUCE_KEY_FILE"] = str(key_dir / "truce.key")
    try:
        app = create_app(Settings(database_url=url, agreement_files=agreement_files))
    finally:
        del os.environ["TRUCE_KEY_FILE"]
    app.state.service.clock = clock
    return Centre(name, app, TestClient(app), clock)


@dataclass
class Pair:
    a: Centre
    b: Centre
    clock: Clock

    def pull(self, into: Centre, source: Centre) -> PullResult:
        return pull(into.ex, source.name, source.transport())

    def exchange(self) -> tuple[PullResult, PullResult]:
        return self.pull(self.a, self.b), self.pull(self.b, self.a)


@pytest.fixture
def pair(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Pair]:
    clock = Clock(T0)
    a_dir, b_dir = tmp_path / "amman", tmp_path / "hmeimim"
    a_dir.mkdir()
    b_dir.mkdir()
    b_url = getattr(request, "param", None) == "postgresql"
    a = make_centre("amman", f"sqlite:///{a_dir / 'truce.sqlite'}", tmp_path, clock)
    b = make_centre(
        "hmeimim",
        request.getfixturevalue("pg_schema_url")
        if b_url
        else f"sqlite:///{b_dir / 'truce.sqlite'}",
        tmp_path,
        clock,
    )
    yield from paired(a, b, clock)


def paired(a: Centre, b: Centre, clock: Clock) -> Iterator[Pair]:
    """Each centre made the other's peer; both closed when the test is done."""
    a.ex.add_peer("hmeimim", "http://hmeimim.test", str(b.ex.signer.verifier))  # type: ignore[union-attr]
    b.ex.add_peer("amman", "http://amman.test", str(a.ex.signer.verifier))  # type: ignore[union-attr]
    yield Pair(a, b, clock)
    for c in (a, b):
        c.client.close()
        c.service.engine.dispose()


def rows_of(source: str) -> list[dict[str, object]]:
    return [r for r in BASE_ROWS if r["source"] == source]


Fixture = Callable[..., object]
