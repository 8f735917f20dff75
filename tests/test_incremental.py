"""`reevaluate` gives exactly what `evaluate` gives over the same reports, whatever
order they arrive in, and says when it has to evaluate everything again."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.scenario import spec_agreement, to_csv

from truce.domain.consolidate import ConsolidationSettings
from truce.domain.evaluate import evaluate
from truce.domain.incremental import INCREMENTAL, reevaluate, same_incidents_from
from truce.domain.model import Evaluation, IncidentTable, ReportTable
from truce.formats.reports import read_reports

BASE = datetime(2016, 9, 12, 12, 0, tzinfo=UTC)
END = BASE + timedelta(days=12)  # after every generated report
CENTRES = [(37.13, 36.25), (37.18, 36.20), (37.125, 36.252)]  # road, east Aleppo, checkpoint
SETTINGS = [
    ConsolidationSettings(),
    ConsolidationSettings(window_s=3 * 3600.0, max_span_s=6 * 3600.0),
    ConsolidationSettings(radius_m=3000.0, window_s=1800.0, max_span_s=0.0),
]
AGREEMENT = spec_agreement()


def iso(t: datetime) -> str:
    return t.isoformat()


@st.composite
def report_rows(draw: st.DrawFn) -> dict[str, object]:
    """One report near one of a few places and times, so that many of them merge."""
    kind = draw(
        st.sampled_from(
            ["shelling", "airstrike", "armed_clash", "weapon_sighting", "checkpoint_observation"]
        )
    )
    lon, lat = draw(st.sampled_from(CENTRES))
    # Offsets in steps of ~300 m and 20 min: exact ties and near misses are common.
    lon += draw(st.integers(-8, 8)) * 0.0033
    lat += draw(st.integers(-8, 8)) * 0.0027
    at = BASE + timedelta(minutes=20 * draw(st.integers(0, 10 * 72)))
    row: dict[str, object] = {
        "source": draw(st.sampled_from(["alpha", "beta", "gamma"])),
        "observed_at": iso(at),
        "lon": round(lon, 5),
        "lat": round(lat, 5),
        "event_type": kind,
        "actor": draw(st.sampled_from(["SAA", "FSA", "HTS", "someone unknown", ""])),
        "target": draw(st.sampled_from(["", "FSA", "SAA"])),
        "reliability": draw(st.sampled_from(["", "A", "B", "C", "F"])),
        "dataset": draw(st.sampled_from(["", "", "ucdp", "acled"])),
    }
    if kind == "weapon_sighting":
        row["weapon"] = draw(st.sampled_from(["artillery", "apc"]))
    if kind == "checkpoint_observation":
        row["side"] = draw(st.sampled_from(["gov", "opp"]))
        row["count"] = draw(st.integers(1, 40))
    if kind == "armed_clash" and draw(st.booleans()):
        row["direction"] = "mutual"
    if draw(st.booleans()):
        row["location_precision_m"] = draw(st.sampled_from([50, 800, 4000]))
    if draw(st.integers(0, 3)) == 0:  # a stated time window, some longer than max_span_s
        row["observed_to"] = iso(at + timedelta(hours=draw(st.sampled_from([1, 12, 30, 72]))))
    if draw(st.booleans()):
        row["fatalities"] = draw(st.integers(0, 5))
    return row


def table_of(rows: list[dict[str, object]]) -> ReportTable:
    read = read_reports(to_csv(rows), format="csv")
    assert not read.rejected, read.rejected
    return read.reports


def assert_same_evaluation(got: Evaluation, want: Evaluation) -> None:
    for f in fields(IncidentTable):
        a, b = getattr(got.incidents, f.name), getattr(want.incidents, f.name)
        assert a.dtype == b.dtype, f.name
        np.testing.assert_array_equal(a, b, err_msg=f.name)
    assert got.incident_ids == want.incident_ids
    assert got.violations == want.violations
    assert got.phases == want.phases
    assert got.conditions == want.conditions
    assert len(got.reports) == len(want.reports)
    got_terms, want_terms = got.extra["terms"], want.extra["terms"]
    assert got_terms.histories == want_terms.histories
    assert got_terms.not_charged == want_terms.not_charged
    np.testing.assert_array_equal(got_terms.groups, want_terms.groups)
    assert got_terms.convoy_incidents.keys() == want_terms.convoy_incidents.keys()
    for convoy, rows in got_terms.convoy_incidents.items():
        np.testing.assert_array_equal(rows, want_terms.convoy_incidents[convoy])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # each example evaluates several times
@given(
    rows=st.lists(report_rows(), min_size=2, max_size=45),
    chronological=st.booleans(),
    appended=st.booleans(),
    cuts=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=4),
    as_of_hours=st.lists(st.sampled_from([288, 288, 288, 100, 170]), min_size=5, max_size=5),
    consolidation=st.sampled_from(SETTINGS),
    rnd=st.randoms(use_true_random=False),
)
def test_incremental_results_equal_a_full_evaluation(
    rows, chronological, appended, cuts, as_of_hours, consolidation, rnd
):
    """Batches in any order (or in time order, the usual case), tables in any row
    order (or the previous table's, then the batch: the store's), as_of moving back
    and forth: every step equals a full evaluation."""
    reports = table_of(rows)
    arrival = list(range(len(reports)))
    rnd.shuffle(arrival)
    if chronological:  # batches arrive in time order: the incremental path does real work
        arrival.sort(key=lambda k: reports.observed_at[k])
    bounds = sorted({int(c * len(arrival)) for c in cuts} | {len(arrival)})
    bounds = [b for b in bounds if b > 0]
    known: list[int] = []
    rows_now: list[int] = []
    previous: Evaluation | None = None
    held: ReportTable | None = None  # the table `previous` was evaluated over
    for step, end in enumerate(bounds):
        batch = arrival[len(known) : end]
        known += batch
        as_of = BASE + timedelta(hours=as_of_hours[step])
        rnd.shuffle(batch)
        if appended and held is not None:  # as the server's computing process makes it
            rows_now = rows_now + batch
            table = ReportTable.concat([held, reports.take(np.array(batch, dtype=np.int64))])
        else:  # the store may hand the table over in any row order
            rows_now = list(known)
            rnd.shuffle(rows_now)
            table = reports.take(np.array(rows_now))
        full = evaluate(AGREEMENT, table, as_of=as_of, settings=consolidation)
        if previous is not None:
            new_rows = np.flatnonzero(np.isin(rows_now, batch))
            # The caller vouches for the old rows only when the previous evaluation
            # left none of its table out (its reports are that table).
            vouched = appended and previous.reports is held
            got = reevaluate(
                previous, table, new_rows, as_of=as_of, settings=consolidation, appended=vouched
            )
            assert_same_evaluation(got, full)
            start = int(got.extra["incremental"]["reused"])
            same = same_incidents_from(
                previous, got, start, appended=vouched and got.reports is table
            )
            assert same == same_incidents_from(previous, got, start)  # checked the long way
            previous = got
        else:
            previous = full
        held = table


def aleppo_rows(days: int, per_day: int = 12) -> list[dict[str, object]]:
    """Shellings every two hours around east Aleppo, two sources each."""
    rows = []
    for k in range(days * per_day):
        at = BASE + timedelta(hours=24 * k / per_day)
        lon, lat = CENTRES[1][0] + 0.01 * (k % 5), CENTRES[1][1]
        for source in ("alpha", "beta"):
            rows.append({"source": source, "observed_at": iso(at), "lon": lon, "lat": lat,
                         "event_type": "shelling", "actor": "SAA"})  # fmt: skip
    return rows


@pytest.fixture(scope="module")
def ten_days() -> ReportTable:
    return table_of(aleppo_rows(10))


def split(reports: ReportTable, new: np.ndarray) -> tuple[Evaluation, np.ndarray]:
    old = np.setdiff1d(np.arange(len(reports)), new)
    return evaluate(AGREEMENT, reports.take(old), as_of=END), new


def test_recent_reports_reuse_the_incidents_anchored_before_the_reach(ten_days):
    t = ten_days.observed_at
    new = np.flatnonzero(t >= t.max() - np.timedelta64(6, "h"))
    previous, _ = split(ten_days, new)
    got = reevaluate(previous, ten_days, new, as_of=END)
    info = got.extra["incremental"]
    assert info["reason"] == INCREMENTAL
    # The reach is 6 h + 24 h (+1 s): incidents anchored earlier than that are kept.
    cut = t[new].min() - np.timedelta64(30 * 3600 + 1, "s")
    anchored = ten_days.observed_at[got.incidents.members[got.incidents.offsets[:-1]]]
    assert info["reused"] == int((anchored < cut).sum()) > 0
    assert info["consolidated"] < len(ten_days) // 3
    assert_same_evaluation(got, evaluate(AGREEMENT, ten_days, as_of=END))


def test_a_report_before_everything_evaluates_everything_again(ten_days):
    previous, new = split(ten_days, np.array([0]))
    got = reevaluate(previous, ten_days, new, as_of=END)
    assert got.extra["incremental"]["reused"] == 0
    assert "first incident" in got.extra["incremental"]["reason"]
    assert_same_evaluation(got, evaluate(AGREEMENT, ten_days, as_of=END))


def test_other_consolidation_settings_evaluate_everything_again(ten_days):
    previous, new = split(ten_days, np.array([len(ten_days) - 1]))
    wider = ConsolidationSettings(radius_m=5000.0)
    got = reevaluate(previous, ten_days, new, as_of=END, settings=wider)
    assert "settings" in got.extra["incremental"]["reason"]
    assert_same_evaluation(got, evaluate(AGREEMENT, ten_days, as_of=END, settings=wider))


def test_a_projection_that_follows_the_reports_median_evaluates_everything_again(ten_days):
    # No crs and no features: the UTM zone is the reports' median's.
    placeless = replace(AGREEMENT, crs=None, features={}, zones=(), rules=(), conditions=(),
                        phases=())  # fmt: skip
    west = table_of([r | {"lon": 30.5} for r in aleppo_rows(10)])  # UTM zone 36, not 37
    both = ReportTable.concat([ten_days, west])
    previous = evaluate(placeless, ten_days, as_of=END)
    new = np.arange(len(ten_days), len(both))
    got = reevaluate(previous, both, new, as_of=END)
    assert "projection" in got.extra["incremental"]["reason"]
    assert_same_evaluation(got, evaluate(placeless, both, as_of=END))


def test_rows_that_are_not_the_previous_reports_evaluate_everything_again(ten_days):
    t = ten_days.observed_at
    new = np.flatnonzero(t >= t.max() - np.timedelta64(6, "h"))
    previous, _ = split(ten_days, new)
    other = replace(
        ten_days, report_id=np.array([f"x-{k}" for k in range(len(ten_days))], dtype=object)
    )
    got = reevaluate(previous, other, new, as_of=END)
    assert "not made from these reports" in got.extra["incremental"]["reason"]


def test_only_a_later_as_of_reuses_everything_and_moves_the_phases(ten_days):
    early = BASE + timedelta(days=3)
    previous = evaluate(AGREEMENT, ten_days, as_of=early)
    got = reevaluate(previous, ten_days, np.array([], dtype=np.int64), as_of=END)
    # The reports after `early` are changes too: consolidated, the earlier ones kept.
    assert got.extra["incremental"]["reason"] == INCREMENTAL
    assert_same_evaluation(got, evaluate(AGREEMENT, ten_days, as_of=END))
    again = reevaluate(got, ten_days, np.array([], dtype=np.int64), as_of=END)
    assert again.extra["incremental"]["reused"] == len(got.incidents)
    assert again.extra["incremental"]["consolidated"] == 0
    assert_same_evaluation(again, got)


def test_more_curated_datasets_than_anchor_bits_evaluate_everything_again():
    rows = aleppo_rows(4)
    for k, row in enumerate(rows):
        row["dataset"] = f"set-{k % 70}"
    reports = table_of(rows)
    previous, new = split(reports, np.array([len(reports) - 1]))
    got = reevaluate(previous, reports, new, as_of=END)
    assert "curated datasets" in got.extra["incremental"]["reason"]
    assert_same_evaluation(got, evaluate(AGREEMENT, reports, as_of=END))


def test_an_earlier_as_of_drops_the_later_reports_and_keeps_the_incidents_before_them(ten_days):
    previous = evaluate(AGREEMENT, ten_days, as_of=END)
    earlier = BASE + timedelta(days=5)
    got = reevaluate(previous, ten_days, np.array([], dtype=np.int64), as_of=earlier)
    info = got.extra["incremental"]
    assert info["reason"] == INCREMENTAL
    assert 0 < info["reused"] < len(got.incidents)
    assert_same_evaluation(got, evaluate(AGREEMENT, ten_days, as_of=earlier))


def test_a_previous_evaluation_without_coordinates_has_every_report_projected(ten_days):
    t = ten_days.observed_at
    new = np.flatnonzero(t >= t.max() - np.timedelta64(6, "h"))
    previous, _ = split(ten_days, new)
    del previous.extra["xy"]  # as an evaluation kept from before it was recorded
    got = reevaluate(previous, ten_days, new, as_of=END)
    assert got.extra["incremental"]["reused"] > 0
    assert_same_evaluation(got, evaluate(AGREEMENT, ten_days, as_of=END))


def test_settings_without_a_bound_on_the_reach_evaluate_everything_again(ten_days):
    endless = ConsolidationSettings(max_span_s=float("inf"))
    previous = evaluate(AGREEMENT, ten_days.take(np.arange(len(ten_days) - 1)), as_of=END,
                        settings=endless)  # fmt: skip
    got = reevaluate(previous, ten_days, np.array([len(ten_days) - 1]), as_of=END, settings=endless)
    assert "without bound" in got.extra["incremental"]["reason"]
    assert_same_evaluation(got, evaluate(AGREEMENT, ten_days, as_of=END, settings=endless))


def test_rules_judge_again_only_the_incidents_after_the_kept_ones(ten_days, monkeypatch):
    """Under the same phase windows a rule finds among the kept incidents what it found
    before: only the incidents after them are judged again (the result is still the
    full evaluation's)."""
    from truce.domain.rules.cease_attacks import CeaseAttacks

    t = ten_days.observed_at
    new = np.flatnonzero(t >= t.max() - np.timedelta64(6, "h"))
    previous, _ = split(ten_days, new)
    judged: list[int] = []
    original = CeaseAttacks.evaluate

    def spy(self, rule, ctx):  # type: ignore[no-untyped-def]
        judged.append(len(ctx.incidents))
        return original(self, rule, ctx)

    monkeypatch.setattr(CeaseAttacks, "evaluate", spy)
    got = reevaluate(previous, ten_days, new, as_of=END)
    kept = got.extra["incremental"]["reused"]
    assert kept > 0
    assert judged and set(judged) == {len(got.incidents) - kept}
    assert len(got.violations) > 0
    assert_same_evaluation(got, evaluate(AGREEMENT, ten_days, as_of=END))


def test_an_evaluation_does_not_keep_the_ones_before_it_alive(ten_days):
    """What an incremental evaluation carried from the previous one is its own once it
    is made: a server refreshing all day must not hold every evaluation it ever made."""
    import gc
    import weakref

    t = ten_days.observed_at
    first_rows = np.flatnonzero(t < t.max() - np.timedelta64(12, "h"))
    previous = evaluate(AGREEMENT, ten_days.take(first_rows), as_of=END)
    gone = weakref.ref(previous.extra["per_incident"]), weakref.ref(previous.extra["rule_findings"])
    new = np.setdiff1d(np.arange(len(ten_days)), first_rows)
    table = ten_days.take(np.concatenate([first_rows, new]))
    got = reevaluate(previous, table, np.arange(len(first_rows), len(table)), as_of=END)
    assert got.extra["incremental"]["reused"] > 0
    del previous
    gc.collect()
    assert [ref() for ref in gone] == [None, None]
    assert_same_evaluation(got, evaluate(AGREEMENT, table, as_of=END))
