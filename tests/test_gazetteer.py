"""Place-name look-ups: spellings, ambiguity, unknown names, agreement features."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from truce.errors import GazetteerError
from truce.library.catalog import load_builtin
from truce.library.gazetteer import Gazetteer, normalise_place_name, resolve_place

DATA = Path(__file__).resolve().parents[1] / "src" / "truce" / "library" / "gazetteer_sy.json"


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.load()


@pytest.mark.parametrize(
    ("spelling", "other", "geonameid"),
    [
        ("Aleppo", "Halab", 170063),
        ("Saraqib", "Sarakib", 164816),
        ("Khan Shaykhun", "Khan Sheikhoun", 168325),
        ("Jisr al-Shughur", "Jisr ash-Shughour", 169023),
        ("Maarat al-Numan", "Ma'arrat an-Nu'man", 167611),
        ("Maarat al-Numan", "Maʽarrat an-Nuʽman", 167611),  # any apostrophe-like mark
    ],
)
def test_two_spellings_resolve_to_the_same_place(
    gaz: Gazetteer, spelling: str, other: str, geonameid: int
) -> None:
    assert gaz.lookup(spelling).geonameid == geonameid
    assert gaz.lookup(other).geonameid == geonameid
    assert gaz.lookup(other.upper()).geonameid == geonameid


def test_normalising_drops_case_accents_punctuation_and_articles() -> None:
    assert normalise_place_name("Jisr ash-Shughūr") == normalise_place_name("JISR AL SHUGHUR")
    assert normalise_place_name("Ḩamāh") == "hamah"


def test_ambiguous_name_lists_each_candidate_with_governorate_and_coordinates(
    gaz: Gazetteer,
) -> None:
    with pytest.raises(GazetteerError) as err:
        gaz.lookup("Suran")
    assert len(err.value.candidates) == 2
    assert any("Hama" in c and "35.29193" in c for c in err.value.candidates)
    assert any("Aleppo" in c for c in err.value.candidates)
    assert "ambiguous" in str(err.value)


def test_governorate_qualifier_picks_one_of_an_ambiguous_name(gaz: Gazetteer) -> None:
    assert gaz.lookup("Suran, Hama").geonameid == 163915


def test_unknown_name_suggests_the_nearest_spellings(gaz: Gazetteer) -> None:
    with pytest.raises(GazetteerError) as err:
        gaz.lookup("Saraqibx")
    assert "Saraqib" in err.value.candidates
    assert "Saraqib" in str(err.value)


def test_estimated_places_carry_their_stated_precision(gaz: Gazetteer) -> None:
    ain = gaz.lookup("Ain al-Havr")
    assert ain.precision_m == 6000 and "EST" in ain.source
    assert gaz.lookup("Big Orem").name == "Urum al-Kubra"
    assert gaz.lookup("Big Orem").precision_m >= 10_000
    assert gaz.lookup("Khmeimim").name == "Hmeimim air base"
    assert gaz.lookup("Ramouseh").precision_m == 2000


def test_resolve_place_is_a_report_reader_callback() -> None:
    lon, lat, precision = resolve_place("Halab")
    assert (lon, lat) == pytest.approx((37.16117, 36.20124))
    assert precision > 0


def test_agreement_features_resolve_by_id_and_name(gaz: Gazetteer) -> None:
    agreement = load_builtin("us-ru-2016-09")
    with_features = gaz.with_agreement(agreement)
    cp = with_features.lookup("cp_castello_1")
    assert (cp.lon, cp.lat) == pytest.approx((37.13, 36.25))
    road = with_features.lookup("Castello Road")
    assert road.source.endswith("castello_road")
    assert road.precision_m > 3000  # half the road's extent plus its own uncertainty
    assert 37.10 <= road.lon <= 37.16 and 36.24 <= road.lat <= 36.27
    with pytest.raises(GazetteerError):
        gaz.lookup("cp_castello_1")  # only with the agreement


def test_search_ranks_own_names_before_alternates(gaz: Gazetteer) -> None:
    assert gaz.search("sara", limit=5)[0].name == "Saraqib"
    assert gaz.search("khan sh", limit=3)[0].name == "Khān Shaykhūn"
    assert len(gaz.search("a", limit=7)) == 7
    assert gaz.search("", limit=5) == []


def test_data_file_keeps_provenance_for_every_place() -> None:
    places = json.loads(DATA.read_text(encoding="utf-8"))["places"]
    assert 300 < len(places) < 400
    assert all(p["provenance"] for p in places)
    assert all(p["precision_m"] for p in places if p["geonameid"] is None)
    names = {p["name"] for p in places}
    assert {"Trumba", "Ain al-Havr", "Ramouseh", "Khan Tuman", "Hmeimim air base"} <= names
