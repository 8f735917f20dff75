"""The agreement loader (SPEC §1): values come out right, and every problem is reported."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from truce.domain.model import AfterPhase, AtTime, WhenCondition
from truce.errors import AgreementError, Problem, UnknownAgreement
from truce.formats.agreement import load_agreement, parse_agreement
from truce.library.catalog import list_agreements, load_builtin, resolve_agreement

FIXTURES = Path(__file__).parent / "fixtures" / "agreements"
SPEC_EXAMPLE = FIXTURES / "spec-example.yaml"
SPEC_TEXT = SPEC_EXAMPLE.read_text(encoding="utf-8")
PLUS3 = timezone(timedelta(hours=3))

# A small agreement in eastern Ukraine, where lon and lat differ enough for a
# swapped coordinate to land far away.
DONBAS = """\
truce: 1
id: donbas-test
title: Test line of contact
timezone: Europe/Kyiv
features:
  contact_line: {line: [[37.60, 48.00], [37.80, 48.10], [38.00, 48.20], [38.20, 48.30]]}
  town: {point: [37.80, 48.00]}
  area: {polygon: [[37.70, 47.90], [37.90, 47.90], [37.90, 48.05], [37.70, 48.05]]}
zones:
  - {id: corridor, around: contact_line, distance_m: 15000}
phases:
  - {id: ceasefire, start: 2015-02-15T00:00:00+02:00}
rules:
  - {id: r-cease, kind: cease_attacks, phases: [ceasefire]}
