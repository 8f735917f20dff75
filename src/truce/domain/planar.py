"""Distances from many points to one geometry, on plain coordinate arrays.

Zone membership tests every incident against every zone. Making a GEOS point for
each incident costs more than the test itself, so for the simple geometry zones
are made of (points, lines, polygons, in a metric CRS) the distances are worked
out here with numpy, by the same formulas GEOS uses: the point-to-segment
distance of `geos::algorithm::Distance::pointToSegment`, and 0 for a point
inside a polygon. Anything else is left to GEOS (`planar_distance` returns
None).
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

# Beyond this many segments numpy's (points x segments) arrays lose to GEOS.
MAX_SEGMENTS = 256
# Points x segments worked on at once.
_BLOCK = 1 << 20


def _segments(geom: BaseGeometry) -> tuple[np.ndarray, list[np.ndarray]] | None:
    """(segments as rows ax, ay, bx, by; each polygon's rings' segments), or None when
    the geometry is not points, lines and valid polygons."""
    segments: list[np.ndarray] = []
    polygons: list[np.ndarray] = []
    for part in shapely.get_parts(geom):
        kind = shapely.get_type_id(part)
        if kind == 0:  # Point: a segment of length 0
            xy = shapely.get_coordinates(part)
            segments.append(np.hstack([xy, xy]))
        elif kind in (1, 2):  # LineString, LinearRing
            xy = shapely.get_coordinates(part)
            segments.append(np.hstack([xy[:-1], xy[1:]]))
        elif kind == 3 and shapely.is_valid(part):  # Polygon
            holes = range(shapely.get_num_interior_rings(part))
            rings = [shapely.get_exterior_ring(part)]
            rings += [shapely.get_interior_ring(part, k) for k in holes]
            ring_segments = []
            for ring in rings:
                xy = shapely.get_coordinates(ring)
                ring_segments.append(np.hstack([xy[:-1], xy[1:]]))
            polygons.append(np.vstack(ring_segments))
            segments += ring_segments
        else:
            return None
    if not segments or not sum(len(s) for s in segments):
        return None
    return np.vstack(segments), polygons


def planar_distance(geom: BaseGeometry, x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """Distance from each point (x, y) to `geom`, as GEOS's `distance` gives it; None when
    `geom` is not made of points, lines and valid polygons, or is too detailed."""
    found = _segments(geom)
    if found is None or len(found[0]) > MAX_SEGMENTS:
        return None
    segments, polygons = found
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    out = np.empty(len(x), dtype=np.float64)
    step = max(1, _BLOCK // len(segments))
    for lo in range(0, len(x), step):
        px, py = x[lo : lo + step, None], y[lo : lo + step, None]
        d = _to_segments(px, py, segments).min(axis=1)
        for rings in polygons:
            d[_inside(px, py, rings)] = 0.0
        out[lo : lo + step] = d
    return out


def _to_segments(px: np.ndarray, py: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """(points x segments) distances, as `Distance::pointToSegment`."""
    ax, ay, bx, by = seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 3]
    abx, aby = bx - ax, by - ay
    len2 = abx * abx + aby * aby
    dxa, dya = px - ax, py - ay
    to_a = np.sqrt(dxa * dxa + dya * dya)
    dxb, dyb = px - bx, py - by
    to_b = np.sqrt(dxb * dxb + dyb * dyb)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (dxa * abx + dya * aby) / len2
        s = ((ay - py) * abx - (ax - px) * aby) / len2
    across = np.abs(s) * np.sqrt(len2)
    point = len2 == 0.0  # a segment of length 0: the distance to its point
    return np.where(point | (r <= 0.0), to_a, np.where(r >= 1.0, to_b, across))


def _inside(px: np.ndarray, py: np.ndarray, rings: np.ndarray) -> np.ndarray:
    """Mask: points strictly inside a polygon given by its rings' segments (even-odd ray
    crossing). Points on the boundary are at distance 0 from a segment anyway."""
    ax, ay, bx, by = rings[:, 0], rings[:, 1], rings[:, 2], rings[:, 3]
    straddles = (ay > py) != (by > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing_x = ax + (py - ay) * (bx - ax) / (by - ay)
    crosses = straddles & (px < crossing_x)
    return (np.count_nonzero(crosses, axis=1) % 2).astype(bool)
