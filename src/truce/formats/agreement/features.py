"""Named geometry: each feature's one line, polygon or point, with coordinates
checked for range and for having been written [lat, lon]."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from truce.domain.model import Feature
from truce.formats.agreement.checker import Checker
from truce.formats.agreement.document import FeatureDoc
from truce.formats.agreement.yaml_paths import PathT

# A coordinate this far from the others, whose swap lies near them, was written [lat, lon].
SWAP_DISTANCE_KM = 500.0


def features(check: Checker, items: dict[str, Any]) -> dict[str, Feature]:
    """The valid features; records each one's kind in `check.feature_kinds`."""
    docs: dict[str, FeatureDoc] = {}
    for key, item in items.items():
        doc = check.validate(FeatureDoc, item, ("features", key))
        if doc is None:
            continue
        given = [k for k in ("line", "polygon", "point") if getattr(doc, k) is not None]
        if len(given) != 1:
            what = "none" if not given else " and ".join(given)
            check.add(
                ("features", key),
                f"a feature has exactly one of line, polygon or point (found {what})",
            )
            continue
        check.feature_kinds[key] = given[0]
        docs[key] = doc
    bad_coords = _check_coordinates(check, docs)
    out = {}
    for key, doc in docs.items():
        geometry = _geometry(check, key, doc, bad_coords)
        if geometry is not None:
            kind = check.feature_kinds[key]
            out[key] = Feature(key, kind, geometry, doc.name, doc.uncertainty_m, doc.note)  # type: ignore[arg-type]
    return out


def _haversine_km(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> Any:
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _in_range(lon: float, lat: float) -> bool:
    return -180 <= lon <= 180 and -90 <= lat <= 90 and math.isfinite(lon) and math.isfinite(lat)


def _check_coordinates(check: Checker, docs: dict[str, FeatureDoc]) -> set[PathT]:
    """Range and swapped-[lat, lon] checks over all coordinates; returns the bad paths."""
    coords: list[tuple[PathT, float, float]] = []
    for key, doc in docs.items():
        if doc.point is not None:
            coords.append((("features", key, "point"), *doc.point))
        for kind in ("line", "polygon"):
            for i, c in enumerate(getattr(doc, kind) or []):
                coords.append((("features", key, kind, i), *c))
    bad: set[PathT] = set()
    good = [(p, lon, lat) for p, lon, lat in coords if _in_range(lon, lat)]
    centre = (
        (float(np.median([c[1] for c in good])), float(np.median([c[2] for c in good])))
        if good
        else None
    )
    for path, lon, lat in coords:
        if _in_range(lon, lat):
            continue
        bad.add(path)
        which = (
            f"longitude {lon} is outside -180..180"
            if not -180 <= lon <= 180
            else f"latitude {lat} is outside -90..90"
        )
        swap_fits = _in_range(lat, lon) and (
            centre is None or _haversine_km(lat, lon, *centre) <= SWAP_DISTANCE_KM
        )
        hint = f"; it looks like [lat, lon]: write [{lat}, {lon}]" if swap_fits else ""
        check.add(path, f"{which}; coordinates are [lon, lat] in WGS84 degrees{hint}", [lon, lat])
    if len(good) < 3:
        return bad
    lons = np.array([c[1] for c in good])
    lats = np.array([c[2] for c in good])
    for i, (path, lon, lat) in enumerate(good):
        others = np.arange(len(good)) != i
        mlon, mlat = float(np.median(lons[others])), float(np.median(lats[others]))
        if (
            _haversine_km(lon, lat, mlon, mlat) > SWAP_DISTANCE_KM
            and _in_range(lat, lon)
            and _haversine_km(lat, lon, mlon, mlat) <= SWAP_DISTANCE_KM
        ):
            bad.add(path)
            check.add(
                path,
                f"[{lon}, {lat}] lies far from the agreement's other coordinates and looks like "
                f"[lat, lon]; coordinates are [lon, lat]: write [{lat}, {lon}]",
                [lon, lat],
            )
    return bad


def _geometry(check: Checker, key: str, doc: FeatureDoc, bad: set[PathT]) -> BaseGeometry | None:
    kind = check.feature_kinds[key]
    path: PathT = ("features", key, kind)
    if any(p[: len(path)] == path for p in bad):
        return None
    if doc.point is not None:
        return Point(doc.point)
    if doc.line is not None:
        if len(set(doc.line)) < 2:
            check.add(path, f"a line needs at least 2 distinct points (found {len(set(doc.line))})")
            return None
        return LineString(doc.line)
    ring = list(doc.polygon or [])
    if len(set(ring)) < 3:
        check.add(path, f"a polygon needs at least 3 distinct points (found {len(set(ring))})")
        return None
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    polygon = Polygon(ring)
    if not polygon.is_valid:
        reason = shapely.is_valid_reason(polygon)
        check.add(path, f"polygon is not valid ({reason}); its edges must not cross or touch", None)
        return None
    return polygon
