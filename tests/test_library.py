"""The built-in agreement library: every file loads, timelines and zones match the reference."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from truce.domain.geo import Projection, zone_polygons
from truce.domain.model import AfterPhase, AtTime, WhenCondition
from truce.library.catalog import list_agreements, load_builtin

LIBRARY = Path(__file__).resolve().parents[1] / "src" / "truce" / "library" / "agreements"
IDS = ["coh-2016-02", "us-ru-2016-09", "sochi-2018-09", "moscow-2020-03"]
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


def test_library_lists_exactly_the_four_agreements() -> None:
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
    cited: set[str] = set()
    for where, text in texts:
        found = set(SOURCE_KEY.findall(text))
        assert found, f"{where} cites no source"
        assert found <= keys, f"{where} cites unlisted {found - keys}"
        cited |= found
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
    assert phases["joint-centre"].start.condition == "quiet-week"
    (cond,) = a.conditions
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
        "checkpoint_limit", "no_fly",
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
