"""Swapped [lat, lon] pairs in an agreement are caught by `truce agreements validate`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from truce.cli import app
from truce.domain.coordinates import agreement_coordinate_warnings
from truce.formats.agreement import parse_agreement
from truce.library.catalog import list_agreements, resolve_agreement

SPEC_EXAMPLE = (Path(__file__).parent / "fixtures" / "agreements" / "spec-example.yaml").read_text()
ROAD = "[[37.100, 36.270], [37.130, 36.250], [37.160, 36.240]]"
ROAD_SWAPPED = "[[36.270, 37.100], [36.250, 37.130], [36.240, 37.160]]"


def test_the_spec_example_has_no_coordinate_warnings() -> None:
    assert agreement_coordinate_warnings(parse_agreement(SPEC_EXAMPLE)) == []


@pytest.mark.parametrize("agreement_id", [a.id for a in list_agreements()])
def test_no_built_in_agreement_is_flagged(agreement_id: str) -> None:
    assert agreement_coordinate_warnings(resolve_agreement(agreement_id)) == []


def test_one_swapped_feature_is_named_with_the_fix() -> None:
    text = SPEC_EXAMPLE.replace(ROAD, ROAD_SWAPPED)
    assert text != SPEC_EXAMPLE
    [warning] = agreement_coordinate_warnings(parse_agreement(text))
    assert warning.feature == "castello_road"
    assert "km from the agreement's other features" in warning.message
    assert "agreement coordinates are [lon, lat]" in warning.message


TWO_FEATURES = """
truce: 1
id: two-features
title: Two features
timezone: "+03:00"
parties: [{id: gov, name: Government, actors: [SAA]}]
features:
  castello_road: {line: [[37.100, 36.270], [37.130, 36.250], [37.160, 36.240]]}
  cp_castello_1: {point: POINT}
phases: [{id: p, start: 2016-09-12T19:00:00+03:00}]
rules: [{id: r-cp, kind: checkpoint_limit, checkpoint: cp_castello_1, max_armed_per_side: 20}]
"""


def test_of_two_features_the_swapped_one_is_flagged() -> None:
    right = parse_agreement(TWO_FEATURES.replace("POINT", "[37.125, 36.252]"))
    assert agreement_coordinate_warnings(right) == []
    swapped = parse_agreement(TWO_FEATURES.replace("POINT", "[36.252, 37.125]"))
    assert [w.feature for w in agreement_coordinate_warnings(swapped)] == ["cp_castello_1"]


AREA_AGREEMENT = """
truce: 1
id: area-test
title: Area test
timezone: "+03:00"
parties: [{id: gov, name: Government, actors: [SAA]}]
features:
  region: {polygon: [[36.0, 35.5], [37.0, 35.5], [37.0, 36.2], [36.0, 36.2], [36.0, 35.5]]}
  op_1: {point: POINT}
area: region
zones: [{id: r, feature: region}]
phases: [{id: p, start: 2018-09-17T00:00:00+03:00}]
rules: [{id: r-cease, kind: cease_attacks, phases: [p]}]
"""


def test_a_feature_outside_the_area_names_the_latitude_range() -> None:
    inside = parse_agreement(AREA_AGREEMENT.replace("POINT", "[36.9, 35.6]"))
    assert agreement_coordinate_warnings(inside) == []
    swapped = parse_agreement(AREA_AGREEMENT.replace("POINT", "[35.6, 36.9]"))
    [warning] = agreement_coordinate_warnings(swapped)
    assert warning.feature == "op_1"
    assert "outside the agreement's area 'region'" in warning.message
    assert "lat 36.9 is outside the region's latitude range 35.00–36.70" in warning.message
    assert "swapped it would lie inside" in warning.message


def test_a_latitude_beyond_the_area_is_named_as_such() -> None:
    far = parse_agreement(AREA_AGREEMENT.replace("POINT", "[36.5, 38.0]"))
    [warning] = agreement_coordinate_warnings(far)
    assert "lat 38 is outside the region's latitude range 35.00–36.70" in warning.message


def test_a_feature_outside_its_utm_band_is_flagged() -> None:
    text = SPEC_EXAMPLE.replace("crs: EPSG:32637", "crs: EPSG:32633")
    if text == SPEC_EXAMPLE:
        text = SPEC_EXAMPLE.replace("timezone:", "crs: EPSG:32633\ntimezone:", 1)
    warnings = agreement_coordinate_warnings(parse_agreement(text))
    assert warnings and all("outside the band of its crs EPSG:32633" in w.message for w in warnings)


def test_validate_fails_and_prints_the_warning(tmp_path: Path) -> None:
    path = tmp_path / "swapped.yaml"
    path.write_text(SPEC_EXAMPLE.replace(ROAD, ROAD_SWAPPED))
    good = tmp_path / "good.yaml"
    good.write_text(SPEC_EXAMPLE)
    result = CliRunner().invoke(app, ["agreements", "validate", str(good), str(path)])
    assert result.exit_code == 1
    assert f"{good}: ok" in result.output
    assert "features.castello_road: lies" in result.output
    assert "1 of 2 file(s) have problems" in result.output
