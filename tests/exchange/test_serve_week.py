"""Two real `truce serve` processes on loopback (one SQLite, one PostgreSQL) exchange for a
simulated week of two-hourly bulletins in accelerated time: at the end both hold every
report of both, every checkpoint is cosigned and every recomputed digest matched."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from tests.server.data import many_rows, to_csv

from truce.exchange.tables import exchange_convergence
from truce.store.engine import make_engine
from truce.store.schema import reports

pytestmark = [pytest.mark.timeout(600), pytest.mark.postgres]
CLI = [sys.executable, "-c", "from truce.cli import main; main()"]
WEEK = {"start": "2016-09-12T00:00:00+03:00", "speed": 7200, "until": "2016-09-19T00:00:00+03:00"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)


class Centre:
    def __init__(self, name: str, db: str, tmp: Path) -> None:
        self.name, self.db = name, db
        self.env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "TRUCE_DATABASE_URL": db,
            "TRUCE_KEY_FILE": str(tmp / f"{name}.key"),
            "TRUCE_EXCHANGE_AGREEMENTS": "us-ru-2016-09",
            "TRUCE_EXCHANGE_CLOCK": json.dumps(WEEK),
            "TRUCE_EXCHANGE_TICK_S": "0.25",
        }
        r = _cli(self.env, "keys", "init", "--name", name)
        assert r.returncode == 0, r.stderr
        self.vkey = r.stdout.strip().splitlines()[-1]
        self.log = (tmp / f"{name}.log").open("w+")
        self.proc: subprocess.Popen[str] | None = None
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def ingest(self, rows: list[dict[str, object]], tmp: Path) -> None:
        path = tmp / f"{self.name}-{rows[0]['report_id']}.csv"
        path.write_text(to_csv(rows))
        r = _cli(self.env, "ingest", str(path))
        assert r.returncode == 0, r.stderr

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [*CLI, "serve", "--port", str(self.port)], env=self.env, stdout=subprocess.PIPE,
            stderr=self.log, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert self.url in line, (line, self.read_log())

    def status(self) -> dict[str, object]:
        r = _cli(self.env, "exchange", "status", "--format", "json")
        return json.loads(r.stdout)  # type: ignore[no-any-return]

    def read_log(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.log.close()


def test_a_simulated_week_between_a_sqlite_and_a_postgresql_centre(
    tmp_path: Path, pg_schema_url: str
) -> None:
    amman = Centre("amman", f"sqlite:///{tmp_path / 'amman.sqlite'}", tmp_path)
    hmeimim = Centre("hmeimim", pg_schema_url, tmp_path)
    rows_a = many_rows(300, source="amman")
    rows_b = many_rows(300, source="hmeimim", start=5000)
    amman.ingest(rows_a[:150], tmp_path)
    hmeimim.ingest(rows_b[:150], tmp_path)
    for me, peer in ((amman, hmeimim), (hmeimim, amman)):  # each knows the other from the start
        r = _cli(me.env, "peers", "add", peer.name, peer.url, "--key", peer.vkey)
        assert r.returncode == 0, r.stderr
    try:
        amman.start()
        hmeimim.start()
        time.sleep(20)  # a simulated day and more, then more reports arrive mid-week
        amman.ingest(rows_a[150:], tmp_path)
        hmeimim.ingest(rows_b[150:], tmp_path)
        deadline = time.monotonic() + 400
        done = False
        while time.monotonic() < deadline and not done:
            time.sleep(2)
            notes = [httpx.get(f"{c.url}/exchange/checkpoint").text for c in (amman, hmeimim)]
            sizes = [int(n.split("\n")[1]) for n in notes]
            done = (
                min(sizes) >= 85  # 2016-09-12T00:00 .. 2016-09-19T00:00, every 2 h
                and "— hmeimim " in notes[0]
                and "— amman " in notes[1]
            )
        sa, sb = amman.status(), hmeimim.status()
        assert done, (sa, sb, amman.read_log()[-2000:], hmeimim.read_log()[-2000:])
        for s, o in ((sa, sb), (sb, sa)):
            assert s["log_size"] == 85
            (peer,) = s["peers"]  # type: ignore[misc]
            assert peer["size_seen"] == o["log_size"] and peer["gaps"] == []
            assert peer["cosigned_size"] == o["log_size"]
        assert sa["alerts"] == [] and sb["alerts"] == [], (sa["alerts"], sb["alerts"])
    finally:
        amman.stop()
        hmeimim.stop()
    for centre in (amman, hmeimim):
        engine = make_engine(centre.db)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(reports)).scalar_one() == 600
            checks = conn.execute(select(exchange_convergence.c.matched)).scalars().all()
        engine.dispose()
        assert checks and all(checks), checks
