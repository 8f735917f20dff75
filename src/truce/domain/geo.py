"""Projection, zones and distances, on whole arrays.

Everything metric happens in one projected CRS per agreement (its `crs`, or
the UTM zone of its centroid), projected once. Zone membership takes, for each
zone, the points in its envelope (from the points sorted once by x) and tests
their exact distance to the zone's feature, so a point exactly `distance_m`
from a road is inside its corridor regardless of how a buffer polygon would be
drawn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from truce.domain.model import Agreement
from truce.domain.planar import planar_distance

WGS84 = "EPSG:4326"
# Buffers drawn for display and area use this many segments per quarter circle;
# membership never depends on it.
QUAD_SEGS = 16
# Envelope slack (m) so the envelope pre-filter never misses a point the exact test accepts.
_ENVELOPE_SLACK_M = 1.0


def utm_crs(lon: float, lat: float) -> str:
    """The UTM zone CRS containing a point.

    >>> utm_crs(37.16, 36.20)
    'EPSG:32637'
    """
    zone = int((lon + 180) // 6) % 60 + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def agreement_centroid(agreement: Agreement) -> tuple[float, float] | None:
    geoms = [f.geometry for f in agreement.features.values()]
    if not geoms:
        return None
    c = shapely.GeometryCollection(geoms).centroid
    return (c.x, c.y)


def choose_crs(agreement: Agreement, fallback_lonlat: tuple[float, float] | None = None) -> str:
    """The agreement's metric CRS: its own `crs`, else UTM at its centroid, else at `fallback_lonlat`."""
    if agreement.crs:
        return agreement.crs
    centre = agreement_centroid(agreement) or fallback_lonlat or (37.16, 36.20)
    return utm_crs(*centre)


def is_metric_projected(crs: str) -> bool:
    c = CRS.from_user_input(crs)
    return bool(c.is_projected) and all(a.unit_name in {"metre", "meter"} for a in c.axis_info)


