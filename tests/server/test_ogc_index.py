"""The OGC point index against brute force."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from truce.api import ogc
from truce.api.ogc.points import NAT, PointIndex, times_ns
from truce.store.packed import DOCS_PER_BLOCK

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
    assert idx.order.dtype == np.int32  # positions held at half the size
    for b in (bbox, None):
        rows = idx.query(b, interval, None if visible is None else visible[idx.order])
        assert np.all(np.diff(rows) > 0), "rows come in index order"
        assert set(idx.order[rows].tolist()) == brute(lon, lat, t, b, interval, visible)


def test_an_index_of_moved_rows_reuses_them_and_equals_a_fresh_build():
    """A refresh read whole moves most incidents down a position or more: the rows held
    before are found by their digests wherever they moved to, and only the new or
    changed ones are parsed; the index is the one a fresh build makes."""
    from tests.server.test_packed import _incident, _packed

    from truce.api.ogc.agreement_index import AgreementIndex, _Reuse

    n = 3 * DOCS_PER_BLOCK * 50
    before = [_incident(i) for i in range(n)]
    after = [_incident(n + 1), *before[:10], {**before[10], "lon": 12.5}, *before[11:]]
    del after[200]  # a row gone
    old = AgreementIndex.build("a", 1, None, {"incidents": _packed(before, {}), "violations": []})
    data = {"incidents": _packed(after, {}), "violations": []}
    reuse = _Reuse.of(old, data["incidents"])
    assert reuse.changed.tolist() == [0, 11]  # the new row and the changed one
    assert reuse.source[1] == 0 and reuse.source[12] == 11 and reuse.source[-1] == n - 1
    reused = AgreementIndex.build("a", 2, None, data, previous=old)
    fresh = AgreementIndex.build("a", 2, None, data)
    for name in ("lon", "lat", "t_ns", "order"):
        assert (getattr(reused.incidents, name) == getattr(fresh.incidents, name)).all()
    assert reused.incident_keys == fresh.incident_keys


def test_rows_whose_digests_half_collide_are_parsed_not_reused(monkeypatch):
    from tests.server.test_packed import _incident, _packed

    from truce.api.ogc.agreement_index import AgreementIndex, _Reuse
    from truce.store.packed import PackedIncidents

    real = PackedIncidents.row_digests

    def first_half_collides(self: PackedIncidents) -> np.ndarray:
        d = real(self).copy()
        d[:, 0] = 7  # every row's first 64 bits alike: the second 64 tell them apart
        return d

    before = [_incident(i) for i in range(40)]
    after = [_incident(99), *before]
    old = AgreementIndex.build("a", 1, None, {"incidents": _packed(before, {}), "violations": []})
    monkeypatch.setattr(PackedIncidents, "row_digests", first_half_collides)
    data = {"incidents": _packed(after, {}), "violations": []}
    reuse = _Reuse.of(old, data["incidents"])
    # Only the candidate the search lands on can match; every other row is parsed.
    assert len(reuse.changed) >= len(after) - 1
    reused = AgreementIndex.build("a", 2, None, data, previous=old)
    fresh = AgreementIndex.build("a", 2, None, data)
    assert (reused.incidents.lon == fresh.incidents.lon).all()
    assert (reused.incidents.t_ns == fresh.incidents.t_ns).all()


def test_a_packed_evaluations_points_are_read_from_its_text_exactly_as_parsed(monkeypatch):
    """An index made from nothing reads the coordinates and times of a packed evaluation
    field by field from its rows' text (`_packed_point_columns`): every value equal to
    the bit to what parsing each row gives, over several steps; a row stored as an
    object makes it parse instead, with the same result."""
    import random

    from truce.api.ogc import agreement_index
    from truce.store.packed import INCIDENT_FIELDS, PackedIncidents

    monkeypatch.setattr(agreement_index, "REPORT_INDEX_ROWS", 997)  # several steps
    rng = random.Random(5)
    items = []
    for i in range(3000):
        item = dict.fromkeys(INCIDENT_FIELDS)
        lon = rng.choice([rng.uniform(-180, 180), rng.random() * 1e-7, -0.0, 36.0, 1 / 3])
        item.update(
            key=f"s:{i}",
            report_ids=[f"s:{i}"],
            lon=lon,
            lat=rng.uniform(-90, 90),
            observed_at=f"2016-09-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:07"
            + rng.choice(["", ".5", ".123456"])
            + rng.choice(["+03:00", "+00:00", "-04:30", "Z"]),
        )
        items.append(item)
    packed = PackedIncidents.of_items(items, {})
    want = agreement_index._point_columns(items, np.arange(len(items)))  # parsed
    got = agreement_index._packed_point_columns(packed)
    assert got is not None
    for a, b in zip(got, want, strict=True):
        assert a.tobytes() == b.tobytes()
    some = np.array([5, 17, 2999])
    for a, b in zip(agreement_index._point_columns(packed, np.arange(3000)), want, strict=True):
        assert a.tobytes() == b.tobytes()
    for a, b in zip(agreement_index._point_columns(packed, some), want, strict=True):
        assert a.tobytes() == b[some].tobytes()  # a few: parsed, the same
    items[7] = {**items[7], "review_key": "other"}  # stored as an object
    mixed = PackedIncidents.of_items(items, {})
    assert agreement_index._packed_point_columns(mixed) is None
    for a, b in zip(agreement_index._point_columns(mixed, np.arange(3000)), want, strict=True):
        assert a.tobytes() == b.tobytes()


def test_times_read_by_arrow_are_the_instants_pandas_reads():
    """`times_ns` reads an Arrow column with Arrow's parser, and what Arrow refuses (no
    offset, a date alone, a missing time) with pandas: either way the same instants as
    the list of `str`s gives."""
    import pyarrow as pa

    plain = ["2016-09-12T22:00:00+03:00", "2016-09-12T19:00:00.25Z", "2016-09-12T22:00-00:30"]
    refused = [*plain, "2016-09-12T22:00:00", "2016-09-12"]
    for values in (plain, refused, [*plain, None]):
        want = times_ns(values)
        got = times_ns(pa.array(values, pa.string()))
        assert got.tolist() == want.tolist()
    assert times_ns(pa.array(plain, pa.string()))[:2].tolist() == [
        1_473_706_800_000_000_000,
        1_473_706_800_250_000_000,
    ]
    assert times_ns(pa.array([None], pa.string()))[0] == NAT
