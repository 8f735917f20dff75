"""A real `truce serve` process: start-up on a free port, ingest, SIGTERM; SIGKILL mid-ingest."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.server.data import BASE_ROWS, many_rows, to_csv

from truce.service import AgreementRegistry, Service
from truce.store.engine import make_engine
from truce.store.migrate import upgrade
from truce.store.schema import reports

pytestmark = pytest.mark.timeout(180)
CLI = [sys.executable, "-c", "from truce.cli import main; main()"]


def _admin_token(db_url: str) -> str:
    engine = make_engine(db_url)
    upgrade(engine)
    svc = Service(engine, AgreementRegistry([]))
    _, token = svc.add_user("ops", "admin")
    engine.dispose()
    return token


class Server:
    def __init__(self, db_url: str, tmp_path: Path, *args: str) -> None:
        self.log = (tmp_path / "serve.log").open("w+")
        self.proc = subprocess.Popen(
            [*CLI, "serve", "--port", "0", "--db", db_url, *args],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.search(r"at (http://\S+?)/? ", line)
        if not match:
            self.proc.kill()
            self.log.seek(0)
            raise AssertionError(f"no URL in {line!r}; log: {self.log.read()}")
        self.url = match.group(1).rstrip("/")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("server did not answer /api/health")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


@pytest.fixture
def server_factory(db_url: str, tmp_path: Path) -> Iterator:
    started: list[Server] = []

    def start(*args: str) -> Server:
        s = Server(db_url, tmp_path, *args)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def test_serve_starts_on_a_free_port_ingests_and_stops_on_sigterm(db_url, server_factory):
    token = _admin_token(db_url)
    server = server_factory()
    h = {"Authorization": f"Bearer {token}"}
    r = httpx.post(
        f"{server.url}/api/reports",
        content=to_csv(BASE_ROWS),
        headers={**h, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200 and r.json()["accepted"] == 4
    ev = httpx.get(
        f"{server.url}/api/agreements/us-ru-2016-09/evaluation", headers=h, timeout=60
    ).json()
    assert len(ev["violations"]) == 3
    assert httpx.get(f"{server.url}/docs").status_code == 200
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(20) == 0


def test_serve_with_two_workers_answers_ogc_and_stops_on_sigterm(db_url, server_factory):
    token = _admin_token(db_url)
    server = server_factory("--workers", "2", "--warm")
    h = {"Authorization": f"Bearer {token}"}
    r = httpx.post(
        f"{server.url}/api/reports",
        content=to_csv(BASE_ROWS),
        headers={**h, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200 and r.json()["accepted"] == 4
    items = f"{server.url}/ogc/collections/us-ru-2016-09-incidents/items"
    # Whichever worker answers, it sees the ingest within freshness_ms (default 1 s).
    deadline = time.monotonic() + 30
    matched = None
    while time.monotonic() < deadline and matched != 3:
        doc = httpx.get(items, headers=h, timeout=60).json()
        matched = doc["numberMatched"]
        time.sleep(0.2)
    assert matched == 3
    assert httpx.get(items, headers={"Authorization": "Bearer nope"}).status_code == 401
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(30) == 0


def test_sigkill_in_the_middle_of_a_large_ingest_loses_no_acknowledged_batch(
    db_url, server_factory
):
    token = _admin_token(db_url)
    server = server_factory()
    h = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    batch_rows = 4000
    acknowledged: list[int] = []
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(timeout=60) as c:
            for b in range(1000):
                if stop.is_set():
                    return
                body = to_csv(many_rows(batch_rows, start=b * batch_rows))
                try:
                    r = c.post(f"{server.url}/api/reports", content=body, headers=h)
                except httpx.TransportError:
                    return
                if r.status_code == 200 and r.json()["accepted"] == batch_rows:
                    acknowledged.append(b)

    t = threading.Thread(target=client)
    t.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # most likely mid-batch now
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(10)
    stop.set()
    t.join(30)
    assert len(acknowledged) >= 3

    engine = make_engine(db_url)
    with engine.connect() as conn:
        stored = {rid for (rid,) in conn.execute(select(reports.c.report_id))}
    engine.dispose()
    for b in acknowledged:
        expected = {f"b-{i}" for i in range(b * batch_rows, (b + 1) * batch_rows)}
        assert expected <= stored, f"acknowledged batch {b} was lost"
    # Batches are atomic: whatever is stored is a whole number of batches.
    assert len(stored) % batch_rows == 0


def busy_child(pipe: Any) -> None:
    """A computing process busy for two minutes (started by the test below)."""
    from truce.service.compute_process import dies_with_worker

    with dies_with_worker(pipe):
        time.sleep(120)


def test_a_computing_process_dies_with_its_worker_on_sigkill(tmp_path: Path):
    """A worker killed with -9 leaves no computing process behind to store an evaluation
    under its lease (`truce.service.compute_process`): the child, busy computing, ends
    as soon as the worker's end of its pipe closes."""
    # The child is busy (as one computing is), not waiting on its pipe.
    script = (
        "import time\n"
        "from truce.service.compute_process import _get_context\n"
        "from tests.server.test_serve_process import busy_child\n"
        "ctx = _get_context()\n"
        "mine, theirs = ctx.Pipe()\n"
        "child = ctx.Process(target=busy_child, args=(theirs,), daemon=True)\n"
        "child.start()\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    root = str(Path(__file__).resolve().parents[2])
    worker = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=root
    )
    try:
        assert worker.stdout is not None
        pid = int(worker.stdout.readline())
        assert Path(f"/proc/{pid}").exists()
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)

        def gone() -> bool:
            try:  # a zombie is gone too: it runs nothing
                return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
            except OSError:
                return True

        deadline = time.monotonic() + 15
        while not gone() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert gone(), "the computing process outlived its worker"
    finally:
        worker.kill()
