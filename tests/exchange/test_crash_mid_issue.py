"""A real `truce bulletin issue` killed (SIGKILL) inside its issuing transaction, on SQLite
and on PostgreSQL: nothing of its bulletin stays, and the next issues continue the log
with no gap and no duplicate sequence number."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select
from tests.server.conftest import db_url, pg_schema_url  # noqa: F401 (fixtures)

from truce.exchange import log
from truce.exchange.issuing import ENV_TEST_PAUSE_FILE
from truce.exchange.tables import exchange_checkpoints, exchange_log
from truce.store.engine import make_engine, read_transaction

AGREEMENT = "us-ru-2016-09"


def truce(*args: str, env: dict[str, str], **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "truce", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,  # type: ignore[call-overload]
    )


def run(*args: str, env: dict[str, str]) -> str:
    proc = truce(*args, env=env)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, (args, out, err)
    return out


def issue(to: str, db: str, env: dict[str, str]) -> str:
    return run("bulletin", "issue", "--agreement", AGREEMENT, "--to", to, "--db", db, env=env)


def test_a_bulletin_issue_killed_mid_transaction_leaves_no_gap_and_no_duplicate(
    db_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    env = {**os.environ, "TRUCE_KEY_FILE": str(tmp_path / "truce.key")}
    env.pop(ENV_TEST_PAUSE_FILE, None)
    run("keys", "init", "--name", "amman", "--db", db_url, env=env)
    assert "bulletin 1 issued" in issue("2016-09-13T02:00:00+03:00", db_url, env)

    pause = tmp_path / "paused"
    killed = truce(
        "bulletin", "issue", "--agreement", AGREEMENT, "--to", "2016-09-13T04:00:00+03:00",
        "--db", db_url, env={**env, ENV_TEST_PAUSE_FILE: str(pause)},
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not pause.exists():  # bulletin 2 written, not committed
        assert killed.poll() is None, killed.communicate()
        assert time.monotonic() < deadline, "the issue never reached its pause"
        time.sleep(0.05)
    assert int(pause.read_text()) == killed.pid
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=30)
    assert killed.returncode == -signal.SIGKILL

    # The same period again: bulletin 2 (not 3, and not "already issued"), then 3.
    assert "bulletin 2 issued" in issue("2016-09-13T04:00:00+03:00", db_url, env)
    assert "bulletin 3 issued" in issue("2016-09-13T06:00:00+03:00", db_url, env)
    assert "bulletin 3 already issued" in issue("2016-09-13T06:00:00+03:00", db_url, env)

    engine = make_engine(db_url)
    try:
        with read_transaction(engine) as conn:
            seqs = list(conn.execute(select(exchange_log.c.seq).order_by("seq")).scalars())
            sizes = list(
                conn.execute(select(exchange_checkpoints.c.size).order_by("size")).scalars()
            )
            ends = list(conn.execute(select(exchange_log.c.period_to).order_by("seq")).scalars())
            assert log.check_log(conn) == []  # leaves, tree and checkpoints agree
    finally:
        engine.dispose()
    assert seqs == [1, 2, 3] and sizes == [1, 2, 3]
    assert len(set(ends)) == 3
    status = truce("exchange", "status", "--db", db_url, env=env)
    out, err = status.communicate(timeout=120)
    assert status.returncode == 0 and "log size 3" in out, (out, err)  # and no alert
