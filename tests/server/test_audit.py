"""The hash-chained audit log: every write recorded; edits, removals and reorders detected."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import delete, select, update
from tests.server.data import BASE_ROWS, many_rows, to_csv
from typer.testing import CliRunner

from truce.cli import app as cli_app
from truce.store.schema import audit_log
from truce.store.users import SYSTEM_USER

V = "us-ru-2016-09:r-cease:amman:a-1"


@pytest.fixture
def history(service):
    """Six entries: two users, two ingests, two reviews."""
    service.add_user("sec", "secretariat")
    service.add_user("obs", "observer")
    service.ingest_reports(to_csv(BASE_ROWS).encode(), format="csv", user=SYSTEM_USER)
    service.ingest_reports(to_csv(many_rows(10)).encode(), format="csv", user=SYSTEM_USER)
    service.review(V, "comment", "first look", SYSTEM_USER)
    service.review(V, "confirm", "two sources", SYSTEM_USER)
    return service


def _rows(service):
    with service.engine.connect() as conn:
        return conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()


def test_every_write_is_in_the_log_and_the_chain_verifies(history):
    rows = _rows(history)
    assert [r.action for r in rows] == [
        "user.add",
        "user.add",
        "reports.ingest",
        "reports.ingest",
        "violation.comment",
        "violation.confirm",
    ]
    assert rows[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    result = history.verify_audit()
    assert result.ok and result.entries == 6


def test_duplicate_ingest_and_reads_write_nothing(history):
    n = len(_rows(history))
    history.ingest_reports(to_csv(BASE_ROWS).encode(), format="csv", user=SYSTEM_USER)
    history.evaluation("us-ru-2016-09", SYSTEM_USER)
    assert len(_rows(history)) == n


def _edit(conn):
    conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(payload='{"accepted":999}'))


def _edit_actor(conn):
    conn.execute(update(audit_log).where(audit_log.c.seq == 5).values(actor="someone-else"))


def _remove_middle(conn):
    conn.execute(delete(audit_log).where(audit_log.c.seq == 4))


def _remove_last(conn):
    conn.execute(delete(audit_log).where(audit_log.c.seq == 6))


def _reorder(conn):
    # Swap entries 3 and 4 by renumbering them.
    conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(seq=-3))
    conn.execute(update(audit_log).where(audit_log.c.seq == 4).values(seq=3))
    conn.execute(update(audit_log).where(audit_log.c.seq == -3).values(seq=4))


def _rehash_edit(conn):
    """Edit an entry and recompute its own hash: the next entry's prev_hash gives it away."""
    from truce.store.audit import entry_hash

    row = conn.execute(select(audit_log).where(audit_log.c.seq == 2)).one()
    payload = '{"name":"obs","role":"admin"}'
    digest = entry_hash(row.seq, row.at, row.actor, row.action, payload, row.prev_hash)
    conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(payload=payload, hash=digest))


@pytest.mark.parametrize(
    ("tamper", "first_bad", "words"),
    [
        (_edit, 3, "edited"),
        (_edit_actor, 5, "edited"),
        (_remove_middle, 5, "removed"),
        (_remove_last, None, "removed"),
        (_reorder, 3, "reordered"),
        (_rehash_edit, 3, "prev_hash"),
    ],
    ids=[
        "edited-payload",
        "edited-actor",
        "removed-middle",
        "removed-last",
        "reordered",
        "edited-and-rehashed",
    ],
)
def test_tampering_is_detected(history, db_url, tamper, first_bad, words):
    with history.engine.begin() as conn:
        tamper(conn)
    result = history.verify_audit()
    assert not result.ok
    assert result.problems[0].seq == first_bad
    assert any(words in str(p) for p in result.problems), [str(p) for p in result.problems]
    cli = CliRunner().invoke(cli_app, ["audit", "verify", "--db", db_url])
    assert cli.exit_code == 1
    assert "BROKEN" in cli.output


def test_cli_audit_verify_passes_on_an_intact_log(history, db_url):
    r = CliRunner().invoke(cli_app, ["audit", "verify", "--db", db_url])
    assert r.exit_code == 0, r.output
    assert "6 entries" in r.output
