"""Readers never wait on a refresh: they get the last complete evaluation at once, marked
stale, while it is refreshed in the background; a lease left by a dead process is taken
over within seconds (a heartbeat, not a timeout)."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.server.conftest import TestClient
from tests.server.data import AGREEMENT, BASE_ROWS, many_rows, to_csv
from tests.server.test_serve_process import Server, _admin_token

from truce.api import Settings, create_app
from truce.domain.conditions.base import Coverage
from truce.domain.evaluate import evaluate
from truce.domain.model import Agreement, Evaluation, ReportTable
from truce.service import AgreementRegistry, Service
from truce.store import lease
from truce.store.engine import make_engine
from truce.store.schema import derived as derived_table
from truce.store.users import SYSTEM_USER

pytestmark = pytest.mark.timeout(120)


class Gate:
    """An `evaluate` that, once closed, blocks every computation until opened again."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.open.set()
        self.waiting = threading.Event()  # a computation is blocked on the gate

    def close(self) -> None:
        self.open.clear()
        self.waiting.clear()

    def __call__(
        self, agreement: Agreement, table: ReportTable, as_of: datetime, coverage: Coverage | None
    ) -> Evaluation:
        if not self.open.is_set():
            self.waiting.set()
            assert self.open.wait(60), "the test never opened the gate"
        return evaluate(agreement, table, as_of=as_of, coverage=coverage)


class SharedGate(Gate):
    """A `Gate` for the shared refresher's computations only (a class's go on)."""

    def __call__(
        self, agreement: Agreement, table: ReportTable, as_of: datetime, coverage: Coverage | None
    ) -> Evaluation:
        if threading.current_thread().name != "truce-refresher":
            return evaluate(agreement, table, as_of=as_of, coverage=coverage)
        return super().__call__(agreement, table, as_of, coverage)


def _ingest(service: Service, rows: list[dict]) -> None:
    service.ingest_reports(to_csv(rows).encode(), format="csv", user=SYSTEM_USER)


def _eventually(check: Callable[[], bool], within_s: float = 30.0) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.02)


def test_a_reader_during_a_slow_refresh_gets_the_previous_evaluation_at_once(db_url):
    gate = Gate()
    service = Service(make_engine(db_url), AgreementRegistry.load(), refresh_wait_s=0)
    from truce.store.migrate import upgrade

    upgrade(service.engine)
    service.evaluations.evaluate = gate
    try:
        _ingest(service, BASE_ROWS[:2])
        first = service.current(AGREEMENT)  # nothing stored yet: this one waits
        assert not first.stale and len(first.snapshot.data["incidents"]) == 1
        gate.close()
        _ingest(service, BASE_ROWS[2:])  # starts the refresh, which blocks on the gate
        assert gate.waiting.wait(30)
        during = service.current(AGREEMENT)  # answered although the refresh is blocked
        assert during.stale
        assert during.snapshot is first.snapshot
        gate.open.set()
        _eventually(lambda: not service.current(AGREEMENT).stale)
        after = service.current(AGREEMENT).snapshot
        assert after.reports_version > first.snapshot.reports_version
        assert len(after.data["incidents"]) == 3
        assert service.computations == 2
    finally:
        gate.open.set()
        service.evaluations.close()
        service.engine.dispose()


def test_a_slow_class_evaluation_does_not_hold_up_the_shared_one(db_url):
    """A class made from scratch takes some 15 s at a million reports. Reports that came
    meanwhile waited behind it for the shared refresh, and on two workers the lease
    went to the other one, which computed from scratch."""
    from truce.service.scopes import PUBLISHED

    held, blocked = threading.Event(), threading.Event()
    service = Service(make_engine(db_url), AgreementRegistry.load(), refresh_wait_s=0)
    from truce.store.migrate import upgrade

    upgrade(service.engine)
    own = service.evaluations.own
    compute_class = own.compute_class

    def gated(entry: Any, as_of: datetime, scope: Any, base: Any) -> Any:
        blocked.set()
        assert held.wait(60), "the test never let it go on"
        return compute_class(entry, as_of, scope, base)

    own.compute_class = gated
    try:
        _ingest(service, BASE_ROWS[:2])
        first = service.current(AGREEMENT).snapshot
        service.evaluations.request(AGREEMENT, PUBLISHED)
        assert blocked.wait(30)  # the class's computation is under way, and blocked
        _ingest(service, BASE_ROWS[2:])
        _eventually(lambda: not service.current(AGREEMENT).stale, within_s=20)
        after = service.current(AGREEMENT).snapshot
        assert after.reports_version > first.reports_version
        assert len(after.data["incidents"]) == 3
        held.set()
        _eventually(lambda: service.evaluations.latest(AGREEMENT, PUBLISHED) is not None)
    finally:
        held.set()
        service.evaluations.close()
        service.engine.dispose()