class Projection:
    """WGS84 lon/lat <-> one metric CRS, for arrays and geometries."""

    def __init__(self, crs: str) -> None:
        self.crs = crs
        self._forward = Transformer.from_crs(WGS84, crs, always_xy=True)
        self._inverse = Transformer.from_crs(crs, WGS84, always_xy=True)

    def points(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = self._forward.transform(
            np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        )
        return np.asarray(x), np.asarray(y)

    def geometry(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(
            geom, lambda c: np.column_stack(self._forward.transform(c[:, 0], c[:, 1]))
        )

    def to_wgs84(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(
            geom, lambda c: np.column_stack(self._inverse.transform(c[:, 0], c[:, 1]))
        )


@dataclass
class AgreementSpace:
    """An agreement's features and zones in its metric CRS."""

    agreement: Agreement
    projection: Projection

    @classmethod
    def of(
        cls, agreement: Agreement, fallback_lonlat: tuple[float, float] | None = None
    ) -> AgreementSpace:
        return cls(agreement, Projection(choose_crs(agreement, fallback_lonlat)))

    @cached_property
    def features_m(self) -> dict[str, BaseGeometry]:
        return {
            fid: self.projection.geometry(f.geometry) for fid, f in self.agreement.features.items()
        }

    @cached_property
    def zone_ids(self) -> list[str]:
        return [z.id for z in self.agreement.zones]

    @cached_property
    def _zone_feature_geoms(self) -> np.ndarray:
        return np.array([self.features_m[z.feature] for z in self.agreement.zones], dtype=object)

    @cached_property
    def _zone_distances(self) -> np.ndarray:
        return np.array([z.distance_m for z in self.agreement.zones], dtype=np.float64)

    @cached_property
    def _zone_envelopes(self) -> np.ndarray:
        """(zones x 4) min x, min y, max x, max y of the points each zone can hold."""
        reach = self._zone_distances + _ENVELOPE_SLACK_M
        return shapely.bounds(self._zone_feature_geoms) + np.column_stack(
            [-reach, -reach, reach, reach]
        )

    def zone_polygons_m(self) -> dict[str, BaseGeometry]:
        """Each zone as a polygon in metres (for area and display; not for membership)."""
        polys = shapely.buffer(self._zone_feature_geoms, self._zone_distances, quad_segs=QUAD_SEGS)
        return dict(zip(self.zone_ids, polys, strict=True))

    def zone_polygons_wgs84(self) -> dict[str, BaseGeometry]:
        return {zid: self.projection.to_wgs84(p) for zid, p in self.zone_polygons_m().items()}

    def zone_area_km2(self) -> dict[str, float]:
        return {zid: float(p.area) / 1e6 for zid, p in self.zone_polygons_m().items()}

    def membership(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point index, zone index) for every point inside every zone (boundary included).

        Per zone: the points in its envelope (a range of the points sorted by x, then y),
        then the exact distance test (numpy's, `planar_distance`, or GEOS's).
        """
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        by_x = np.argsort(x, kind="stable")
        sorted_x = x[by_x]
        points: list[np.ndarray] = []
        zones: list[np.ndarray] = []
        for k, (geom, distance_m) in enumerate(
            zip(self._zone_feature_geoms, self._zone_distances, strict=True)
        ):
            min_x, min_y, max_x, max_y = self._zone_envelopes[k]
            lo = np.searchsorted(sorted_x, min_x, side="left")
            hi = np.searchsorted(sorted_x, max_x, side="right")
            near = by_x[lo:hi]
            near = near[(y[near] >= min_y) & (y[near] <= max_y)]
            d = planar_distance(geom, x[near], y[near])
            if d is None:
                d = shapely.distance(shapely.points(x[near], y[near]), geom)
            inside = near[d <= distance_m + 1e-6]
            points.append(inside)
            zones.append(np.full(len(inside), k, dtype=np.int64))
        if not points:
            return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
        return np.concatenate(points), np.concatenate(zones)

    def zone_masks(self, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        """One boolean mask per zone over the points."""
        point_idx, zone_idx = self.membership(x, y)
        masks = np.zeros((len(self.zone_ids), len(x)), dtype=bool)
        masks[zone_idx, point_idx] = True
        return dict(zip(self.zone_ids, masks, strict=True))

    def signed_distance_m(
        self, feature_id: str, distance_m: float, x: np.ndarray, y: np.ndarray, reach_m: float
    ) -> np.ndarray:
        """How far each point is outside the area within `distance_m` of a feature
        (negative: how far inside its edge), exactly for points inside or within
        `reach_m` of the edge, +inf for the rest. A point is in the area (as
        `zone_masks` tests it) when the result is <= 0.
        """
        feature = self.features_m[feature_id]
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        out = np.full(len(x), np.inf)
        min_x, min_y, max_x, max_y = shapely.bounds(feature) + np.array([-1, -1, 1, 1]) * (
            distance_m + reach_m + _ENVELOPE_SLACK_M
        )
        near = np.flatnonzero((x >= min_x) & (x <= max_x) & (y >= min_y) & (y <= max_y))
        d = self.distance_to_feature_m(feature_id, x[near], y[near])
        inside = d <= 0
        if inside.any() and feature.geom_type in ("Polygon", "MultiPolygon"):
            rows = near[inside]
            depth = planar_distance(feature.boundary, x[rows], y[rows])
            if depth is None:
                depth = shapely.distance(shapely.points(x[rows], y[rows]), feature.boundary)
            d[inside] = -depth
        out[near] = d - distance_m
        return out

    def distance_to_feature_m(self, feature_id: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Metres from each point to a feature (0 inside a polygon)."""
        if len(x) == 0:
            return np.array([], dtype=np.float64)
        feature = self.features_m[feature_id]
        d = planar_distance(feature, x, y)
        return shapely.distance(shapely.points(x, y), feature) if d is None else d


def bounds_wgs84(geoms: Iterable[BaseGeometry]) -> tuple[float, float, float, float] | None:
    geoms = list(geoms)
    if not geoms:
        return None
    return tuple(shapely.GeometryCollection(geoms).bounds)  # type: ignore[return-value]


def zone_polygons(agreement: Agreement, crs: str | None = None) -> dict[str, BaseGeometry]:
    """Zone polygons in metres in `crs` (default: the agreement's own)."""
    space = AgreementSpace(agreement, Projection(crs or choose_crs(agreement)))
    return space.zone_polygons_m()
