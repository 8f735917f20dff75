"""The timeline: phase states and the quiet-days condition, respecting as_of."""

from __future__ import annotations

from tests.scenario import at, run

CITY = (37.16117, 36.20124)  # inside east-aleppo


ATTACKS = ("shelling", "airstrike", "armed_clash", "small_arms_fire", "atgm_attack")


def strikes_on(day: str, n: int, where: tuple[float, float] = CITY) -> list[dict]:
    """`n` distinct violent incidents on one local day: different attack types at one place,
    and a new round every 7 hours, so consolidation keeps them apart."""
    return [
        {
            "observed_at": f"{day}T{(k // len(ATTACKS)) * 7:02d}:00:00+03:00",
            **at(where),
            "event_type": ATTACKS[k % len(ATTACKS)],
            "actor": "SAA",
        }
        for k in range(n)
    ]


def phase(ev, pid):
    return next(p for p in ev.phases if p.id == pid)


def test_spec_example_timeline_at_20_september():
    ev = run(strikes_on("2016-09-19", 9), as_of="2016-09-20T00:00:00+03:00")
    assert [(p.id, p.status) for p in ev.phases] == [
        ("cessation", "ended"),
        ("extension", "ended"),
        ("joint-centre", "never"),
    ]
    c = phase(ev, "cessation")
    assert (c.start.isoformat(), c.end.isoformat()) == (
        "2016-09-12T19:00:00+03:00",
        "2016-09-14T19:00:00+03:00",
    )
    assert phase(ev, "extension").start == c.end
    (cond,) = ev.conditions
    assert cond.met_at is None
    assert "0 of 7" in cond.blocking and "2016-09-19 with 9 incidents" in cond.blocking


def test_phase_states_before_during_after():
    assert phase(run([], as_of="2016-09-12T18:00:00+03:00"), "cessation").status == "pending"
    assert phase(run([], as_of="2016-09-13T18:00:00+03:00"), "cessation").status == "active"
    assert phase(run([], as_of="2016-09-13T18:00:00+03:00"), "extension").status == "pending"
    assert phase(run([], as_of="2016-09-15T18:00:00+03:00"), "extension").status == "active"


def test_quiet_week_met_exactly_after_seven_whole_quiet_days():
    # Five incidents a day is still quiet (max_incidents 5); counting from 15 Sep.
    rows = [r for d in range(15, 22) for r in strikes_on(f"2016-09-{d}", 5)]
    ev = run(rows, as_of="2016-09-22T00:00:00+03:00")
    (cond,) = ev.conditions
    assert cond.met_at.isoformat() == "2016-09-22T00:00:00+03:00"
    assert phase(ev, "joint-centre").status == "active"
    # One minute earlier the seventh day has not ended: not met, and the phase is never (yet).
    ev = run(rows, as_of="2016-09-21T23:59:00+03:00")
    assert ev.conditions[0].met_at is None
    assert phase(ev, "joint-centre").status == "never"


def test_a_sixth_incident_breaks_the_streak():
    rows = [r for d in range(15, 22) for r in strikes_on(f"2016-09-{d}", 5)] + strikes_on(
        "2016-09-18", 6
    )[5:]
    ev = run(rows, as_of="2016-09-23T00:00:00+03:00")
    (cond,) = ev.conditions
    assert cond.met_at is None
    assert cond.streak_days == 4  # 19, 20, 21, 22 Sep


def test_only_incidents_in_the_conditions_zones_count():
    far = (37.10, 36.27)  # west end of Castello Road, outside east-aleppo
    rows = [r for d in range(15, 22) for r in strikes_on(f"2016-09-{d}", 10, where=far)]
    ev = run(rows, as_of="2016-09-22T00:00:00+03:00")
    assert len(ev.incidents) == 70
    assert ev.conditions[0].met_at is not None
    assert (
        run(rows + strikes_on("2016-09-18", 6), as_of="2016-09-22T00:00:00+03:00")
        .conditions[0]
        .met_at
        is None
    )


def test_days_are_local_calendar_days():
    # 23:30 +03:00 on the 15th is 20:30 UTC: it belongs to the local 15th, not the 16th.
    rows = [
        {
            "observed_at": "2016-09-15T20:30:00+00:00",
            **at(CITY),
            "event_type": "shelling",
            "actor": "SAA",
        }
        for _ in range(1)
    ] + strikes_on("2016-09-15", 5)
    ev = run(rows, as_of="2016-09-17T00:00:00+03:00")
    day15 = next(d for d in ev.conditions[0].days if d.day.isoformat() == "2016-09-15")
    assert day15.incidents == 6 and not day15.quiet


def test_reports_after_as_of_are_not_used():
    rows = strikes_on("2016-09-13", 10)  # rounds at 00:00 and 07:00
    ev = run(rows, as_of="2016-09-13T06:59:59+03:00")
    assert (len(ev.reports), len(ev.violations)) == (5, 5)
    assert len(run(rows, as_of="2016-09-13T07:00:00+03:00").violations) == 10
