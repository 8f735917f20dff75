"""Canonical geometries and places shared by the tests.

Points at an exact metric distance from a feature are made in the agreement's
own CRS and projected back, so boundary tests are exact to well under a metre.
"""

from __future__ import annotations

import shapely
from shapely.geometry import LineString, Point, Polygon

from truce.domain.geo import Projection

CRS = "EPSG:32637"
# The SPEC §1 example's features.
CASTELLO_ROAD = LineString([(37.100, 36.270), (37.130, 36.250), (37.160, 36.240)])
ALEPPO_EAST = Polygon(
    [(37.15, 36.18), (37.22, 36.18), (37.22, 36.23), (37.15, 36.23), (37.15, 36.18)]
)
CP_CASTELLO_1 = Point(37.125, 36.252)
FAR_AWAY = Point(36.29128, 33.51020)  # Damascus
EMPTY = Point()
INVALID_POLYGON = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])  # a bow tie


def offset_from(
    feature: shapely.Geometry, distance_m: float, crs: str = CRS, side: float = 1.0
) -> tuple[float, float]:
    """(lon, lat) of a point `distance_m` from `feature`, perpendicular to it near its middle."""
    proj = Projection(crs)
    f = proj.geometry(feature)
    if isinstance(f, LineString):
        mid = f.interpolate(0.5, normalized=True)
        ahead = f.interpolate(min(f.project(mid) + 1.0, f.length))
        dx, dy = ahead.x - mid.x, ahead.y - mid.y
        norm = (dx * dx + dy * dy) ** 0.5
        nx, ny = -dy / norm * side, dx / norm * side
        p = Point(mid.x + nx * distance_m, mid.y + ny * distance_m)
    else:
        c = f.centroid
        p = Point(c.x + distance_m * side, c.y)
    back = proj.to_wgs84(p)
    return back.x, back.y
