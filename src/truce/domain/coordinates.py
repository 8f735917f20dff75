"""Agreement coordinates that look swapped: `[lat, lon]` written where `[lon, lat]` belongs.

A swapped point still parses (both numbers are valid degrees near the equator
and in much of the Middle East), so the loader cannot refuse it; it just moves
the feature tens or hundreds of kilometres and silently changes which incidents
break a rule. These checks look for the signs of it:

- a feature far from the agreement's other features (at least `FAR_KM` and ten
  times their typical spread), above all when swapping its numbers would bring it
  back among them;
- a feature outside the agreement's region: its `area` (a zone or polygon
  feature, with a margin), or the longitude band and hemisphere of a declared UTM
  `crs` — a latitude outside the region's range is named as such.

Each finding is a `CoordinateWarning`; `truce agreements validate` prints them.

>>> from shapely.geometry import Point
>>> from truce.domain.model import Feature
>>> f = {k: Feature(k, "point", Point(*xy)) for k, xy in
...      {"a": (37.13, 36.25), "b": (37.16, 36.24), "c": (36.25, 37.13)}.items()}
>>> [w.feature for w in swapped_coordinate_warnings(f)]
['c']
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from truce.domain.model import Agreement, Feature

__all__ = [
    "FAR_KM",
    "CoordinateWarning",
    "agreement_coordinate_warnings",
    "swapped_coordinate_warnings",
]

FAR_KM = 50.0  # a feature this far from all the others is suspicious in any agreement
SPREAD_FACTOR = 10.0  # ... and so is one ten times farther out than the others' typical spread
REGION_MARGIN_DEG = 0.5  # about 50 km around a declared area
UTM_MARGIN_DEG = 3.0  # UTM is used a little beyond its six-degree band
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class CoordinateWarning:
    feature: str
    message: str

    def __str__(self) -> str:
        return f"features.{self.feature}: {self.message}"


def _km(lon1: float, lat1: float, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle distances (haversine), km."""
    p1, p2 = math.radians(lat1), np.radians(lat2)
    dlat, dlon = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dlat / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _where(geometry: BaseGeometry) -> tuple[float, float]:
    p = shapely.point_on_surface(geometry) if not geometry.is_empty else geometry
    return (float(p.x), float(p.y))


def swapped_coordinate_warnings(features: Mapping[str, Feature]) -> list[CoordinateWarning]:
    """Features far from the others (see the module docstring)."""
    ids = list(features)
    if len(ids) < 2:
        return []
    lonlat = np.array([_where(features[i].geometry) for i in ids], dtype=np.float64)
    out: list[tuple[float, CoordinateWarning]] = []
    for k, fid in enumerate(ids):
        others = np.delete(lonlat, k, axis=0)
        lon0, lat0 = np.median(others[:, 0]), np.median(others[:, 1])
        spread = float(np.median(_km(lon0, lat0, others[:, 0], others[:, 1])))
        limit = max(FAR_KM, SPREAD_FACTOR * spread)
        lon, lat = lonlat[k]
        away = float(_km(lon0, lat0, np.array([lon]), np.array([lat]))[0])
        if away <= limit:
            continue
        swapped = float(_km(lon0, lat0, np.array([lat]), np.array([lon]))[0])
        swap_helps = abs(lat) <= 180 and abs(lon) <= 90 and swapped <= limit
        if len(ids) == 2 and not swap_helps:
            continue  # two features far apart: nothing says which one is off
        message = (
            f"lies {away:,.0f} km from the agreement's other features "
            f"(they are within about {max(spread, 1):,.0f} km of each other)"
        )
        if swap_helps:
            message += (
                f"; written as [lon, lat] = [{lat:g}, {lon:g}] it would lie {swapped:,.0f} km "
                "from them — agreement coordinates are [lon, lat], longitude first"
            )
        out.append((swapped, CoordinateWarning(fid, message)))
    if len(ids) == 2 and len(out) == 2:
        # Either of two features could be the swapped one: the one that swapping fixes better.
        out = [min(out, key=lambda found: found[0])]
    return [warning for _, warning in out]


def _utm_band(crs: str | None) -> tuple[float, float, bool] | None:
    """(west, east, northern) of a WGS84 UTM zone CRS, else None."""
    m = re.fullmatch(r"EPSG:(326|327)(\d{2})", (crs or "").strip().upper())
    if not m or not 1 <= int(m.group(2)) <= 60:
        return None
    zone = int(m.group(2))
    return (zone * 6 - 186.0, zone * 6 - 180.0, m.group(1) == "326")


def _area_geometry(agreement: Agreement) -> tuple[BaseGeometry, float] | None:
    """The area's feature geometry and its buffer in degrees (roughly), if declared."""
    if not agreement.area:
        return None
    if agreement.area in agreement.features:
        return agreement.features[agreement.area].geometry, 0.0
    zone = next((z for z in agreement.zones if z.id == agreement.area), None)
    if zone is None or zone.feature not in agreement.features:
        return None
    return agreement.features[zone.feature].geometry, (zone.distance_m or 0.0) / 111_000


def region_warnings(agreement: Agreement) -> list[CoordinateWarning]:
    """Features outside the agreement's declared area or its UTM `crs` band."""
    out = []
    area = _area_geometry(agreement)
    band = _utm_band(agreement.crs)
    for fid, feature in agreement.features.items():
        lon, lat = _where(feature.geometry)
        if area is not None and fid != agreement.area:
            geometry, buffer_deg = area
            west, south, east, north = geometry.bounds
            pad = buffer_deg + REGION_MARGIN_DEG
            lo_lat, hi_lat = south - pad, north + pad
            if not (west - pad <= lon <= east + pad and lo_lat <= lat <= hi_lat):
                where = (
                    f"lat {lat:g} is outside the region's latitude range {lo_lat:.2f}–{hi_lat:.2f}"
                    if not lo_lat <= lat <= hi_lat
                    else f"lon {lon:g} is outside the region's longitude range "
                    f"{west - pad:.2f}–{east + pad:.2f}"
                )
                hint = (
                    "; swapped it would lie inside — agreement coordinates are [lon, lat]"
                    if west - pad <= lat <= east + pad and lo_lat <= lon <= hi_lat
                    else ""
                )
                out.append(
                    CoordinateWarning(
                        fid, f"outside the agreement's area '{agreement.area}': {where}{hint}"
                    )
                )
                continue
        if band is not None:
            west, east, northern = band
            inside_band = west - UTM_MARGIN_DEG <= lon <= east + UTM_MARGIN_DEG
            right_side = lat >= -1 if northern else lat <= 1
            if not (inside_band and right_side):
                hint = (
                    "; swapped it would fit — agreement coordinates are [lon, lat]"
                    if west - UTM_MARGIN_DEG <= lat <= east + UTM_MARGIN_DEG
                    else ""
                )
                out.append(
                    CoordinateWarning(
                        fid,
                        f"at lon {lon:g}, lat {lat:g} it is outside the band of its crs "
                        f"{agreement.crs} ({west:g}° to {east:g}° "
                        f"{'north' if northern else 'south'}){hint}",
                    )
                )
    return out


def agreement_coordinate_warnings(agreement: Agreement) -> list[CoordinateWarning]:
    """Every coordinate warning for `agreement`, one per feature at most."""
    seen: set[str] = set()
    out = []
    for w in region_warnings(agreement) + swapped_coordinate_warnings(agreement.features):
        if w.feature not in seen:
            seen.add(w.feature)
            out.append(w)
    return sorted(out, key=lambda w: w.feature)
