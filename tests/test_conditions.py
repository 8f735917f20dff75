"""Condition kinds: each met, not met and at the boundary; composites met in different
orders, and met then un-met; quiet_days counting only the parties, and coverage."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from shapely.geometry import Point
from tests.geoms import CASTELLO_ROAD, offset_from
from tests.scenario import FIXTURES, at, run

from truce.domain.conditions import intersect, unite
from truce.formats.agreement import load_agreement

TERMS = load_agreement(FIXTURES / "agreements" / "terms-example.yaml")
CP1, CP2 = Point(37.125, 36.252), Point(37.145, 36.245)
CITY = (37.16117, 36.20124)


def evaluate(rows, as_of="2016-09-25T00:00:00+03:00", **kw):
    return run(rows, as_of=as_of, agreement=TERMS, **kw)


def cond(ev, cid):
    return next(c for c in ev.conditions if c.id == cid)


def phase(ev, pid):
    return next(p for p in ev.phases if p.id == pid)


def t(text):
    return datetime.fromisoformat(text)


def checkpoint(where, when, status, how="status", source="sarc"):
    row = {"observed_at": when, **at(offset_from(where, 20)), "event_type": "checkpoint_status"}
    row["source"] = source
    if how == "status":
        row["status"] = status
    else:
        row["notes"] = f"checkpoint {status} by SARC"
    return row


def both_up(first="2016-09-13T10:00:00+03:00", second="2016-09-14T09:00:00+03:00"):
    return [checkpoint(CP1, first, "established"), checkpoint(CP2, second, "staffed", how="notes")]


# --- checkpoints_established ---------------------------------------------------------


def test_checkpoints_established_when_the_last_one_is_set_up():
    c = cond(evaluate(both_up()), "checkpoints-up")
    assert c.met and c.met_at == t("2016-09-14T09:00:00+03:00")


def test_checkpoints_not_established_while_one_has_no_report():
    c = cond(evaluate(both_up()[:1]), "checkpoints-up")
    assert not c.met and c.met_at is None and c.waiting_for == ("cp_castello_2",)
    assert "cp_castello_2: no status report yet" in c.blocking


def test_a_removed_checkpoint_unmeets_the_condition_from_that_moment():
    rows = [*both_up(), checkpoint(CP1, "2016-09-16T08:00:00+03:00", "removed")]
    c = cond(evaluate(rows), "checkpoints-up")
    assert c.met_at == t("2016-09-14T09:00:00+03:00")
    assert not c.met and c.unmet_at == t("2016-09-16T08:00:00+03:00")
    assert "cp_castello_1: removed 2016-09-16T08:00:00+03:00" in c.blocking
    # Before the removal it held.
    assert cond(evaluate(rows, as_of="2016-09-16T07:59:00+03:00"), "checkpoints-up").met


def test_a_status_report_far_from_any_checkpoint_is_not_theirs():
    far = {**checkpoint(CP1, "2016-09-13T10:00:00+03:00", "established")}
    far.update(at(offset_from(CP1, 400)))
    assert cond(evaluate([far, *both_up()[1:]]), "checkpoints-up").waiting_for == ("cp_castello_1",)


# --- forces_withdrawn ----------------------------------------------------------------


def artillery_in_dmz(when):
    return {
        "observed_at": when,
        **at(offset_from(CASTELLO_ROAD, 300)),
        "event_type": "weapon_sighting",
        "weapon": "artillery",
        "actor": "SAA",
    }


@pytest.mark.parametrize(
    ("as_of", "met"),
    [("2016-09-18T18:59:59+03:00", False), ("2016-09-18T19:00:00+03:00", True)],
)
def test_forces_withdrawn_for_72h_after_the_deadline(as_of, met):
    assert cond(evaluate([], as_of=as_of), "withdrawn").met is met


def test_a_violation_after_the_deadline_restarts_the_72h():
    c = cond(evaluate([artillery_in_dmz("2016-09-17T10:00:00+03:00")]), "withdrawn")
    assert c.met_at == t("2016-09-20T10:00:00+03:00")


def test_forces_withdrawn_then_a_violation_unmeets_it():
    ev = evaluate(
        [artillery_in_dmz("2016-09-21T10:00:00+03:00")], as_of="2016-09-22T00:00:00+03:00"
    )
    c = cond(ev, "withdrawn")
    assert c.met_at == t("2016-09-18T19:00:00+03:00")
    assert not c.met and c.unmet_at == t("2016-09-21T10:00:00+03:00")


def test_a_sighting_before_the_deadline_does_not_count():
    c = cond(evaluate([artillery_in_dmz("2016-09-15T18:00:00+03:00")]), "withdrawn")
    assert c.met_at == t("2016-09-18T19:00:00+03:00")


# --- convoys_delivered ----------------------------------------------------------------


def convoy(when, status, distance_m=100):
    return {
        "observed_at": when,
        **at(offset_from(CASTELLO_ROAD, distance_m)),
        "event_type": "convoy_status",
        "notes": f"UN/SARC convoy {status}",
    }


def test_convoys_delivered_when_reported_delivered():
    rows = [
        convoy("2016-09-14T08:00:00+03:00", "departed"),
        convoy("2016-09-14T15:00:00+03:00", "delivered"),
    ]
    ev = evaluate(rows)
    assert cond(ev, "aid-in").met_at == t("2016-09-14T15:00:00+03:00")
    history = ev.extra["terms"].histories.convoy("un-aleppo-1")
    assert [(h.status, h.at) for h in history] == [
        ("departed", t("2016-09-14T08:00:00+03:00")),
        ("delivered", t("2016-09-14T15:00:00+03:00")),
    ]


def test_a_convoy_turned_back_is_not_delivered():
    ev = evaluate([convoy("2016-09-14T08:00:00+03:00", "turned back")])
    c = cond(ev, "aid-in")
    assert not c.met and "un-aleppo-1: turned back 2016-09-14T08:00:00+03:00" in c.blocking


def test_a_status_report_off_the_route_or_long_after_the_window_is_not_the_convoys():
    off = convoy("2016-09-14T15:00:00+03:00", "delivered", distance_m=1500)
    late = convoy("2016-09-18T15:00:00+03:00", "delivered")
    assert not cond(evaluate([off, late]), "aid-in").met


# --- composites ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "met_at"),
    [
        # checkpoints up before the other parts: met when the quiet week ends (20 Sep)
        ("2016-09-13T10:00:00+03:00", "2016-09-14T09:00:00+03:00", "2016-09-20T00:00:00+03:00"),
        # checkpoints up last: met then
        ("2016-09-13T10:00:00+03:00", "2016-09-21T09:00:00+03:00", "2016-09-21T09:00:00+03:00"),
    ],
)
def test_all_of_is_met_when_its_last_part_is_in_whatever_order(first, second, met_at):
    ev = evaluate(both_up(first, second))
    c = cond(ev, "next-phase")
    assert c.met and c.met_at == t(met_at)
    assert c.parts == ("quiet-week", "checkpoints-up", "withdrawn")
    assert phase(ev, "joint-centre").start == t(met_at)


def test_all_of_met_then_unmet_keeps_the_phase_it_started_and_says_what_it_waits_for():
    rows = [*both_up(), checkpoint(CP2, "2016-09-22T08:00:00+03:00", "removed")]
    ev = evaluate(rows)
    c = cond(ev, "next-phase")
    assert c.met_at == t("2016-09-20T00:00:00+03:00") and not c.met
    assert c.unmet_at == t("2016-09-22T08:00:00+03:00")
    assert c.waiting_for == ("checkpoints-up",)
    assert "Checkpoints set up (" in c.blocking
    assert phase(ev, "joint-centre").status == "active"  # a phase starts when first met


def test_all_of_not_met_lists_every_part_it_waits_for():
    c = cond(evaluate([], as_of="2016-09-17T00:00:00+03:00"), "next-phase")
    assert c.waiting_for == ("quiet-week", "checkpoints-up", "withdrawn")
    assert phase(evaluate([], as_of="2016-09-17T00:00:00+03:00"), "joint-centre").status == "never"


def test_any_of_is_met_by_its_first_part():
    rows = [
        convoy("2016-09-14T15:00:00+03:00", "delivered"),
        *both_up(second="2016-09-15T09:00:00+03:00"),
    ]
    c = cond(evaluate(rows), "any-sign")
    assert c.met_at == t("2016-09-14T15:00:00+03:00") and c.waiting_for == ()
    assert not cond(evaluate([]), "any-sign").met


def test_period_algebra():
    a = t("2016-09-01T00:00:00+00:00")
    h = timedelta(hours=1)
    assert intersect([(a, a + 3 * h)], [(a + h, None)]) == ((a + h, a + 3 * h),)
    assert intersect([(a, a + h)], [(a + h, None)]) == ()
    assert intersect([(a, None)], [(a + h, None)]) == ((a + h, None),)
    assert unite([(a + h, None), (a, a + 2 * h)]) == ((a, None),)
    assert unite([(a, a + h), (a + 2 * h, a + 3 * h)]) == ((a, a + h), (a + 2 * h, a + 3 * h))


# --- quiet_days: parties only, coverage ------------------------------------------------

ATTACKS = ("shelling", "airstrike", "armed_clash", "small_arms_fire", "atgm_attack")


def strikes(day, n, actor="SAA", target=""):
    return [
        {
            "observed_at": f"{day}T{(k // 5) * 7:02d}:00:00+03:00",
            **at(CITY),
            "event_type": ATTACKS[k % 5],
            "actor": actor,
            "target": target,
        }
        for k in range(n)
    ]


def test_parties_only_ignores_fighting_that_involves_an_excluded_group():
    rows = strikes("2016-09-15", 9, target="HTS") + strikes(
        "2016-09-16", 9, actor="HTS", target="FSA"
    )
    assert cond(evaluate(rows), "quiet-week").met_at == t("2016-09-20T00:00:00+03:00")


def test_parties_only_ignores_states_outside_the_agreement_but_counts_mutual_clashes():
    outside = strikes("2016-09-15", 9, actor="Government of Israel", target="SAA")
    assert cond(evaluate(outside), "quiet-week").met_at == t("2016-09-20T00:00:00+03:00")
    clashes = [r | {"direction": "mutual"} for r in strikes("2016-09-15", 6, target="FSA")]
    assert cond(evaluate(clashes), "quiet-week").met_at == t("2016-09-23T00:00:00+03:00")


def test_parties_only_still_counts_fighting_between_the_parties():
    c = cond(evaluate(strikes("2016-09-15", 6, target="FSA")), "quiet-week")
    assert c.met_at == t("2016-09-23T00:00:00+03:00")  # seven quiet days from 16 Sep


def test_quiet_week_met_then_broken_by_a_loud_day_at_its_sixth_incident():
    ev = evaluate(strikes("2016-09-21", 6, target="FSA"))
    c = cond(ev, "quiet-week")
    assert c.met_at == t("2016-09-20T00:00:00+03:00")
    assert c.unmet_at == t("2016-09-21T07:00:00+03:00")  # the 6th incident's time


def coverage_agreement():
    text = (FIXTURES / "agreements" / "terms-example.yaml").read_text()
    text = text.replace("count: parties_only,", "count: parties_only, coverage: [amman, hmeimim],")
    from truce.formats.agreement import parse_agreement

    return parse_agreement(text)


def test_a_condition_with_coverage_and_no_coverage_data_says_not_covered():
    ev = run([], as_of="2016-09-25T00:00:00+03:00", agreement=coverage_agreement())
    c = cond(ev, "quiet-week")
    assert c.met_at is None and c.blocking.startswith("not covered")


def test_coverage_counts_only_days_the_centres_bulletins_cover():
    from truce.domain.evaluate import evaluate as evaluate_fn
    from truce.domain.model import empty_reports

    a = coverage_agreement()
    start, end = t("2016-09-12T00:00:00+03:00"), t("2016-09-30T00:00:00+03:00")
    full = {"amman": [(start, end)], "hmeimim": [(start, end)]}
    gap = {"amman": [(start, end)], "hmeimim": [(start, t("2016-09-15T12:00:00+03:00")),
                                               (t("2016-09-15T14:00:00+03:00"), end)]}  # fmt: skip
    as_of = t("2016-09-25T00:00:00+03:00")
    met = evaluate_fn(a, empty_reports(), as_of=as_of, coverage=full)
    assert cond(met, "quiet-week").met_at == t("2016-09-20T00:00:00+03:00")
    broken = evaluate_fn(a, empty_reports(), as_of=as_of, coverage=gap)
    c = cond(broken, "quiet-week")
    assert c.met_at == t("2016-09-23T00:00:00+03:00")  # seven covered days from 16 Sep
    assert [d.covered for d in c.days][:4] == [True, True, False, True]


def test_conditions_stop_counting_when_the_agreement_ends():
    text = (FIXTURES / "agreements" / "terms-example.yaml").read_text()
    text = text.replace("parties:\n", "ends: {at: 2016-09-19T19:00:00+03:00}\nparties:\n", 1)
    from truce.formats.agreement import parse_agreement

    ev = run([], as_of="2016-09-30T00:00:00+03:00", agreement=parse_agreement(text))
    quiet = cond(ev, "quiet-week")
    assert quiet.met_at is None and len(quiet.days) == 7  # 13..19 Sep, the 19th not over
    assert phase(ev, "joint-centre").status == "never"
