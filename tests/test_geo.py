"""Zone membership and point-to-feature distances on whole arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from tests.geoms import CASTELLO_ROAD, CRS, INVALID_POLYGON
from tests.scenario import spec_agreement

from truce.domain.geo import AgreementSpace, Projection
from truce.domain.planar import planar_distance

# Canonical shapes in metres: a bent road, a square with a hole, two squares, a point.
ROAD_M = LineString([(0, 0), (1000, 0), (1500, 700)])
HOLED_M = Polygon(
    [(0, 0), (2000, 0), (2000, 2000), (0, 2000)], [[(500, 500), (1500, 500), (1500, 1500)]]
)
TWO_SQUARES_M = MultiPolygon(
    [
        Polygon([(0, 0), (100, 0), (100, 100), (0, 100)]),
        Polygon([(300, 0), (400, 0), (400, 90), (300, 90)]),
    ]
)
SHAPES = [ROAD_M, HOLED_M, TWO_SQUARES_M, Point(50, 50), INVALID_POLYGON]


@settings(max_examples=40, deadline=None)
@given(
    shape=st.sampled_from(SHAPES),
    coords=st.lists(st.tuples(st.floats(-600, 2600), st.floats(-600, 2600)), max_size=50),
)
def test_planar_distance_is_what_geos_computes(shape, coords):
    x = np.array([c[0] for c in coords], dtype=np.float64)
    y = np.array([c[1] for c in coords], dtype=np.float64)
    got = planar_distance(shape, x, y)
    if shape is INVALID_POLYGON:
        assert got is None  # left to GEOS
        return
    expected = shapely.distance(shapely.points(x, y), shape)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-9)


def test_a_point_inside_a_polygons_hole_is_outside_it():
    (d,) = planar_distance(HOLED_M, np.array([1200.0]), np.array([800.0]))
    assert d == pytest.approx(shapely.distance(Point(1200, 800), HOLED_M)) and d > 0


def metric_point_near_road_end(distance_m: float, angle_deg: float) -> tuple[float, float]:
    """(lon, lat) `distance_m` beyond the road's last vertex, `angle_deg` off its direction."""
    proj = Projection(CRS)
    road = proj.geometry(CASTELLO_ROAD)
    (x0, y0), (x1, y1) = shapely.get_coordinates(road)[-2:]
    heading = math.atan2(y1 - y0, x1 - x0) + math.radians(angle_deg)
    p = Point(x1 + distance_m * math.cos(heading), y1 + distance_m * math.sin(heading))
    back = proj.to_wgs84(p)
    return back.x, back.y


@pytest.mark.parametrize("angle_deg", [0, 11.25, 33.75, 60, 90])
@pytest.mark.parametrize(("distance_m", "inside"), [(990, True), (1000, True), (1001, False)])
def test_corridor_membership_is_exact_around_the_rounded_road_end(angle_deg, distance_m, inside):
    # Between the vertices of a coarse buffer polygon the true corridor reaches further
    # out; membership follows the true distance, not any polygon.
    agreement = spec_agreement()
    space = AgreementSpace.of(agreement)
    lon, lat = metric_point_near_road_end(distance_m, angle_deg)
    x, y = space.projection.points(np.array([lon]), np.array([lat]))
    assert bool(space.zone_masks(x, y)["castello-dmz"][0]) is inside


def test_zone_membership_matches_geos_distance_for_many_points():
    agreement = spec_agreement()
    space = AgreementSpace.of(agreement)
    rng = np.random.default_rng(7)
    lon = rng.uniform(37.05, 37.25, 20_000)
    lat = rng.uniform(36.15, 36.30, 20_000)
    x, y = space.projection.points(lon, lat)
    masks = space.zone_masks(x, y)
    points = shapely.points(x, y)
    for zone in agreement.zones:
        d = shapely.distance(points, space.features_m[zone.feature])
        np.testing.assert_array_equal(masks[zone.id], d <= zone.distance_m + 1e-6)
