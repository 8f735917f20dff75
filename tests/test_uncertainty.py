"""Verdicts under uncertainty (SPEC §5): every rule's tests against the incident's whole
location radius and time window, and who is involved and charged."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString
from tests.geoms import ALEPPO_EAST, CASTELLO_ROAD, CP_CASTELLO_1, offset_from
from tests.scenario import SPEC_AGREEMENT, at, run

from truce.domain.uncertainty import Verdict, during, within_m
from truce.formats.agreement import parse_agreement
from truce.formats.evaluation_json import evaluation_to_dict

# The SPEC example, with rules that look at space and time in every way a rule kind can.
RULES = """
rules:
  - {id: r-cease, kind: cease_attacks, phases: [cessation, extension], zones: [castello-dmz]}
  - {id: r-gain, kind: no_territorial_gain, phases: [cessation], zones: [castello-dmz]}
  - id: r-withdraw
    kind: withdrawal
    party: gov
    from_feature: castello_road
    deadline: 2016-09-15T19:00:00+03:00
    min_distance_m: {artillery: 3500}
  - {id: r-dmz, kind: demilitarised, zone: castello-dmz, from: 2016-09-15T19:00:00+03:00, weapons: [artillery]}
  - {id: r-nofly, kind: no_fly, zone: east-aleppo, party: gov, phases: [cessation]}
  - {id: r-cp, kind: checkpoint_limit, checkpoint: cp_castello_1, max_armed_per_side: 20}
  - {id: r-aid, kind: humanitarian_access, phases: [cessation]}
