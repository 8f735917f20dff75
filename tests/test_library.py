"""The built-in agreement library: every file loads, timelines and zones match the reference."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
import yaml
from shapely.geometry import Point

from truce.domain.geo import Projection, zone_polygons
from truce.domain.model import AfterPhase, AtTime, WhenCondition
from truce.domain.names import normalise_name
from truce.library.catalog import list_agreements, load_builtin

LIBRARY = Path(__file__).resolve().parents[1] / "src" / "truce" / "library" / "agreements"
IDS = ["coh-2016-02", "us-ru-2016-09", "astana-2017-05", "sochi-2018-09", "moscow-2020-03"]
SOURCE_KEY = re.compile(r"\[(S\d+)\]")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def line_length_m(agreement_id: str, feature_id: str) -> float:
    a = load_builtin(agreement_id)
    assert a.crs is not None
    return float(Projection(a.crs).geometry(a.features[feature_id].geometry).length)


@pytest.mark.parametrize("agreement_id", IDS)
def test_every_library_agreement_loads_and_validates(agreement_id: str) -> None:
    a = load_builtin(agreement_id)
    assert a.id == agreement_id
    assert (LIBRARY / f"{agreement_id}.yaml").is_file()
    assert a.crs == "EPSG:32637"
    assert a.sources and a.notes and a.rules
    assert {p.id for p in a.parties} == {"gov", "opp"}


def test_library_lists_every_agreement() -> None:
    assert {a.id for a in list_agreements()} >= set(IDS)


@pytest.mark.parametrize("agreement_id", IDS)
def test_every_note_cites_a_listed_source(agreement_id: str) -> None:
    doc = yaml.safe_load((LIBRARY / f"{agreement_id}.yaml").read_text(encoding="utf-8"))
    keys = {SOURCE_KEY.match(s["title"]).group(1) for s in doc["sources"]}  # type: ignore[union-attr]
    texts = [("description", doc["description"])] + [("notes", n) for n in doc["notes"]]
    for fid, f in (doc.get("features") or {}).items():
        texts.append((f"features.{fid}", f["note"]))
    for section in ("zones", "phases", "conditions", "rules"):
        texts += [(f"{section}.{item['id']}", item["note"]) for item in doc.get(section) or []]
    if doc.get("ends"):
        texts.append(("ends", doc["ends"]["note"]))
    cited: set[str] = set()
    for where, text in texts:
        found = set(SOURCE_KEY.findall(text))
        assert found, f"{where} cites no source"
        assert found <= keys, f"{where} cites unlisted {found - keys}"
        cited |= found
    # Actor notes and sources need not cite, but what they cite must be listed.
    for group in [*doc["parties"], *doc["excluded"]]:
        for actor in (a for a in group["actors"] if isinstance(a, dict)):
            found = set(SOURCE_KEY.findall(f"{actor['source']} {actor.get('note', '')}"))
            assert found <= keys, f"{group['id']}: {actor['name']} cites unlisted {found - keys}"
    assert cited == keys, f"sources listed but never cited: {keys - cited}"


@pytest.mark.parametrize("agreement_id", IDS)
def test_every_estimated_geometry_states_its_uncertainty(agreement_id: str) -> None:
    for fid, feature in load_builtin(agreement_id).features.items():
        assert feature.uncertainty_m and feature.uncertainty_m > 0, fid
        assert feature.note and re.search(r"ESTIMATE|GN|WP", feature.note), fid


def test_us_ru_cessation_starts_at_day_d_19h_local_and_lasts_48_hours() -> None:
    a = load_builtin("us-ru-2016-09")
    phases = {p.id: p for p in a.phases}
    assert isinstance(phases["cessation"].start, AtTime)
    assert phases["cessation"].start.at == utc(2016, 9, 12, 16, 0)
    assert phases["cessation"].duration == timedelta(hours=48)
    assert phases["extension"].start == AfterPhase("cessation")
    assert phases["extension"].duration == timedelta(hours=48)
    assert isinstance(phases["joint-centre"].start, WhenCondition)
    assert phases["joint-centre"].start.condition == "next-phase"  # quiet week AND ...
    cond = next(c for c in a.conditions if c.id == "quiet-week")
    assert (cond.kind, cond.days) == ("quiet_days", 7)
    assert isinstance(cond.start, AtTime) and cond.start.at == utc(2016, 9, 12, 16, 0)


def test_us_ru_castello_withdrawal_table_follows_the_reference() -> None:
    a = load_builtin("us-ru-2016-09")
    rules = {r.id: r for r in a.rules}
    gov = rules["r-withdraw-gov"].params
    assert gov.party == "gov" and gov.from_feature == "castello_road"
    assert gov.min_distance_m == {
        "heavy_vehicle": 3500, "artillery": 3500, "mlrs": 3500, "mortar": 3500, "apc": 2500, "personnel": 1000,
    }  # fmt: skip
    assert gov.deadline == utc(2016, 9, 15, 16, 0)
    assert "UNVERIFIED" in (rules["r-withdraw-opp"].note or "")
    assert {r.params.max_armed_per_side for r in a.rules if r.kind == "checkpoint_limit"} == {20}
    assert {r.kind for r in a.rules} == {
        "cease_attacks", "no_territorial_gain", "humanitarian_access", "withdrawal", "demilitarised",
        "checkpoint_limit", "no_fly", "convoy_safety",
    }  # fmt: skip


def test_us_ru_excludes_nusra_under_all_its_names() -> None:
    a = load_builtin("us-ru-2016-09")
    nusra = next(g for g in a.excluded if g.id == "nusra")
    for name in ("Jabhat al-Nusra", "Jabhat Fateh al-Sham", "JFS", "Hay'at Tahrir al-Sham", "HTS"):
        assert name in nusra.actors


def test_coh_timeline_signup_closes_at_noon_and_cessation_starts_at_midnight_damascus() -> None:
    a = load_builtin("coh-2016-02")
    phases = {p.id: p for p in a.phases}
    signup = phases["signup"]
    assert isinstance(signup.start, AtTime) and signup.duration is not None
    assert signup.start.at + signup.duration == utc(2016, 2, 26, 10, 0)
    assert phases["cessation"].start == AtTime(utc(2016, 2, 26, 22, 0))
    assert phases["cessation"].duration is None
    assert not a.zones
    assert {g.id for g in a.excluded} == {"isil", "nusra"}
    assert any("2254" in n for n in a.notes) and any("proportionate" in n for n in a.notes)


def test_moscow_ceasefire_starts_one_minute_past_midnight_and_patrols_on_15_march() -> None:
    a = load_builtin("moscow-2020-03")
    phases = {p.id: p for p in a.phases}
    assert phases["ceasefire"].start == AtTime(utc(2020, 3, 5, 21, 1))
    assert phases["ceasefire"].duration is None
    assert phases["joint-patrols"].start == AtTime(utc(2020, 3, 14, 21, 0))


def test_sochi_heavy_weapons_count_from_the_day_after_10_october() -> None:
    a = load_builtin("sochi-2018-09")
    rule = next(r for r in a.rules if r.kind == "demilitarised")
    assert rule.params.from_ == utc(2018, 10, 10, 21, 0)
    assert set(rule.params.weapons) == {"heavy_vehicle", "mlrs", "artillery", "mortar"}
    assert a.zone("idlib-dmz").distance_m == 7500


def test_m4_corridor_is_12_km_wide() -> None:
    length = line_length_m("moscow-2020-03", "m4_road")
    area = zone_polygons(load_builtin("moscow-2020-03"))["m4-corridor"].area
    assert 100_000 < length < 130_000  # Latakia–Saraqib along the waypoints
    assert area == pytest.approx(12_000 * length, rel=0.10)


def test_castello_dmz_is_a_2_km_band_with_round_ends() -> None:
    length = line_length_m("us-ru-2016-09", "castello_road")
    area = zone_polygons(load_builtin("us-ru-2016-09"))["castello-dmz"].area
    assert 5_000 < length < 8_000  # the road is a few km long
    assert area == pytest.approx(2_000 * length + 3.14159 * 1_000**2, rel=0.03)


def test_sochi_dmz_is_15_km_deep_along_the_line_of_contact() -> None:
    length = line_length_m("sochi-2018-09", "line_of_contact")
    area = zone_polygons(load_builtin("sochi-2018-09"))["idlib-dmz"].area
    # Sharp bends at Morek and Khan Shaykhun overlap the band: allow 25 %.
    assert area == pytest.approx(15_000 * length, rel=0.25)


# --- actor names (issue #10) -------------------------------------------------
# tests/fixtures/actor_names.csv holds real name variants with the labels each agreement
# should give them. Side names in it come from the UCDP Georeferenced Event Dataset
# (Sundberg & Melander 2013, JPR 50(4); Högbladh 2019, UCDP GED Codebook 19.1), CC BY 4.0.
ACTOR_NAMES = Path(__file__).resolve().parent / "fixtures" / "actor_names.csv"
OUTSIDERS = [
    "SDF", "Syrian Democratic Forces", "PKK", "YPG", "Government of Turkey", "Government of Israel",
    "Government of United States of America", "Government of Iraq",
]  # fmt: skip


@cache
def listed_names(agreement_id: str) -> dict[str, frozenset[str]]:
    """Normalised alias -> the ids of the parties and excluded groups that list it."""
    a = load_builtin(agreement_id)
    out: dict[str, frozenset[str]] = {}
    for group in (*a.parties, *a.excluded):
        for name in group.actors:
            key = normalise_name(name)
            out[key] = out.get(key, frozenset()) | {group.id}
    return out


@cache
def group_ids(agreement_id: str) -> frozenset[str]:
    a = load_builtin(agreement_id)
    return frozenset(g.id for g in (*a.parties, *a.excluded))


@pytest.mark.parametrize("agreement_id", IDS)
def test_every_actor_alias_says_where_its_spelling_comes_from(agreement_id: str) -> None:
    a = load_builtin(agreement_id)
    for group in (*a.parties, *a.excluded):
        sources = dict(group.actor_sources)
        for name in group.actors:
            assert sources.get(name, "").strip(), f"{group.id}: alias {name!r} has no source"


@pytest.mark.parametrize("agreement_id", IDS)
def test_ucdp_syrian_insurgents_is_an_aggregate_of_opposition_and_nusra(agreement_id: str) -> None:
    assert listed_names(agreement_id)["syrian insurgents"] == {"opp", "nusra"}
    names = listed_names(agreement_id)
    mixed = {n: ids for n, ids in names.items() if len(ids) > 1}
    assert set(mixed) == {"syrian insurgents"}, "only the UCDP aggregate may sit on two sides"


@pytest.mark.parametrize("agreement_id", IDS)
def test_outsiders_are_not_listed_on_any_side(agreement_id: str) -> None:
    names = listed_names(agreement_id)
    assert not [n for n in OUTSIDERS if normalise_name(n) in names]


def test_actor_names_table_uses_each_agreements_own_labels() -> None:
    rows = list(csv.DictReader(ACTOR_NAMES.open(encoding="utf-8")))
    assert len(rows) >= 60
    assert {r["agreement"] for r in rows} == set(IDS)
    for row in rows:
        ids = group_ids(row["agreement"])
        expected = row["expected"]
        where = f"{row['agreement']}: {row['name']!r}"
        assert row["note"].strip(), where
        if expected in ("", "outside"):
            # an outsider or unknown name must not be listed under any side
            assert normalise_name(row["name"]) not in listed_names(row["agreement"]), where
            continue
        labels = expected.split("+")
        assert labels == sorted(set(labels)) and set(labels) <= ids, where


# --- where and until when the terms bind ---------------------------------------
IDLIB_INSIDE = {"Idlib": (36.63393, 35.93062), "Saraqib": (36.80591, 35.86447),
                "Jisr al-Shughur": (36.31983, 35.81418), "Ariha": (36.60964, 35.81374),
                "Khan Shaykhun": (36.65095, 35.44208), "Trumba": (36.784, 35.864)}  # fmt: skip
GOVERNMENT_CITIES = {"Latakia": (35.79088, 35.53125), "Hama": (36.75783, 35.13179),
                     "Aleppo": (37.16117, 36.20124), "Homs": (36.72559, 34.72405),
                     "Damascus": (36.29128, 33.51020), "Hmeimim": (35.945, 35.41167)}  # fmt: skip


@pytest.mark.parametrize("agreement_id", ["sochi-2018-09", "moscow-2020-03"])
def test_idlib_agreements_bind_inside_the_de_escalation_area_only(agreement_id: str) -> None:
    a = load_builtin(agreement_id)
    assert a.area == "idlib_area" and a.ends is None
    area = a.features["idlib_area"].geometry
    assert [n for n, p in IDLIB_INSIDE.items() if not area.contains(Point(p))] == []
    assert [n for n, p in GOVERNMENT_CITIES.items() if area.contains(Point(p))] == []


def test_coh_is_nationwide_and_open_ended() -> None:
    a = load_builtin("coh-2016-02")
    assert a.area is None and a.ends is None


def test_us_ru_ends_when_the_government_declared_the_cessation_over() -> None:
    a = load_builtin("us-ru-2016-09")
    assert a.area is None
    assert a.ends is not None and a.ends.at == utc(2016, 9, 19, 16, 0)
    assert "[S33]" in (a.ends.source or "")


def test_astana_four_de_escalation_areas_are_separate_and_hold_their_towns() -> None:
    a = load_builtin("astana-2017-05")
    assert a.area is None  # four polygons: the ceasefire rule is scoped with zones instead
    areas = {z.id: a.features[z.feature].geometry for z in a.zones}
    assert set(areas) == {"idlib", "north-homs", "eastern-ghouta", "south"}
    ids = sorted(areas)
    assert not [(x, y) for x in ids for y in ids if x < y and areas[x].intersects(areas[y])]
    assert areas["idlib"].contains(Point(IDLIB_INSIDE["Idlib"]))
    assert areas["north-homs"].contains(Point(36.73241, 34.92667))  # Ar-Rastan (GN)
    for name, p in GOVERNMENT_CITIES.items():
        assert not any(g.contains(Point(p)) for g in areas.values()), name
    cease = next(r for r in a.rules if r.kind == "cease_attacks")
    assert set(cease.params.zones) == set(areas)
    assert {g.id for g in a.excluded} == {"isil", "nusra", "alqaida"}


def test_astana_timeline_follows_the_quoted_text() -> None:
    phases = {p.id: p.start for p in load_builtin("astana-2017-05").phases}
    assert phases == {
        "memorandum": AtTime(utc(2017, 5, 4, 21, 0)),  # the day after signing, 00:00 local
        "ceasefire": AtTime(utc(2017, 5, 5, 21, 0)),  # 6 May (TASS)
        "working-group": AtTime(utc(2017, 5, 17, 21, 0)),  # two weeks after signing
        "maps": AtTime(utc(2017, 6, 3, 21, 0)),  # maps due by 4 June
    }
