"""Each rule kind: a case that violates, one that does not, and one at the exact boundary."""

from __future__ import annotations

import numpy as np
import pytest
from tests.geoms import ALEPPO_EAST, CASTELLO_ROAD, CP_CASTELLO_1, offset_from
from tests.scenario import at, run

CITY = (37.16117, 36.20124)  # Aleppo centre, inside the SPEC's east-aleppo polygon
DURING_CESSATION = "2016-09-13T04:10:00+03:00"


def kinds(ev) -> list[str]:
    return sorted(v.kind for v in ev.violations)


def shelling(**kw):
    return {
        "observed_at": DURING_CESSATION,
        **at(CITY),
        "event_type": "shelling",
        "actor": "Syrian Arab Army",
        **kw,
    }


# --- cease_attacks ---------------------------------------------------------------


def test_attack_by_party_during_cessation_is_charged_to_that_party():
    ev = run([shelling()])
    (v,) = ev.violations
    assert (v.kind, v.rule, v.party, v.status) == ("cease_attacks", "r-cease", "gov", "alleged")
    assert "shelling by gov during phase cessation" in v.evidence


@pytest.mark.parametrize(
    ("observed_at", "violates"),
    [
        ("2016-09-12T18:59:59+03:00", False),  # one second before the start
        ("2016-09-12T19:00:00+03:00", True),  # the start instant is inside the phase
        ("2016-09-12T16:00:00+00:00", True),  # the same instant written in UTC
        ("2016-09-12T15:59:00Z", False),
    ],
)
def test_cessation_starts_at_its_exact_instant_whatever_the_offset(observed_at, violates):
    ev = run([shelling(observed_at=observed_at)], as_of="2016-09-13T00:00:00+03:00")
    assert [v.kind for v in ev.violations] == (["cease_attacks"] if violates else [])


def test_attack_on_an_excluded_group_is_not_a_ceasefire_violation():
    ev = run([shelling(target="Jabhat Fatah al Sham")])
    assert ev.violations == []
    assert len(ev.incidents) == 1  # the incident stays visible


def test_attack_by_an_excluded_group_is_not_a_ceasefire_violation():
    ev = run([shelling(actor="HTS")])
    assert ev.violations == []


def test_attack_with_unknown_attacker_is_unattributed():
    (v,) = run([shelling(actor="")]).violations
    assert v.party == "unattributed"


def test_stated_side_wins_over_actor_name():
    (v,) = run([shelling(actor="someone", side="opp")]).violations
    assert v.party == "opp"


def test_attack_after_the_last_active_phase_is_not_a_violation():
    # extension ends 2016-09-16T19:00+03:00; joint-centre never starts (no quiet week)
    ev = run([shelling(observed_at="2016-09-16T19:00:00+03:00")])
    assert ev.violations == []
    ev = run([shelling(observed_at="2016-09-16T18:59:00+03:00")])
    assert [(v.kind, v.evidence.split("phase ")[-1]) for v in ev.violations] == [
        ("cease_attacks", "extension")
    ]


# --- no_territorial_gain --------------------------------------------------------------


def test_ground_advance_during_a_phase_is_a_violation_and_not_outside():
    rows = [
        {
            "observed_at": "2016-09-15T10:00:00+03:00",
            **at(CITY),
            "event_type": "ground_advance",
            "actor": "FSA",
        },
        {
            "observed_at": "2016-09-10T10:00:00+03:00",
            **at(CITY),
            "event_type": "ground_advance",
            "actor": "FSA",
        },
    ]
    ev = run(rows)
    assert [(v.kind, v.party) for v in ev.violations] == [("no_territorial_gain", "opp")]


# --- withdrawal --------------------------------------------------------------


def sighting(distance_m, weapon="artillery", when="2016-09-16T08:00:00+03:00", actor="SAA", **kw):
    return {
        "observed_at": when,
        **at(offset_from(CASTELLO_ROAD, distance_m, side=-1)),
        "event_type": "weapon_sighting",
        "weapon": weapon,
        "actor": actor,
        **kw,
    }


def test_heavy_weapon_inside_withdrawal_distance_is_a_violation_with_measured_distance():
    (v,) = [v for v in run([sighting(1240)]).violations if v.kind == "withdrawal"]
    assert v.party == "gov"
    assert v.measured_m == pytest.approx(1240, abs=1)
    assert v.evidence.startswith(
        "artillery of gov 1,240 m from castello_road after 2016-09-15T19:00+03:00"
    )
    assert "minimum 3,500 m" in v.evidence


@pytest.mark.parametrize(("distance_m", "violates"), [(3499, True), (3501, False), (5000, False)])
def test_withdrawal_distance_boundary(distance_m, violates):
    ev = run([sighting(distance_m)])
    assert ("withdrawal" in kinds(ev)) is violates


def test_each_weapon_class_has_its_own_distance():
    assert "withdrawal" in kinds(run([sighting(2000, weapon="heavy_vehicle")]))
    assert "withdrawal" not in kinds(run([sighting(2600, weapon="apc")]))
    assert "withdrawal" in kinds(run([sighting(2400, weapon="apc")]))
    assert "withdrawal" not in kinds(run([sighting(1100, weapon="personnel")]))


def test_sighting_at_the_deadline_itself_is_not_yet_a_violation():
    assert "withdrawal" not in kinds(run([sighting(1240, when="2016-09-15T19:00:00+03:00")]))
    assert "withdrawal" in kinds(run([sighting(1240, when="2016-09-15T19:00:01+03:00")]))


def test_other_partys_weapons_are_not_bound_by_this_withdrawal():
    assert "withdrawal" not in kinds(run([sighting(1240, actor="FSA")]))