"""


def agreement(extra: str = ""):
    text = SPEC_AGREEMENT.read_text(encoding="utf-8")
    head = text[: text.index("rules:")]
    return parse_agreement(head + extra + RULES)


AGREEMENT = agreement()
IN_CESSATION = "2016-09-13T04:10:00+03:00"
AFTER_DEADLINE = "2016-09-16T04:10:00+03:00"
CITY = (37.185, 36.205)  # the middle of east-aleppo
SOUTH_EDGE = LineString(ALEPPO_EAST.exterior.coords[:2])  # west to east: its left is inside


def row(kind: str, distance_m: float, precision_m: float, **kw) -> dict:
    """A report of the kind each rule looks at, `distance_m` from what the rule measures."""
    base = {"location_precision_m": precision_m, **kw}
    if kind == "cease_attacks":
        where = offset_from(CASTELLO_ROAD, distance_m)
        return {
            "observed_at": IN_CESSATION,
            **at(where),
            "event_type": "shelling",
            "actor": "SAA",
            **base,
        }
    if kind == "no_territorial_gain":
        where = offset_from(CASTELLO_ROAD, distance_m)
        return {
            "observed_at": IN_CESSATION,
            **at(where),
            "event_type": "ground_advance",
            "actor": "SAA",
            **base,
        }
    if kind in ("withdrawal", "demilitarised"):
        where = offset_from(CASTELLO_ROAD, distance_m)
        return {"observed_at": AFTER_DEADLINE, **at(where), "event_type": "weapon_sighting",
                "weapon": "artillery", "actor": "SAA", **base}  # fmt: skip
    if kind == "checkpoint_limit":
        where = offset_from(CP_CASTELLO_1, distance_m)
        return {"observed_at": IN_CESSATION, **at(where), "event_type": "checkpoint_observation",
                "side": "gov", "count": 40, **base}  # fmt: skip
    if kind == "no_fly":
        # distance_m outside east-aleppo's southern edge (negative: inside it)
        where = offset_from(SOUTH_EDGE, abs(distance_m), side=1 if distance_m < 0 else -1)
        return {
            "observed_at": IN_CESSATION,
            **at(where),
            "event_type": "airstrike",
            "actor": "SAA",
            **base,
        }
    raise AssertionError(kind)


def certainty(ev, kind: str) -> str | None:
    found = [v for v in ev.violations if v.kind == kind]
    assert len(found) <= 1
    return found[0].certainty if found else None


# (kind, inside, straddling, outside): distances from what the rule measures, in metres,
# with a 100 m location radius for "inside"/"outside" and a wide one for "straddling".
SPACE = [
    ("cease_attacks", 500, 700, 3000),  # castello-dmz: 1,000 m either side of the road
    ("no_territorial_gain", 500, 700, 3000),
    ("withdrawal", 1000, 3000, 6000),  # artillery 3,500 m from the road
    ("demilitarised", 500, 700, 3000),
    ("checkpoint_limit", 100, 200, 1000),  # 250 m round the checkpoint
]


@pytest.mark.parametrize(("kind", "inside", "straddling", "outside"), SPACE)
def test_location_wholly_inside_straddling_or_outside_gives_certain_possible_none(
    kind, inside, straddling, outside
):
    assert certainty(run([row(kind, inside, 50)], agreement=AGREEMENT), kind) == "certain"
    ev = run([row(kind, straddling, 1500)], agreement=AGREEMENT)
    assert certainty(ev, kind) == "possible"
    (v,) = [v for v in ev.violations if v.kind == kind]
    assert "location ±1,500 m" in v.evidence
    assert certainty(run([row(kind, outside, 50)], agreement=AGREEMENT), kind) is None


def test_a_polygon_zone_is_certain_only_deeper_inside_than_the_location_radius():
    assert certainty(run([row("no_fly", -1500, 100)], agreement=AGREEMENT), "no_fly") == "certain"
    assert certainty(run([row("no_fly", -500, 1000)], agreement=AGREEMENT), "no_fly") == "possible"
    assert certainty(run([row("no_fly", 500, 1000)], agreement=AGREEMENT), "no_fly") == "possible"
    assert certainty(run([row("no_fly", 3000, 1000)], agreement=AGREEMENT), "no_fly") is None


# Time windows around the instant each rule starts to apply: the cessation's start
# (2016-09-12T19:00+03:00) or the withdrawal deadline (2016-09-15T19:00+03:00).
CESSATION, DEADLINE = "2016-09-12T19:00:00+03:00", "2016-09-15T19:00:00+03:00"
TIME = {
    "cease_attacks": CESSATION,
    "no_territorial_gain": CESSATION,
    "no_fly": CESSATION,
    "humanitarian_access": CESSATION,
    "withdrawal": DEADLINE,
    "demilitarised": DEADLINE,
}


def timed_row(kind: str) -> dict:
    if kind == "no_fly":
        return row(kind, -1500, 50)
    if kind == "humanitarian_access":
        return {**at(CITY), "event_type": "attack_on_humanitarian", "actor": "SAA"}
    return row(kind, 100, 50)


@pytest.mark.parametrize("kind", sorted(TIME))
@pytest.mark.parametrize(
    ("start_h", "end_h", "expected"),
    [(1, 7, "certain"), (-12, -1, None), (-6, 6, "possible")],
)
def test_time_window_wholly_after_straddling_or_before_the_start(kind, start_h, end_h, expected):
    t = datetime.fromisoformat(TIME[kind])
    window = {
        "observed_at": (t + timedelta(hours=start_h)).isoformat(),
        "observed_to": (t + timedelta(hours=end_h)).isoformat(),
    }
    ev = run([timed_row(kind) | window], agreement=AGREEMENT)
    assert certainty(ev, kind) == expected
    if expected == "possible":
        (v,) = [v for v in ev.violations if v.kind == kind]
        assert "time 2016-09-1" in v.evidence


def test_a_window_across_two_listed_phases_that_follow_each_other_is_certain():
    # cessation ends and extension begins at 2016-09-14T19:00+03:00: both listed.
    ev = run(
        [
            row(
                "cease_attacks",
                100,
                50,
                observed_at="2016-09-14T17:00:00+03:00",
                observed_to="2016-09-14T21:00:00+03:00",
            )
        ],
        agreement=AGREEMENT,
    )
    assert certainty(ev, "cease_attacks") == "certain"


# --- who is involved, who is charged ---------------------------------------------


def clash(actor: str, target: str, direction: str = "mutual") -> dict:
    return {
        "observed_at": IN_CESSATION,
        **at(offset_from(CASTELLO_ROAD, 100)),
        "event_type": "armed_clash",
        "actor": actor,
        "target": target,
        "direction": direction,
    }


def test_a_mutual_clash_between_two_parties_involves_both_and_charges_neither():
    (v,) = run([clash("SAA", "FSA")], agreement=AGREEMENT).violations
    assert (v.party, v.involved, v.certainty) == ("unattributed", ("gov", "opp"), "certain")
    assert "between gov and opp" in v.evidence


def test_an_attack_names_the_attacker_and_involves_the_target():
    (v,) = run([clash("SAA", "FSA", "attack")], agreement=AGREEMENT).violations
    assert (v.party, v.involved) == ("gov", ("gov", "opp"))


@pytest.mark.parametrize(
    ("actor", "target"),
    [
        ("SAA", "HTS"),
        ("HTS", "FSA"),
        ("SAA", "Government of Israel"),
        ("Government of Iran", "Government of Israel"),
    ],
)
def test_fighting_an_excluded_group_or_a_state_outside_the_agreement_is_no_violation(actor, target):
    ev = run([clash(actor, target)], agreement=AGREEMENT)
    assert ev.violations == []
    assert len(ev.incidents) == 1  # listed all the same


def test_a_mixed_side_is_only_a_possible_violation_kept_for_review():
    (v,) = run([clash("FSA, HTS", "SAA", "attack")], agreement=AGREEMENT).violations
    assert (v.party, v.certainty) == ("opp", "possible")
    assert v.involved == ("gov", "nusra", "opp")
    assert "names both opp and excluded nusra" in v.evidence


def test_names_the_agreement_does_not_list_are_quoted_in_the_evidence():
    (v,) = run([clash("al-Bakkara clan", "al-Sultan clan")], agreement=AGREEMENT).violations
    assert v.party == "unattributed"
    assert "'al-Bakkara clan' (not named in the agreement)" in v.evidence


# --- agreement area and end ------------------------------------------------------


def test_nothing_is_a_violation_outside_the_area_or_after_the_end():
    scoped = agreement("area: aleppo_east\nends: {at: 2016-09-14T00:00:00+03:00, source: test}\n")

    def attack(lonlat, when, precision=50.0, to=None):
        r = {"observed_at": when, **at(lonlat), "event_type": "airstrike", "actor": "SAA",
             "location_precision_m": precision}  # fmt: skip
        return r | ({"observed_to": to} if to else {})

    inside, outside = CITY, offset_from(SOUTH_EDGE, 20_000, side=-1)
    assert certainty(run([attack(inside, IN_CESSATION)], agreement=scoped), "cease_attacks") is None
    # (r-cease is scoped to castello-dmz here; the no-fly rule has the city in it)
    assert certainty(run([attack(inside, IN_CESSATION)], agreement=scoped), "no_fly") == "certain"
    assert certainty(run([attack(outside, IN_CESSATION)], agreement=scoped), "no_fly") is None
    late = "2016-09-14T01:00:00+03:00"
    assert certainty(run([attack(inside, late)], agreement=scoped), "no_fly") is None
    ev = run([attack(inside, "2016-09-13T22:00:00+03:00", to="2016-09-14T02:00:00+03:00")],
             agreement=scoped)  # fmt: skip
    assert certainty(ev, "no_fly") == "possible"
    assert "after the agreement's end" in ev.violations[0].evidence
    assert evaluation_to_dict(ev)["ended"] == "2016-09-14T00:00:00+03:00"


# --- curated datasets --------------------------------------------------------------


def ucdp(k: int, lonlat, when: str, fatalities: int) -> dict:
    return {"report_id": f"u-{k}", "source": "ucdp-ged", "dataset": "ucdp-ged",
            "observed_at": when, **at(lonlat), "event_type": "shelling", "actor": "SAA",
            "fatalities": fatalities, "location_precision_m": 1000}  # fmt: skip


def test_two_events_of_one_dataset_stay_two_incidents_and_their_deaths_add_up():
    a = offset_from(CASTELLO_ROAD, 100)
    b = offset_from(CASTELLO_ROAD, 1100)  # 1 km away, an hour later
    ev = run([ucdp(1, a, IN_CESSATION, 3), ucdp(2, b, "2016-09-13T05:10:00+03:00", 4)])
    assert len(ev.incidents) == 2
    assert sorted(ev.incidents.fatalities.tolist()) == [3.0, 4.0]


def test_a_dataset_event_and_a_news_report_of_it_merge_with_a_casualty_range():
    a = offset_from(CASTELLO_ROAD, 100)
    news = {"report_id": "n-1", "source": "news", "observed_at": "2016-09-13T06:00:00+03:00",
            **at(offset_from(CASTELLO_ROAD, 400)), "event_type": "shelling", "actor": "SAA",
            "fatalities": 5}  # fmt: skip
    ev = run([ucdp(1, a, IN_CESSATION, 3), news])
    assert len(ev.incidents) == 1
    inc = ev.incidents
    assert (inc.fatalities_low[0], inc.fatalities[0], inc.fatalities_high[0]) == (3.0, 5.0, 5.0)
    assert inc.datasets[0] == "ucdp-ged" and inc.corroboration[0] == 2


# --- properties ----------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    d=st.floats(0, 10_000),
    m1=st.floats(0, 5_000),
    extra=st.floats(0, 5_000),
    limit=st.floats(1, 5_000),
)
def test_more_location_uncertainty_never_makes_a_verdict_certain(d, m1, extra, limit):
    narrow = within_m(np.array([d]), np.array([m1]), limit)
    wide = within_m(np.array([d]), np.array([m1 + extra]), limit)
    assert not (wide.certain[0] and not narrow.certain[0])
    assert not (narrow.possible[0] and not wide.possible[0])  # what may hold still may


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(-100, 100),
    length=st.integers(0, 100),
    grow=st.integers(0, 50),
    phase=st.tuples(st.integers(-100, 100), st.integers(1, 100)),
)
def test_a_wider_time_window_never_makes_a_verdict_certain(start, length, grow, phase):
    def v(first: int, last: int) -> Verdict:
        t = np.datetime64("2016-09-12T00:00", "h")
        p0 = t + np.timedelta64(phase[0], "h")
        return during(
            np.array([t + np.timedelta64(first, "h")]),
            np.array([t + np.timedelta64(last, "h")]),
            [(p0, p0 + np.timedelta64(phase[1], "h"))],
        )

    narrow, wide = v(start, start + length), v(start - grow, start + length + grow)
    assert not (wide.certain[0] and not narrow.certain[0])
    assert not (narrow.possible[0] and not wide.possible[0])


def test_the_order_of_the_input_changes_nothing():
    rows = [
        row(kind, dist, prec)
        for kind, *ds in SPACE
        for dist, prec in zip(ds, (50, 1500, 50), strict=False)
    ]
    rows += [clash("SAA", "FSA"), clash("FSA, HTS", "SAA", "attack")]
    rows = [{"report_id": f"x-{k}", **r} for k, r in enumerate(rows)]

    def verdicts(rs):
        ev = run(rs, agreement=AGREEMENT)
        return sorted(
            (v.rule, v.party, v.certainty, ev.incidents.anchor[v.incident], v.evidence)
            for v in ev.violations
        )

    expected = verdicts(rows)
    for seed in range(3):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        assert verdicts(shuffled) == expected