def test_a_class_waiting_for_the_shared_evaluation_when_the_service_closes_computes_nothing(
    db_url, caplog
):
    """Closed while its refresher waits for the full evaluation (to link the class's
    evaluation to), a class is given up: the full one is not computed from every report
    in that thread (some 20 s at a million, at exit), and nothing is logged as a
    failure (a traceback at every shutdown)."""
    from truce.service.scopes import PUBLISHED

    gate = SharedGate()
    service = Service(make_engine(db_url), AgreementRegistry.load(), refresh_wait_s=0)
    from truce.store.migrate import upgrade

    upgrade(service.engine)
    service.evaluations.evaluate = gate
    evals = service.evaluations
    computed_in: list[str] = []
    compute = evals._compute

    def recorded(entry: Any, as_of: datetime) -> Any:
        computed_in.append(threading.current_thread().name)
        return compute(entry, as_of)

    evals._compute = recorded  # type: ignore[method-assign]
    try:
        _ingest(service, BASE_ROWS[:2])
        service.current(AGREEMENT)
        gate.close()
        _ingest(service, BASE_ROWS[2:])
        assert gate.waiting.wait(30)  # the shared refresh is blocked
        evals.request(AGREEMENT, PUBLISHED)  # the class's refresher waits for it
        _eventually(lambda: evals._class_refresher is not None)
        time.sleep(0.3)
        evals.close()
        thread = evals._class_refresher
        assert thread is not None
        thread.join(10)
        assert not thread.is_alive()
        assert "truce-class-refresher" not in computed_in
        assert evals.latest(AGREEMENT, PUBLISHED) is None
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    finally:
        gate.open.set()
        evals.close()
        service.engine.dispose()


def test_a_refresher_thread_that_died_is_started_again_on_the_next_request(db_url):
    """A refresher killed by something its loop does not catch (not an `Exception`) is
    replaced by the next request, shared or a class's: no stale answers for good."""
    from truce.service.scopes import PUBLISHED

    service = Service(make_engine(db_url), AgreementRegistry.load(), refresh_wait_s=0)
    from truce.store.migrate import upgrade

    upgrade(service.engine)
    evals = service.evaluations
    try:
        _ingest(service, BASE_ROWS[:2])
        before = service.current(AGREEMENT).snapshot.reports_version
        dead = threading.Thread(target=lambda: None)
        dead.start()
        dead.join()
        evals._refresher = evals._class_refresher = dead
        _ingest(service, BASE_ROWS[2:])
        evals.request(AGREEMENT)
        evals.request(AGREEMENT, PUBLISHED)
        for thread in (evals._refresher, evals._class_refresher):
            assert thread is not dead and thread.is_alive()
        _eventually(lambda: evals.latest(AGREEMENT).reports_version > before)
        _eventually(lambda: evals.latest(AGREEMENT, PUBLISHED) is not None)
    finally:
        evals.close()
        service.engine.dispose()