# --- demilitarised --------------------------------------------------------------


@pytest.mark.parametrize(
    ("distance_m", "violates"), [(500, True), (999, True), (1001, False), (1500, False)]
)
def test_weapon_inside_demilitarised_zone_by_anyone(distance_m, violates):
    ev = run([sighting(distance_m, weapon="mortar", actor="FSA")])
    found = [v for v in ev.violations if v.kind == "demilitarised"]
    assert bool(found) is violates
    if found:
        assert found[0].party == "opp" and found[0].zone == "castello-dmz"


def test_demilitarised_zone_applies_only_from_its_start():
    assert "demilitarised" not in kinds(
        run([sighting(500, weapon="mortar", when="2016-09-15T18:59:00+03:00")])
    )


def test_unlisted_weapon_class_in_zone_is_allowed():
    assert "demilitarised" not in kinds(run([sighting(500, weapon="small_arms")]))


# --- checkpoint_limit ------------------------------------------------------------


def checkpoint(count, distance_m=50, side="gov"):
    return {
        "observed_at": "2016-09-14T09:00:00+03:00",
        **at(offset_from(CP_CASTELLO_1, distance_m)),
        "event_type": "checkpoint_observation",
        "count": count,
        "side": side,
    }


@pytest.mark.parametrize(
    ("count", "distance_m", "violates"),
    [(25, 50, True), (21, 249, True), (20, 50, False), (25, 260, False)],
)
def test_checkpoint_limit(count, distance_m, violates):
    found = [
        v for v in run([checkpoint(count, distance_m)]).violations if v.kind == "checkpoint_limit"
    ]
    assert bool(found) is violates
    if found:
        assert found[0].party == "gov"
        assert f"{count} armed personnel of gov at cp_castello_1" in found[0].evidence


# --- humanitarian_access -----------------------------------------------------------


@pytest.mark.parametrize(
    ("observed_at", "violates"),
    [
        ("2016-09-12T18:00:00+03:00", False),
        ("2016-09-12T19:00:00+03:00", True),
        ("2016-09-25T10:00:00+03:00", True),
    ],
)
def test_convoy_obstruction_any_time_agreement_is_in_force(observed_at, violates):
    row = {
        "observed_at": observed_at,
        **at(CITY),
        "event_type": "convoy_obstruction",
        "actor": "NDF",
    }
    assert ("humanitarian_access" in kinds(run([row]))) is violates


def test_attack_on_humanitarians_by_excluded_group_is_still_flagged():
    row = {
        "observed_at": DURING_CESSATION,
        **at(CITY),
        "event_type": "attack_on_humanitarian",
        "actor": "Nusra",
    }
    assert kinds(run([row])) == ["humanitarian_access"]


# --- no_fly (needs the quiet week, so joint-centre starts) ---------------------------------


def test_airstrike_in_no_fly_zone_once_joint_centre_starts():
    # No violent incidents at all: counting starts when cessation ends (14 Sep 19:00),
    # the first whole day is 15 Sep, seven quiet days end 22 Sep 00:00 +03:00.
    inside = ALEPPO_EAST.centroid
    strike = {
        "event_type": "airstrike",
        "lon": inside.x,
        "lat": inside.y,
        "actor": "Syrian Air Force",
    }
    ev = run(
        [{**strike, "observed_at": "2016-09-23T10:00:00+03:00"}], as_of="2016-09-30T00:00:00+03:00"
    )
    assert "no_fly" in kinds(ev)
    joint = next(p for p in ev.phases if p.id == "joint-centre")
    assert joint.start.isoformat() == "2016-09-22T00:00:00+03:00"
    # The same strike outside the zone breaks the ceasefire but not the no-fly rule.
    out = offset_from(CASTELLO_ROAD, 5000)
    ev = run([{**strike, "lon": out[0], "lat": out[1], "observed_at": "2016-09-23T10:00:00+03:00"}])
    assert kinds(ev) == ["cease_attacks"]


def test_violations_read_like_a_list_of_violation_objects():
    ev = run([shelling(), shelling(observed_at="2016-09-13T22:00:00+03:00", actor="FSA")])
    listed = list(ev.violations)
    assert ev.violations == listed and len(ev.violations) == 2
    assert [v.id for v in listed] == ["v-1", "v-2"] == ev.violations.ids
    assert ev.violations[-1] == listed[1] and ev.violations[:1] == listed[:1]
    assert listed[0].at.isoformat() == DURING_CESSATION  # in the agreement's timezone
    assert (listed[1].party, listed[1].measured_m, listed[1].zone) == ("opp", None, None)
    with pytest.raises(IndexError):
        ev.violations[2]


def test_evidence_is_composed_once_per_distinct_combination_of_words():
    from truce.domain.words import Words, compose

    n = 1000
    rng = np.random.default_rng(1)
    big = Words(rng.integers(0, 997, n), [f"w{k}" for k in range(997)])
    small = Words(rng.integers(0, 3, n), ["a", "b", "c"])
    # Together more combinations than an int64 code could count: they are renumbered.
    many = [Words(rng.integers(0, 50_000, n), [str(k) for k in range(50_000)]) for _ in range(3)]
    got = compose(n, "<", big, "|", small, *many, ">")
    expected = [
        "<" + big.texts[b] + "|" + small.texts[s] + "".join(w.texts[w.codes[i]] for w in many) + ">"
        for i, (b, s) in enumerate(zip(big.codes, small.codes, strict=True))
    ]
    assert got.tolist() == expected
    assert compose(3, "only ", "constants").tolist() == ["only constants"] * 3
    assert compose(0, "x", small.take(np.array([], dtype=np.int64))).tolist() == []
