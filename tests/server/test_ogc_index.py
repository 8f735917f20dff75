"""The OGC point index and encoded features, against brute force and the dict path."""

from __future__ import annotations

import numpy as np
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from truce.api import ogc
from truce.api.ogc.encoded import EncodedIncidents
from truce.api.ogc.points import NAT, PointIndex

coord = st.floats(-180, 180, allow_nan=False).map(lambda v: round(v, 3))
lat_coord = st.floats(-90, 90, allow_nan=False).map(lambda v: round(v, 3))
points = st.lists(st.tuples(coord, lat_coord, st.integers(0, 9)), min_size=0, max_size=60)


def brute(lon, lat, t, bbox, interval, visible):
    keep = np.ones(len(lon), dtype=bool)
    if bbox is not None:
        in_lon = np.zeros(len(lon), dtype=bool)
        for lo, hi in bbox.lon_ranges():
            in_lon |= (lon >= lo) & (lon <= hi)
        keep &= in_lon & (lat >= bbox.miny) & (lat <= bbox.maxy)
    if interval is not None:
        keep &= t != NAT
        if interval.start_ns is not None:
            keep &= t >= interval.start_ns
        if interval.end_ns is not None:
            keep &= t <= interval.end_ns
    if visible is not None:
        keep &= visible
    return set(np.flatnonzero(keep).tolist())


@settings(max_examples=300, deadline=None)
@given(
    pts=points,
    box=st.tuples(coord, lat_coord, coord, lat_coord),
    on_point=st.booleans(),
    window=st.none() | st.tuples(st.none() | st.integers(0, 9), st.none() | st.integers(0, 9)),
    hide=st.none() | st.integers(0, 2**60),
)
def test_point_index_query_finds_exactly_the_points_brute_force_finds(
    pts, box, on_point, window, hide
):
    lon = np.array([p[0] for p in pts], dtype=np.float64)
    lat = np.array([p[1] for p in pts], dtype=np.float64)
    t = np.array([NAT if p[2] == 9 else p[2] for p in pts], dtype=np.int64)
    minx, miny, maxx, maxy = box
    if on_point and pts:  # a box whose edges pass exactly through a stored point
        minx, miny = pts[0][0], pts[0][1]
    bbox = ogc.Bbox(minx, min(miny, maxy), maxx, max(miny, maxy))  # minx > maxx: antimeridian
    interval = None if window is None else ogc.Interval(*window)
    visible = None
    if hide is not None:
        visible = np.array([(hide >> (i % 60)) & 1 == 0 for i in range(len(pts))], dtype=bool)
    idx = PointIndex.build(lon, lat, t)
    for b in (bbox, None):
        rows = idx.query(b, interval, None if visible is None else visible[idx.order])
        assert np.all(np.diff(rows) > 0), "rows come in index order"
        assert set(idx.order[rows].tolist()) == brute(lon, lat, t, b, interval, visible)


def test_encoded_features_are_the_dict_features():
    incidents = [
        {
            "id": f"inc-{i}",
            "key": f"s:{i}",
            "report_ids": [f"s:{i}"],
            "sources": ["s", "ngo"][: 1 + i % 2],
            "event_type": "shelling",
            "weapon": None if i % 3 else "artillery",
            "observed_at": "2016-09-13T04:10:00+03:00",
            "lon": 37.1 + i / 100,
            "lat": 36.2,
            "precision_m": None,
            "party": "gov",
            "target": "Jabhat Fateh al-Sham — “قوات”" if i == 2 else None,
            "corroboration": 1 + i % 2,
            "grade": "B2",
            "count": None,
            "fatalities": 3 if i == 1 else None,
            "violations": [],
        }
        for i in range(5)
    ]
    order = np.array([3, 1, 4, 0, 2])
    enc = EncodedIncidents(incidents, order)
    rows = np.array([4, 0, 2])
    published = np.array([True, False, False])
    violations = np.array([0, 2, 0])
    ready = {2: orjson.dumps({"type": "Feature", "id": "special"})}
    got = orjson.loads(enc.join(rows, published, violations, ready))
    expected = [
        ogc.incident_feature({**incidents[2], "published": True}),
        ogc.incident_feature({**incidents[3], "published": False, "violations": ["a", "b"]}),
        {"type": "Feature", "id": "special"},
    ]
    assert got == expected
    assert orjson.loads(enc.join(rows[:0], published[:0], violations[:0], {})) == []
    # Pages of consecutive and scattered rows, any mix of values, against the dicts.
    rng = np.random.default_rng(3)
    for _ in range(200):
        rows = np.sort(rng.choice(5, rng.integers(1, 6), replace=False))
        published = rng.random(len(rows)) < 0.3
        violations = np.where(rng.random(len(rows)) < 0.3, rng.integers(1, 3, len(rows)), 0)
        expected = [
            ogc.incident_feature(
                {**incidents[order[r]], "published": bool(p), "violations": ["v"] * int(n)}
            )
            for r, p, n in zip(rows, published, violations, strict=True)
        ]
        assert orjson.loads(enc.join(rows, published, violations, {})) == expected
