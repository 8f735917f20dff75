"""protected_sites, convoy_safety and commitments: violating, not violating, at the boundary
(distance, window edges, notification time, commitment time)."""

from __future__ import annotations

import pytest
from shapely.geometry import Point
from tests.geoms import CASTELLO_ROAD, offset_from
from tests.scenario import FIXTURES, at, run

from truce.formats.agreement import load_agreement

TERMS = load_agreement(FIXTURES / "agreements" / "terms-example.yaml")
HOSPITAL = Point(37.18, 36.21)
POST = Point(36.70, 35.80)
DURING = "2016-09-13T04:10:00+03:00"  # cessation active; the convoy's window not yet open
IN_WINDOW = "2016-09-15T10:00:00+03:00"


def evaluate(rows, as_of="2016-09-25T00:00:00+03:00"):
    return run(rows, as_of=as_of, agreement=TERMS)


def attack(where, when=DURING, **kw):
    return {"observed_at": when, **at(where), "event_type": "shelling", "actor": "SAA", **kw}


def by_rule(ev, rule):
    return [v for v in ev.violations if v.rule == rule]


# --- protected_sites -----------------------------------------------------------------


def test_attack_near_a_notified_site_is_charged_to_the_attacker_with_site_and_distance():
    ev = evaluate([attack(offset_from(HOSPITAL, 200))])
    (v,) = by_rule(ev, "r-sites")
    assert (v.kind, v.party) == ("protected_sites", "gov")
    assert (
        "200 m from protected site hosp-1 (medical, notified 2016-09-10T10:00+03:00" in v.evidence
    )
    assert "via OCHA" in v.evidence and "protected within 300 m" in v.evidence
    assert v.measured_m == pytest.approx(200, abs=1)


@pytest.mark.parametrize(("distance_m", "violates"), [(299.5, True), (300.5, False), (2000, False)])
def test_protected_radius_is_inclusive(distance_m, violates):
    ev = evaluate([attack(offset_from(HOSPITAL, distance_m))])
    assert bool(by_rule(ev, "r-sites")) is violates


@pytest.mark.parametrize(
    ("when", "violates"),
    [
        ("2016-09-10T09:59:59+03:00", False),  # not yet notified
        ("2016-09-10T10:00:00+03:00", True),  # the notification instant
        ("2016-09-10T07:00:00Z", True),  # the same instant in UTC
    ],
)
def test_an_attack_on_a_site_not_yet_notified_is_not_a_violation(when, violates):
    ev = evaluate([attack(offset_from(HOSPITAL, 50), when=when)])
    assert bool(by_rule(ev, "r-sites")) is violates
    assert len(ev.incidents) == 1  # listed either way


def test_attack_on_an_excluded_group_near_a_site_stays_listed_but_is_no_violation():
    ev = evaluate([attack(offset_from(HOSPITAL, 50), target="HTS")])
    assert by_rule(ev, "r-sites") == [] and len(ev.incidents) == 1


def test_a_declared_position_without_a_notification_time_is_protected_once_in_force():
    before = evaluate([attack(offset_from(POST, 100), when="2016-09-12T18:00:00+03:00")])
    after = evaluate([attack(offset_from(POST, 100), when="2016-09-12T19:00:00+03:00")])
    assert by_rule(before, "r-sites") == []
    (v,) = by_rule(after, "r-sites")
    assert "protected site op-9 (observation_post, declared by TR)" in v.evidence


# --- convoy_safety -----------------------------------------------------------------


def obstruction(distance_m, when=IN_WINDOW, **kw):
    return {
        "observed_at": when,
        **at(offset_from(CASTELLO_ROAD, distance_m)),
        "event_type": "convoy_obstruction",
        "actor": "SAA",
        **kw,
    }


def test_obstruction_on_the_route_in_the_window_is_a_convoy_safety_violation():
    ev = evaluate([obstruction(500)])
    (v,) = by_rule(ev, "r-convoy")
    assert (v.kind, v.party) == ("convoy_safety", "gov")
    assert "500 m from the route of convoy un-aleppo-1 (UN/SARC) during its window" in v.evidence
    assert "2016-09-14T06:00+03:00 to 2016-09-16T18:00+03:00" in v.evidence


@pytest.mark.parametrize(
    ("when", "violates"),
    [
        ("2016-09-14T05:59:59+03:00", False),
        ("2016-09-14T06:00:00+03:00", True),  # window edges are included
        ("2016-09-16T18:00:00+03:00", True),
        ("2016-09-16T18:00:01+03:00", False),
        ("2016-09-18T10:00:00+03:00", False),  # obstructed outside its window
    ],
)
def test_convoy_window_edges(when, violates):
    ev = evaluate([obstruction(200, when=when)])
    assert bool(by_rule(ev, "r-convoy")) is violates


@pytest.mark.parametrize(("distance_m", "violates"), [(999.5, True), (1000.5, False)])
def test_convoy_corridor_is_inclusive(distance_m, violates):
    assert bool(by_rule(evaluate([obstruction(distance_m)]), "r-convoy")) is violates


def test_attacks_near_the_route_in_the_window_link_to_the_convoy():
    ev = evaluate([obstruction(200), attack(offset_from(CASTELLO_ROAD, 800), when=IN_WINDOW)])
    linked = ev.extra["terms"].convoy_incidents["un-aleppo-1"]
    assert len(linked) == 2
    later = evaluate([attack(offset_from(CASTELLO_ROAD, 800), when="2016-09-20T10:00:00+03:00")])
    assert len(later.extra["terms"].convoy_incidents["un-aleppo-1"]) == 0