def test_a_process_that_did_not_make_the_evaluation_leaves_it_to_the_one_that_did(
    db_url, monkeypatch
):
    """Two processes over one store (as two server workers): the one that made the
    stored evaluation holds what it was made from, so it refreshes it (incrementally);
    the other waits for it each time it has just stored one, rather than computing
    from every report once a first wait is over. Here the maker's computation is held
    while more reports arrive; the other process must compute nothing."""
    from truce.service import evaluation
    from truce.store.migrate import upgrade

    # The maker notices reports stored through the other only by looking (every
    # WATCH_S), later than the other's polls of the lease: as a busy worker does.
    monkeypatch.setattr(evaluation, "AFFINITY_S", 2.0)  # a margin on a loaded machine
    monkeypatch.setattr(evaluation, "WATCH_S", 0.5)
    maker_gate = Gate()

    def server(gate: Gate | None) -> Service:
        service = Service(make_engine(db_url), AgreementRegistry.load(), refresh_wait_s=0)
        if gate is not None:
            service.evaluations.evaluate = gate
        service.evaluations.compute_process = True  # a server worker's refresh rules
        return service

    maker = server(maker_gate)
    upgrade(maker.engine)
    other = server(None)
    try:
        _ingest(maker, BASE_ROWS[:2])
        maker.current(AGREEMENT)
        _eventually(lambda: not other.current(AGREEMENT).stale)
        maker_gate.close()
        _ingest(maker, BASE_ROWS[2:4])
        maker.evaluations.request(AGREEMENT)
        assert maker_gate.waiting.wait(30)  # the maker computes, held at the gate
        other.evaluations.request(AGREEMENT)
        time.sleep(2.5)  # the other has waited its turn, and found the lease taken
        _ingest(other, many_rows(3))  # arrives through the other, the maker held
        maker_gate.open.set()
        with maker.engine.connect() as conn:
            from truce.store.reports import reports_version

            version = reports_version(conn)
        _eventually(lambda: other.evaluations.latest(AGREEMENT).reports_version == version)
        assert other.evaluations.computations == 0
        assert maker.evaluations.computations >= 2
    finally:
        maker_gate.open.set()
        for service in (maker, other):
            service.evaluations.close()
            service.engine.dispose()


def test_the_api_says_which_evaluation_answered_and_that_it_is_stale(db_url):
    gate = Gate()
    app = create_app(Settings(database_url=db_url, refresh_wait_ms=0))
    service = app.state.service
    service.evaluations.evaluate = gate
    _, token = service.add_user("root", "admin")
    h = {"Authorization": f"Bearer {token}"}
    url = f"/api/agreements/{AGREEMENT}/evaluation"
    try:
        with TestClient(app) as c:
            _ingest(service, BASE_ROWS[:2])
            r = c.get(url, headers=h)
            old = r.json()
            assert r.headers["Truce-Stale"] == "false" and old["stale"] is False
            assert r.headers["Truce-Reports-Version"] == str(old["reports_version"])
            assert r.headers["Truce-As-Of"] == old["as_of"]
            dashboard = f"/api/agreements/{AGREEMENT}/dashboard"
            before = c.get(dashboard, headers=h).json()
            gate.close()
            _ingest(service, BASE_ROWS[2:])
            assert gate.waiting.wait(30)
            r = c.get(url, headers=h)
            assert r.headers["Truce-Stale"] == "true"
            assert r.json()["reports_version"] == old["reports_version"]
            assert len(r.json()["incidents"]) == 1
            r = c.get(dashboard, headers=h)  # the previous summary, at once
            assert r.headers["Truce-Stale"] == "true" and r.json() == before
            items = c.get(f"/ogc/collections/{AGREEMENT}-incidents/items", headers=h).json()
            assert items["numberMatched"] == 1  # the OGC index also keeps the previous one
            gate.open.set()
            _eventually(lambda: c.get(url, headers=h).headers["Truce-Stale"] == "false")
            assert len(c.get(url, headers=h).json()["incidents"]) == 3
            _eventually(lambda: c.get(dashboard, headers=h).headers["Truce-Stale"] == "false")
            assert c.get(dashboard, headers=h).json() != before
            _eventually(
                lambda: (
                    c.get(f"/ogc/collections/{AGREEMENT}-incidents/items", headers=h).json()[
                        "numberMatched"
                    ]
                    == 3
                )
            )
    finally:
        gate.open.set()
        service.engine.dispose()


def test_a_lease_left_by_a_dead_holder_is_taken_over_within_seconds(service, monkeypatch):
    monkeypatch.setattr(lease, "LEASE_STALE_S", 1.0)
    _ingest(service, BASE_ROWS)
    # A holder that claimed the lease and died: its heartbeat stops at once.
    assert lease.claim(service.engine, AGREEMENT, now=datetime.now(UTC)) is not None
    started = time.monotonic()
    snap = service.snapshot(AGREEMENT)
    assert time.monotonic() - started < 15  # not the two minutes of a lease timeout
    assert service.computations == 1 and snap.reports_version == 1


