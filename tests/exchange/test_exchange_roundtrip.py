"""Two centres issue bulletins, witness each other, import, cosign and agree."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from tests.exchange.conftest import Pair, rows_of

from truce.exchange.checkpoint import Checkpoint
from truce.exchange.note import open_note, parse_note

LATER = datetime.fromisoformat("2016-12-01T00:00:00+03:00")


def test_each_centre_imports_the_others_reports_and_cosigns_its_checkpoint(pair: Pair) -> None:
    a, b = pair.a, pair.b
    assert a.ingest(rows_of("amman")) == 2
    assert b.ingest(rows_of("hmeimim")) == 2
    pair.clock.advance(timedelta(hours=2))
    assert a.issue().seq == 1
    assert b.issue().seq == 1
    ra, rb = pair.exchange()
    assert (ra.alerts, rb.alerts) == ([], [])
    assert (ra.new_bulletins, ra.imported_reports, ra.cosigned) == (1, 2, True)
    assert (rb.new_bulletins, rb.imported_reports, rb.cosigned) == (1, 2, True)
    # Each checkpoint now carries the peer's cosignature, verifiable with its note key.
    note = a.client.get("/exchange/checkpoint").text
    sigs = parse_note(note).signatures
    assert [s.name for s in sigs] == ["amman", "hmeimim"]
    opened, _ = open_note(note, [a.ex.signer.verifier])  # type: ignore[union-attr]
    assert Checkpoint.parse(opened.text).size == 1
    # Both hold all four reports; the imported ones kept their source.
    for c in (a, b):
        ev = c.service.snapshot("us-ru-2016-09", as_of=LATER).data
        sources = sorted(s for inc in ev["incidents"] for s in inc["sources"])
        assert sources == ["amman", "amman", "hmeimim", "hmeimim"]


def test_bulletins_are_canonical_and_carry_the_period_reports_and_digest(pair: Pair) -> None:
    a = pair.a
    a.ingest(rows_of("amman"))
    pair.clock.advance(timedelta(hours=2))
    first = a.issue()
    body = a.client.get("/exchange/bulletins/1").content
    bulletin = json.loads(body)
    assert bulletin["truce_bulletin"] == 1
    assert bulletin["origin"] == "amman" and bulletin["seq"] == 1
    assert [r["report_id"] for r in bulletin["reports"]] == ["a-1", "a-2"]
    assert bulletin["period"]["to"] == "2016-09-13T02:00:00+03:00"
    assert len(bulletin["evaluation_digest"]) == 64
    assert bulletin["summary"]["reports"] == 2
    # Issuing again for a closed period changes nothing; the next carries only new reports.
    assert a.issue(first.period_to).created is False
    pair.clock.advance(timedelta(hours=2))
    second = a.issue()
    assert (second.seq, second.reports) == (2, 0)
    nxt = json.loads(a.client.get("/exchange/bulletins/2").content)
    assert nxt["period"]["from"] == bulletin["period"]["to"]


def test_proofs_served_verify_against_the_checkpoint(pair: Pair) -> None:
    from truce.exchange import merkle

    a = pair.a
    for _ in range(5):
        pair.clock.advance(timedelta(hours=2))
        a.issue()
    cp = Checkpoint.parse(parse_note(a.client.get("/exchange/checkpoint").text).text)
    assert cp.size == 5
    for seq in range(1, 6):
        leaf = merkle.leaf_hash(a.client.get(f"/exchange/bulletins/{seq}").content)
        proof = a.client.get("/exchange/proof/inclusion", params={"seq": seq, "size": 5}).json()
        import base64

        hashes = [base64.b64decode(h) for h in proof["hashes"]]
        merkle.verify_inclusion(seq - 1, 5, leaf, hashes, cp.root)
    assert a.client.get("/exchange/bulletins/6").status_code == 404
    assert a.client.get("/exchange/key").text.strip() == str(a.ex.signer.verifier)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "pair", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_week_of_two_hourly_exchanges_converges(pair: Pair) -> None:
    from tests.server.data import many_rows

    a, b = pair.a, pair.b
    rows_a = many_rows(84, source="amman")
    rows_b = many_rows(84, source="hmeimim", start=1000)
    for period in range(84):
        a.ingest(rows_a[period : period + 1])
        b.ingest(rows_b[period : period + 1])
        pair.clock.advance(timedelta(hours=2))
        a.ex.issue_due(["us-ru-2016-09"])
        b.ex.issue_due(["us-ru-2016-09"])
        ra, rb = pair.exchange()
        assert ra.alerts == [] and rb.alerts == [], (ra.alerts, rb.alerts)
    for c in (a, b):
        status = c.ex.status()
        assert status["log_size"] == 84
        assert status["alerts"] == []
        (peer,) = status["peers"]
        assert peer["size_seen"] == 84 and peer["gaps"] == []
        assert peer["cosigned_size"] == 84
        ev = c.service.snapshot("us-ru-2016-09", as_of=LATER).data
        assert sum(len(i["report_ids"]) for i in ev["incidents"]) == 168


def test_both_centres_recompute_each_others_digest_and_agree(pair: Pair) -> None:
    a, b = pair.a, pair.b
    a.ingest(rows_of("amman"))
    b.ingest(rows_of("hmeimim"))
    pair.clock.advance(timedelta(hours=36))  # past every report: the verdicts are not empty
    for _ in range(3):
        pair.clock.advance(timedelta(hours=2))
        a.issue()
        b.issue()
        ra, rb = pair.exchange()
        assert ra.alerts == [] and rb.alerts == []
    # Every pulled bulletin was recomputed on the other side, with the same digest.
    assert ra.converged == [(3, True)] and rb.converged == [(3, True)]
    last = json.loads(a.client.get("/exchange/bulletins/3").content)
    assert last["holds"] == {"hmeimim": 2} and last["summary"]["incidents"] == 3


def test_a_differing_verdict_is_an_alert_naming_the_incident(pair: Pair) -> None:
    from sqlalchemy import update

    from truce.store.engine import write_transaction
    from truce.store.schema import reports

    a, b = pair.a, pair.b
    a.ingest(rows_of("amman"))
    b.ingest(rows_of("hmeimim"))
    pair.clock.advance(timedelta(hours=2))
    a.issue()
    b.issue()
    assert pair.exchange()[0].alerts == []
    # Hand edit at hmeimim: an imported amman report moved by 20 km after it was received.
    with write_transaction(b.service.engine) as conn:
        conn.execute(update(reports).where(reports.c.report_id == "a-2").values(lat=36.40))
    pair.clock.advance(timedelta(hours=36))
    a.issue()
    b.issue()
    ra = pair.pull(a, b)  # amman recomputes hmeimim's digest from its own (unedited) copy
    assert [k.split(":")[0] for k in ra.alerts] == ["digest_mismatch"]
    assert "amman:a-2" in ra.alerts[0]


def test_coverage_lists_the_periods_each_centres_bulletins_cover(pair: Pair) -> None:
    from truce.exchange.coverage import coverage, covers

    a, b = pair.a, pair.b
    start = pair.clock.now
    for _ in range(3):
        pair.clock.advance(timedelta(hours=2))
        a.issue()
        b.issue()
    pair.exchange()
    cov = coverage(a.service.engine, "us-ru-2016-09")
    assert set(cov) == {"amman", "hmeimim"}
    for name in cov:
        (interval,) = cov[name]  # three two-hour periods, joined
        assert interval[1] - interval[0] == timedelta(hours=6)
        assert covers(cov[name], start, start + timedelta(hours=6))
        assert not covers(cov[name], start, start + timedelta(hours=7))