# --- commitments ---------------------------------------------------------------------

CITY = (37.16117, 36.20124)


def group_attack(group, when):
    return attack(CITY, when=when, actor=group)


@pytest.mark.parametrize(
    ("when", "charged"),
    [
        ("2016-09-12T19:30:00+03:00", False),  # in the cessation, before it accepted
        ("2016-09-12T20:00:00+03:00", True),  # the acceptance instant
        ("2016-09-13T10:00:00+03:00", True),
    ],
)
def test_a_group_is_bound_from_the_moment_it_accepted(when, charged):
    ev = evaluate([group_attack("Jaysh al-Islam", when)])
    assert [v.party for v in by_rule(ev, "r-cease")] == (["opp"] if charged else [])
    aside = ev.extra["terms"].not_charged
    assert len(aside) == (0 if charged else 1)
    if not charged:
        (nc,) = aside
        assert (nc.rule, nc.group, nc.party) == ("r-cease", "Jaysh al-Islam", "opp")
        assert "not charged to opp: Jaysh al-Islam had not yet accepted the terms" in nc.evidence
        assert len(ev.incidents) == 1  # listed and visible


def test_a_group_that_declined_is_never_charged_and_the_evidence_says_why():
    ev = evaluate([group_attack("Ahrar al-Sham", DURING)])
    assert by_rule(ev, "r-cease") == []
    (nc,) = ev.extra["terms"].not_charged
    assert "Ahrar al-Sham declined the terms on 2016-09-12T11:00+03:00" in nc.evidence


@pytest.mark.parametrize(
    ("when", "charged"),
    [("2016-09-14T11:59:59+03:00", True), ("2016-09-14T12:00:00+03:00", False)],
)
def test_a_group_that_withdrew_is_not_bound_from_then(when, charged):
    ev = evaluate([group_attack("Faylaq al-Sham", when)])
    assert bool(by_rule(ev, "r-cease")) is charged
    if not charged:
        assert "withdrew from the terms on 2016-09-14T12:00+03:00" in (
            ev.extra["terms"].not_charged[0].evidence
        )


@pytest.mark.parametrize(
    "actor", ["Ahrar al-Sham, Jaysh al-Islam", "Jaysh al-Islam; Government of Turkey"]
)
def test_an_actor_list_takes_the_first_registered_group_it_names(actor):
    ev = evaluate([group_attack(actor, DURING)])  # both named: Jaysh al-Islam is first
    assert [v.party for v in by_rule(ev, "r-cease")] == ["opp"]
    assert ev.extra["terms"].not_charged == []


def test_groups_outside_the_registry_are_bound_as_their_party_is():
    ev = evaluate([group_attack("Free Syrian Army", DURING)])
    assert [v.party for v in by_rule(ev, "r-cease")] == ["opp"]
    assert ev.extra["terms"].not_charged == []


# --- the evaluation object -----------------------------------------------------------


def test_the_evaluation_object_carries_the_terms_and_never_the_sites():
    import json

    from truce.formats.evaluation_json import evaluation_json, evaluation_to_dict

    rows = [
        obstruction(200),
        group_attack("Ahrar al-Sham", DURING),
        attack(offset_from(HOSPITAL, 100)),
        {
            "observed_at": "2016-09-14T08:00:00+03:00",
            **at(offset_from(CASTELLO_ROAD, 100)),
            "event_type": "convoy_status",
            "status": "departed",
        },
    ]
    ev = evaluate(rows)
    out = evaluation_to_dict(ev)
    assert json.loads(evaluation_json(ev)) == out
    (nc,) = out["not_charged"]
    assert nc["group"] == "Ahrar al-Sham" and nc["incident"].startswith("inc-")
    (convoy,) = out["convoys"]
    assert convoy["status"] == "departed"
    assert len(convoy["incidents"]) == 2  # the obstruction and the status report itself
    assert [c["status"] for c in out["checkpoints"]] == ["not reported", "not reported"]
    assert [c["status"] for c in out["commitments"]] == ["bound", "declined", "withdrawn"]
    nxt = next(c for c in out["conditions"] if c["id"] == "next-phase")
    assert nxt["kind"] == "all_of" and [p["id"] for p in nxt["parts"]] == [
        "quiet-week",
        "checkpoints-up",
        "withdrawn",
    ]
    assert nxt["waiting_for"] == ["checkpoints-up"]
    text = json.dumps({k: v for k, v in out.items() if k != "violations"})
    assert "hosp-1" not in text and "sites" not in out  # the site is only in its violation


@pytest.mark.parametrize(
    ("distance_m", "precision_m", "expected"),
    [(100, 50, ["certain"]), (250, 400, ["possible"]), (1500, 400, [])],
)
def test_site_radius_is_judged_for_the_whole_location_uncertainty(
    distance_m, precision_m, expected
):
    ev = evaluate([attack(offset_from(HOSPITAL, distance_m), location_precision_m=precision_m)])
    assert [v.certainty for v in by_rule(ev, "r-sites")] == expected


@pytest.mark.parametrize(
    ("distance_m", "precision_m", "expected"),
    [(200, 50, ["certain"]), (900, 500, ["possible"]), (3000, 500, [])],
)
def test_convoy_corridor_is_judged_for_the_whole_location_uncertainty(
    distance_m, precision_m, expected
):
    ev = evaluate([obstruction(distance_m) | {"location_precision_m": precision_m}])
    assert [v.certainty for v in by_rule(ev, "r-convoy")] == expected