def test_a_lease_whose_holder_renews_it_is_not_taken_over(service, monkeypatch):
    monkeypatch.setattr(lease, "LEASE_STALE_S", 0.5)
    token = lease.claim(service.engine, AGREEMENT, now=datetime.now(UTC))
    assert token is not None
    wall = lambda: datetime.now(UTC)  # noqa: E731
    with lease.Heartbeat(service.engine, AGREEMENT, token, clock=wall, every_s=0.1) as beat:
        time.sleep(1.0)  # twice the staleness bound: renewed meanwhile
        assert lease.claim(service.engine, AGREEMENT, now=datetime.now(UTC)) is None
        assert not beat.lost
    time.sleep(0.7)  # the holder stopped renewing
    assert lease.claim(service.engine, AGREEMENT, now=datetime.now(UTC)) is not None


def _lease_token(db_url: str) -> str | None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            q = select(derived_table.c.claim_token).where(derived_table.c.agreement_id == AGREEMENT)
            return conn.execute(q).scalar()
    finally:
        engine.dispose()


def test_after_kill_9_mid_refresh_a_restarted_server_answers_at_once(tmp_path: Path):
    db_url = f"sqlite:///{tmp_path / 'truce.sqlite'}"
    token = _admin_token(db_url)
    h = {"Authorization": f"Bearer {token}"}
    url = f"/api/agreements/{AGREEMENT}/evaluation"
    server = Server(db_url, tmp_path)
    try:
        with httpx.Client(base_url=server.url, headers=h, timeout=60) as c:
            c.post("/api/reports", content=to_csv(BASE_ROWS), headers={"Content-Type": "text/csv"})
            before = c.get(url).json()
            r = c.post(
                "/api/reports",
                content=to_csv(many_rows(30_000)),
                headers={"Content-Type": "text/csv"},
            )
            assert r.json()["accepted"] == 30_000  # the refresh starts now
            _eventually(lambda: _lease_token(db_url) is not None, within_s=30)
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(10)
    finally:
        server.stop()
    orphan = _lease_token(db_url)
    assert orphan is not None  # left behind by the dead process
    # The dead holder's last heartbeat is kept recent until the restarted server has
    # answered: a restart slower than `LEASE_STALE_S` (a loaded CI machine) would
    # otherwise take the lease over and refresh before the first request.
    engine = make_engine(db_url)
    wall = lambda: datetime.now(UTC)  # noqa: E731
    again: Server | None = None
    try:
        with lease.Heartbeat(engine, AGREEMENT, orphan, clock=wall, every_s=0.2) as beat:
            again = Server(db_url, tmp_path)
            started = time.monotonic()
            r = httpx.get(f"{again.url}{url}", headers=h, timeout=60)
            first_answer_s = time.monotonic() - started
            assert r.status_code == 200 and first_answer_s < 5
            assert r.json()["reports_version"] == before["reports_version"]
            assert r.headers["Truce-Stale"] == "true"
            assert not beat.lost  # nothing took over a lease still renewed
        # The heartbeats stopped: the orphaned lease is taken over, the reports evaluated.
        with httpx.Client(base_url=again.url, headers=h, timeout=60) as c:
            _eventually(lambda: c.get(url).headers["Truce-Stale"] == "false", within_s=60)
            assert c.get(url).json()["reports_version"] > before["reports_version"]
    finally:
        if again is not None:
            again.stop()
        engine.dispose()


def test_after_the_refresher_stops_a_reader_still_gets_an_answer(service):
    """An app used after its lifespan ended (the refresher stopped) answers by computing
    in the reader's thread; it must not wait for a refresh that will never come."""
    _ingest(service, BASE_ROWS)
    service.evaluations.close()
    answer: list[object] = []
    reader = threading.Thread(target=lambda: answer.append(service.snapshot(AGREEMENT)))
    reader.start()
    reader.join(60)
    assert not reader.is_alive(), "the reader is still waiting"
    assert answer and answer[0].data["incidents"]  # type: ignore[attr-defined]