"""


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(AgreementError) as info:
        parse_agreement(text, file="test.yaml")
    return info.value.problems


def only_problem(text: str) -> Problem:
    problems = problems_of(text)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def spec_with(old: str, new: str) -> str:
    assert SPEC_TEXT.count(old) == 1, old
    return SPEC_TEXT.replace(old, new)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# --- the SPEC example ---------------------------------------------------------


def test_spec_example_loads_with_its_values():
    a = load_agreement(SPEC_EXAMPLE)
    assert a.id == "us-ru-2016-09"
    assert a.signed == date(2016, 9, 9)
    assert a.timezone.utcoffset(None) == timedelta(hours=3)
    assert a.timezone_name == "+03:00"
    assert a.crs == "EPSG:32637"
    assert [p.id for p in a.parties] == ["gov", "opp"]
    assert a.parties[0].guarantor == "RU"
    assert "SAA" in a.parties[0].actors
    assert a.excluded[0].id == "nusra" and a.excluded[0].name == "nusra"
    assert {k: f.kind for k, f in a.features.items()} == {
        "castello_road": "line",
        "aleppo_east": "polygon",
        "cp_castello_1": "point",
    }
    assert a.features["cp_castello_1"].geometry.coords[0] == (37.125, 36.252)
    assert [(z.id, z.feature, z.distance_m) for z in a.zones] == [
        ("castello-dmz", "castello_road", 1000.0),
        ("east-aleppo", "aleppo_east", 0.0),
    ]
    cessation, extension, joint = a.phases
    assert cessation.start == AtTime(datetime(2016, 9, 12, 19, tzinfo=PLUS3))
    assert cessation.duration == timedelta(hours=48)
    assert extension.start == AfterPhase("cessation") and extension.duration == timedelta(hours=48)
    assert joint.start == WhenCondition("quiet-week") and joint.duration is None
    (quiet,) = a.conditions
    assert (quiet.kind, quiet.days, quiet.max_incidents, quiet.within) == (
        "quiet_days",
        7,
        5,
        ("east-aleppo",),
    )
    assert quiet.start == AfterPhase("cessation", timedelta(0))
    rules = {r.id: r for r in a.rules}
    assert list(rules) == ["r-cease", "r-gain", "r-withdraw", "r-dmz", "r-nofly", "r-cp", "r-aid"]
    withdraw = rules["r-withdraw"].params
    assert withdraw.min_distance_m["apc"] == 2500 and withdraw.min_distance_m["personnel"] == 1000
    assert withdraw.deadline == datetime(2016, 9, 15, 16, tzinfo=UTC)
    assert rules["r-dmz"].params.weapons == ("heavy_vehicle", "artillery", "mlrs", "mortar", "apc")
    assert rules["r-cp"].params.max_armed_per_side == 20
    assert rules["r-nofly"].params.phases == ("joint-centre",)


def test_a_time_without_offset_is_read_in_the_agreement_timezone():
    text = spec_with("start: 2016-09-12T19:00:00+03:00", "start: 2016-09-12T19:00:00").replace(
        "deadline: 2016-09-15T19:00:00+03:00", "deadline: '2016-09-15 19:00'"
    )
    a = parse_agreement(text)
    assert a.phases[0].start == AtTime(datetime(2016, 9, 12, 19, tzinfo=PLUS3))
    assert a.phases[0].start.at.utcoffset() == timedelta(hours=3)
    withdraw = next(r for r in a.rules if r.id == "r-withdraw").params
    assert withdraw.deadline == datetime(2016, 9, 15, 19, tzinfo=PLUS3)


def test_an_iana_timezone_applies_its_offset_on_that_date():
    a = parse_agreement(DONBAS.replace("2015-02-15T00:00:00+02:00", "2015-02-15"))
    assert a.phases[0].start.at.utcoffset() == timedelta(hours=2)


def test_an_invalid_time_string_is_a_problem():
    text = spec_with("start: 2016-09-12T19:00:00+03:00", "start: 12 September 2016 at 7pm")
    p = only_problem(text)
    assert p.path == "phases[0].start"
    assert "ISO 8601" in p.message and p.value == "12 September 2016 at 7pm"
    assert p.line == line_of(text, "12 September 2016")


def test_offset_after_a_phase_is_kept():
    a = parse_agreement(spec_with("{after: cessation}", "{after: cessation, offset: 90m}"))
    assert a.phases[1].start == AfterPhase("cessation", timedelta(minutes=90))


# --- one test per class of problem ----------------------------------------------


def test_unknown_key_is_a_problem_with_its_line():
    text = spec_with("    distance_m: 1000\n", "    distance_m: 1000\n    colour: red\n")
    p = only_problem(text)
    assert p.path == "zones[0].colour"
    assert "unknown key 'colour'" in p.message and "distance_m" in p.message
    assert p.line == line_of(text, "colour: red")
    assert p.file == "test.yaml"


def test_unknown_rule_kind_lists_the_known_kinds():
    p = only_problem(spec_with("kind: humanitarian_access", "kind: humanitarian_acess"))
    assert p.path == "rules[6].kind"
    assert "unknown rule kind 'humanitarian_acess'" in p.message
    assert "humanitarian_access" in p.message and "withdrawal" in p.message


def test_unknown_weapon_class_names_the_path():
    text = spec_with("{heavy_vehicle: 3500, artillery", "{tank: 3500, artillery")
    p = only_problem(text)
    assert p.path == "rules[2].min_distance_m.tank"
    assert p.message.startswith("unknown weapon class 'tank'; known: aircraft, heavy_vehicle")
    assert p.line == line_of(text, "tank: 3500")


def test_unknown_weapon_class_in_a_list():
    p = only_problem(
        spec_with("weapons: [heavy_vehicle, artillery", "weapons: [heavy_vehicle, tanks")
    )
    assert p.path == "rules[3].weapons[1]"
    assert "unknown weapon class 'tanks'" in p.message


@pytest.mark.parametrize(
    ("old", "new", "path", "words"),
    [
        (
            "around: castello_road",
            "around: castelo_road",
            "zones[0].around",
            "unknown feature 'castelo_road'",
        ),
        (
            "zone: castello-dmz,",
            "zone: castello-zone,",
            "rules[3].zone",
            "unknown zone 'castello-zone'",
        ),
        (
            "{when: quiet-week}",
            "{when: quiet-month}",
            "phases[2].start.when",
            "unknown condition 'quiet-month'",
        ),
        (
            "phases: [joint-centre]",
            "phases: [joint]",
            "rules[4].phases[0]",
            "unknown phase 'joint'",
        ),
        (
            "from_feature: castello_road",
            "from_feature: road",
            "rules[2].from_feature",
            "unknown feature 'road'",
        ),
        ("party: gov\n", "party: govt\n", "rules[2].party", "unknown party 'govt'"),
        (
            "within: [east-aleppo]",
            "within: [east]",
            "conditions[0].within[0]",
            "unknown zone 'east'",
        ),
    ],
)
def test_missing_reference_is_a_problem_that_lists_what_exists(old, new, path, words):
    p = only_problem(spec_with(old, new))
    assert p.path == path
    assert words in p.message
    assert "known" in p.message


def test_misspelt_phase_suggests_the_right_one():
    text = spec_with(
        "{id: r-cease, kind: cease_attacks, phases: [cessation,",
        "{id: r-cease, kind: cease_attacks, phases: [cesation,",
    )
    p = only_problem(text)
    assert p.path == "rules[0].phases[0]"
    assert p.message.startswith(
        "unknown phase 'cesation' in rules[0].phases[0]; did you mean 'cessation'?"
    )
    assert "known phases: cessation, extension, joint-centre" in p.message


def test_checkpoint_must_be_a_point():
    p = only_problem(spec_with("checkpoint: cp_castello_1", "checkpoint: castello_road"))
    assert p.path == "rules[5].checkpoint"
    assert "must be a point" in p.message


def test_latitude_out_of_range_names_the_coordinate():
    text = spec_with("[37.130, 36.250]", "[37.130, 96.250]")
    p = only_problem(text)
    assert p.path == "features.castello_road.line[1]"
    assert "latitude 96.25 is outside -90..90" in p.message


def test_swapped_lat_lon_is_detected():
    text = DONBAS.replace("[38.00, 48.20]", "[48.20, 38.00]")
    p = only_problem(text)
    assert p.path == "features.contact_line.line[2]"
    assert "looks like [lat, lon]" in p.message and "[lon, lat]" in p.message


def test_unswapped_donbas_loads():
    a = parse_agreement(DONBAS)
    assert a.zones[0].distance_m == 15000
    # the polygon ring was closed for us
    assert (
        a.features["area"].geometry.exterior.coords[0]
        == a.features["area"].geometry.exterior.coords[-1]
    )


def test_self_intersecting_polygon_is_a_problem():
    text = DONBAS.replace(
        "[[37.70, 47.90], [37.90, 47.90], [37.90, 48.05], [37.70, 48.05]]",
        "[[37.70, 47.90], [37.90, 48.05], [37.90, 47.90], [37.70, 48.05]]",
    )
    p = only_problem(text)
    assert p.path == "features.area.polygon"
    assert "Self-intersection" in p.message


def test_zone_on_a_line_needs_a_distance():
    p = only_problem(spec_with("feature: aleppo_east", "feature: castello_road"))
    assert p.path == "zones[1].feature"
    assert "has no area" in p.message


@pytest.mark.parametrize("duration", ["2 days", "48", "48hours", "-1h"])
def test_malformed_duration_is_a_problem(duration):
    p = only_problem(
        spec_with("    duration: 48h                 # omitted", f"    duration: '{duration}'  #")
    )
    assert p.path == "phases[0].duration"
    assert "not a duration" in p.message and "48h" in p.message


def test_phase_after_itself_is_a_cycle():
    p = only_problem(spec_with("{after: cessation}     #", "{after: extension}     #"))
    assert p.path == "phases[1].start.after"
    assert "cycle: extension -> extension" in p.message


def test_two_phases_waiting_for_each_other_is_a_cycle():
    text = spec_with("start: 2016-09-12T19:00:00+03:00", "start: {after: extension}")
    p = only_problem(text)
    assert "cycle: cessation -> extension -> cessation" in p.message
    assert p.path == "phases[1].start.after"


def test_phase_waiting_for_a_condition_counted_from_its_own_end_is_a_cycle():
    p = only_problem(
        spec_with("from: {after: cessation, offset: 0h}", "from: {after: joint-centre}")
    )
    assert "cycle: joint-centre -> quiet-week -> joint-centre" in p.message
    assert p.path == "conditions[0].from.after"


def test_duplicate_ids_are_problems_also_across_sections():
    text = spec_with("  - id: opp\n", "  - id: gov\n").replace("{id: r-gain,", "{id: cessation,")
    problems = problems_of(text)
    assert [(p.path, p.value) for p in problems] == [
        ("parties[1].id", "gov"),
        ("rules[1].id", "cessation"),
    ]
    assert "already used by parties[0]" in problems[0].message
    assert "already used by phases[0]" in problems[1].message


def test_format_version_is_required():
    p = only_problem(spec_with("truce: 1\n", ""))
    assert p.path == "truce" and "truce: 1" in p.message
    p = only_problem(spec_with("truce: 1\n", "truce: 2\n"))
    assert "unsupported format version 2" in p.message


def test_timezone_is_required():
    p = only_problem(spec_with('timezone: "+03:00"', "# no timezone"))
    assert p.path == "timezone" and "missing required key 'timezone'" in p.message


def test_crs_must_be_projected_in_metres():
    p = only_problem(spec_with("crs: EPSG:32637", "crs: EPSG:4326"))
    assert p.path == "crs" and "not projected in metres" in p.message


def test_agreement_id_must_be_lowercase_slug():
    p = only_problem(spec_with("id: us-ru-2016-09", "id: US_RU_2016"))
    assert p.path == "id"


def test_unknown_condition_kind_is_a_problem():
    p = only_problem(spec_with("kind: quiet_days", "kind: calm_days"))
    assert p.path == "conditions[0].kind" and "known kinds: quiet_days" in p.message


def test_yaml_syntax_error_gives_a_line():
    p = only_problem("truce: 1\nid: x\ntitle: [unclosed\ntimezone: UTC\n")
    assert "not valid YAML" in p.message and p.line is not None


def test_many_problems_in_one_file_are_all_reported():
    with pytest.raises(AgreementError) as info:
        load_agreement(FIXTURES / "many-problems.yaml")
    paths = [p.path for p in info.value.problems]
    assert paths == [
        "truce",
        "colour",
        "parties[1].id",
        "features.road.line[1]",
        "features.bow.polygon",
        "zones[0].around",
        "phases[0].duration",
        "phases[1].start.after",
        "phases[2].start",
        "conditions[0].kind",
        "rules[0].kind",
        "rules[1].phases[0]",
        "rules[2].min_distance_m.tank",
        "rules[3].colour",
    ]
    assert all(
        p.line is not None and p.file.endswith("many-problems.yaml") for p in info.value.problems
    )
    assert str(info.value).startswith(f"{FIXTURES / 'many-problems.yaml'}: 14 problem(s)")


# --- the library -----------------------------------------------------------------


def test_resolve_agreement_takes_a_file_path():
    assert resolve_agreement(str(SPEC_EXAMPLE)).id == "us-ru-2016-09"


def test_unknown_agreement_lists_the_known_ids():
    with pytest.raises(UnknownAgreement) as info:
        resolve_agreement("no-such-agreement")
    assert "known ids" in str(info.value)
    for a in list_agreements():
        assert a.id in str(info.value)


def test_every_builtin_loads_by_its_id():
    for a in list_agreements():
        assert load_builtin(a.id).id == a.id
        assert resolve_agreement(a.id).id == a.id


# --- robustness ------------------------------------------------------------------

_scalars = st.none() | st.booleans() | st.integers(-1000, 1000) | st.floats() | st.text(max_size=8)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_SECTIONS = ("parties", "excluded", "features", "zones", "phases", "conditions", "rules")


@settings(max_examples=150, deadline=None)
@given(section=st.sampled_from(_SECTIONS), value=_values)
def test_any_malformed_section_gives_problems_never_a_crash(section, value):
    data = yaml.safe_load(SPEC_TEXT)
    data[section] = value
    try:
        parse_agreement(yaml.safe_dump(data))
    except AgreementError as exc:
        assert exc.problems
        assert all(isinstance(p, Problem) and p.message for p in exc.problems)


def test_a_date_that_does_not_exist_is_a_problem_with_its_line():
    text = "truce: 1\nid: demo\ntitle: Demo\nphases:\n  - {id: p, start: 2016-13-01T19:00:00}\n"
    with pytest.raises(AgreementError) as err:
        parse_agreement(text, "demo.yaml")
    [problem] = err.value.problems
    assert problem.line == 5
    assert "2016-13-01T19:00:00" in problem.message and "month" in problem.message


def test_a_recursive_alias_is_a_problem_not_a_crash():
    with pytest.raises(AgreementError) as err:
        parse_agreement("truce: 1\nid: demo\na: &r [1, *r]\n", "demo.yaml")
    [problem] = err.value.problems
    assert problem.line == 3 and "alias" in problem.message
