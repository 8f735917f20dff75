"""SPEC §6 `coverage` in the running exchange: a quiet-days condition counts a day only
when both centres' bulletins cover it, in the server's evaluation and in the
bulletins' `evaluation_digest`, which the other centre still rebuilds exactly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.exchange.conftest import Clock, Pair, make_centre, paired

from truce.exchange.bulletin import evaluation_digest
from truce.exchange.held import held_evaluation
from truce.store.engine import read_transaction

FIXTURE = Path(__file__).parents[1] / "fixtures" / "agreements" / "terms-example.yaml"
AGREEMENT = "terms-example"
T0 = datetime.fromisoformat("2016-09-13T00:00:00+03:00")  # the first whole day counted


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


@pytest.fixture
def covered_pair(tmp_path: Path) -> Iterator[Pair]:
    text = FIXTURE.read_text(encoding="utf-8").replace(
        "count: parties_only,", "count: parties_only, coverage: [amman, hmeimim],"
    )
    agreement_file = tmp_path / "covered.yaml"
    agreement_file.write_text(text, encoding="utf-8")
    clock = Clock(T0)
    centres = []
    for name in ("amman", "hmeimim"):
        (tmp_path / name).mkdir()
        url = f"sqlite:///{tmp_path / name / 'truce.sqlite'}"
        centres.append(make_centre(name, url, tmp_path, clock, (agreement_file,)))
    yield from paired(*centres, clock)


def quiet_week(pair: Pair, centre_name: str) -> dict[str, Any]:
    centre = pair.a if centre_name == "amman" else pair.b
    data = centre.service.snapshot(AGREEMENT, as_of=pair.clock.now).data
    return next(c for c in data["conditions"] if c["id"] == "quiet-week")


def issue(pair: Pair, to: datetime, *, only: str | None = None) -> None:
    pair.clock.now = to
    for c in (pair.a, pair.b):
        if only in (None, c.name):
            c.ex.issue(AGREEMENT, period_to=to)


def test_days_without_both_centres_bulletins_are_not_quiet_and_covered_days_are(
    covered_pair: Pair,
) -> None:
    pair = covered_pair
    # amman issues from 13 Sep; hmeimim's first bulletin covers 15 Sep 00:00-02:00.
    issue(pair, T0 + timedelta(hours=2), only="amman")
    issue(pair, day(2) + timedelta(hours=2))
    issue(pair, day(8))
    results = pair.exchange()
    assert [r.alerts for r in results] == [[], []]

    for name in ("amman", "hmeimim"):
        cond = quiet_week(pair, name)
        covered = {d["day"]: d["covered"] for d in cond["daily"]}
        assert covered["2016-09-13"] is False and covered["2016-09-14"] is False
        assert all(covered[f"2016-09-{d}"] for d in range(15, 21))
        # Quiet from 15 Sep only: six whole covered days by 21 Sep 00:00, not seven.
        assert cond["met_at"] is None and cond["streak_days"] == 6
        assert "not covered by the bulletins of amman, hmeimim" in cond["blocking"]

    # The next bulletins cover 21 Sep: the seventh quiet day, met at its end.
    issue(pair, day(9))
    pair.exchange()
    for name in ("amman", "hmeimim"):
        assert quiet_week(pair, name)["met_at"] == "2016-09-22T00:00:00+03:00"


def test_both_centres_rebuild_each_others_covered_digest(covered_pair: Pair) -> None:
    pair = covered_pair
    issue(pair, T0 + timedelta(hours=2), only="amman")
    for n in (2, 5, 9):
        issue(pair, day(n))
        a_result, b_result = pair.exchange()
        assert a_result.alerts == [] and b_result.alerts == []
        assert a_result.converged and all(m for _, m in a_result.converged)
        assert b_result.converged and all(m for _, m in b_result.converged)
    # The digest counted the coverage: without it every day would be quiet from 13 Sep.
    bulletin = pair.a.ex.bulletin_pair(4)[0]
    agreement = pair.a.ex.agreement(AGREEMENT)
    with read_transaction(pair.a.service.engine) as conn:
        uncovered = held_evaluation(conn, agreement, day(9))
    assert evaluation_digest(uncovered) != bulletin["evaluation_digest"]


def test_a_new_bulletin_re_evaluates_only_agreements_that_count_coverage(
    covered_pair: Pair,
) -> None:
    from truce.store import reports as report_store

    pair = covered_pair

    def version() -> int:
        with read_transaction(pair.a.service.engine) as conn:
            return report_store.reports_version(conn)

    before = version()
    pair.clock.now = T0 + timedelta(hours=2)
    pair.a.ex.issue("us-ru-2016-09")  # names no centres: its verdicts cannot change
    assert version() == before
    pair.a.ex.issue(AGREEMENT)  # a newly covered period: evaluated again
    assert version() == before + 1
    pair.b.ex.issue(AGREEMENT)
    before_pull = version()
    pair.pull(pair.a, pair.b)  # an imported peer bulletin with no reports: the same
    assert version() == before_pull + 1
