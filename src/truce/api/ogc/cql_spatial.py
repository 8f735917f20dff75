"""CQL2 spatial literals and functions over points, for `cql_mask`.

Geometry literals (WKT or GeoJSON, BBOX(...), an envelope) become shapely
geometries in CRS84; a bounding box across the antimeridian is two polygons. The
S_ functions are computed for all points in one shapely call.

Separate from `cql_mask`, which resolves the operands and combines the results:
what a geometry literal is, and how points relate to it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from pygeofilter import ast, values

from truce.api.ogc.columns import Points
from truce.api.ogc.params import Bbox
from truce.errors import BadInput


def spatial_relation(name: str, points: Points, geometry: Any) -> np.ndarray:
    """Whether S_`name` (lower case, e.g. "s_within") holds between each point and `geometry`."""
    shapely.prepare(geometry)
    x, y = points.lon, points.lat
    if name == "s_intersects":
        result = shapely.intersects_xy(geometry, x, y)
    elif name == "s_disjoint":
        result = ~shapely.intersects_xy(geometry, x, y)
    elif name == "s_within":  # a point is within what contains it (not on its boundary)
        result = shapely.contains_xy(geometry, x, y)
    else:
        predicate = getattr(shapely, name[2:])
        result = predicate(shapely.points(x, y), geometry)
    return result


def box_geometry(box: Bbox) -> Any:
    parts = box.polygons()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def geometry_literal(value: Any) -> Any:
    """A geometry literal (WKT/GeoJSON, BBOX(...)) as a shapely geometry in CRS84."""
    if isinstance(value, ast.Function) and value.name == "bbox":
        args = value.arguments
        if len(args) not in (4, 6) or not all(isinstance(a, int | float) for a in args):
            raise BadInput("filter: BBOX takes 4 numbers: minx, miny, maxx, maxy")
        minx, miny, maxx, maxy = (args[0], args[1], args[3], args[4]) if len(args) == 6 else args
        return box_geometry(Bbox(minx, miny, maxx, maxy))
    if isinstance(value, values.Envelope):
        return shapely.box(value.x1, value.y1, value.x2, value.y2)
    if isinstance(value, values.Geometry):
        geo = dict(value.geometry)
        crs = geo.pop("crs", None)
        if crs is not None and "4326" not in str(crs) and "CRS84" not in str(crs):
            raise BadInput(
                f"filter: geometry in {crs}; only CRS84 (longitude, latitude) is supported"
            )
        box = geo.pop("bbox", None)
        if box is not None and geo.get("type") == "Polygon" and len(box) == 4 and box[0] > box[2]:
            return box_geometry(Bbox(*box))  # a cql2-json bbox across the antimeridian
        try:
            return shapely.geometry.shape(geo)
        except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException) as exc:
            raise BadInput(f"filter: geometry not understood: {exc}") from None
    raise BadInput(f"filter: {value!r} is not a geometry; give POINT(…), POLYGON((…)) or BBOX(…)")
